// SPDX-License-Identifier: MIT
// Client management calls: listing and inspecting stored instances, deleting and purging them.
#include <duroxide/client.hpp>

#include <algorithm>
#include <limits>
#include <utility>

#include "api/src/client_input.hpp"
#include "api/src/history_json.hpp"
#include "api/src/instance_tree.hpp"

namespace duroxide {
namespace {

using detail::check_text;
using detail::invalid;

/// Most instances one purge commit deletes: a bound on the size of one write txn.
constexpr std::size_t kPurgeBatchInstances = 1000;

std::chrono::system_clock::time_point to_time(TimestampMs ms) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(ms)));
}

TimestampMs to_ms(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

OrchestrationStatus::Kind kind_of(InstanceState state) {
  switch (state) {
    case InstanceState::Completed:
      return OrchestrationStatus::Kind::Completed;
    case InstanceState::Failed:
      return OrchestrationStatus::Kind::Failed;
    case InstanceState::Running:
      break;
  }
  return OrchestrationStatus::Kind::Running;
}

InstanceInfo info_of(InstanceRecord row) {
  InstanceInfo info;
  info.instance_id = std::move(row.instance_id);
  info.name = std::move(row.name);
  info.version = std::move(row.version);
  info.status = kind_of(row.state);
  info.execution_id = row.execution_id;
  info.created_at = to_time(row.created_at);
  info.updated_at = to_time(row.updated_at);
  info.parent_id = std::move(row.parent_id);
  info.recovery_attempts = row.recovery_attempts;
  info.suspended = row.state == InstanceState::Running && row.suspended;
  info.custom_status = std::move(row.custom_status);
  if (row.state == InstanceState::Completed) info.output = std::move(row.output);
  if (row.state == InstanceState::Failed) info.error = std::move(row.error);
  return info;
}

Result<InstanceQuery, Error> provider_query(const InstanceListQuery& query) {
  if (query.page_size == 0) return Err(invalid("page_size is 0").error());
  if (auto r = detail::check_length("id_prefix", query.id_prefix, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  if (auto r = detail::check_length("start_after", query.start_after, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  InstanceQuery out;
  out.id_prefix = query.id_prefix;
  out.start_after = query.start_after;
  // One row more than the page tells whether another page follows.
  out.limit = query.page_size == std::numeric_limits<std::size_t>::max() ? 0 : query.page_size + 1;
  if (!query.status) return out;
  switch (*query.status) {
    case OrchestrationStatus::Kind::Running:
      out.state = InstanceState::Running;
      break;
    case OrchestrationStatus::Kind::Completed:
      out.state = InstanceState::Completed;
      break;
    case OrchestrationStatus::Kind::Failed:
      out.state = InstanceState::Failed;
      break;
    case OrchestrationStatus::Kind::NotFound:
      return Err(
          invalid("status NotFound lists nothing: use Running, Completed or Failed").error());
  }
  return out;
}

Error not_found(std::string_view instance_id) {
  return Error{ErrorCode::NotFound, "instance '" + std::string(instance_id) + "' not found"};
}

}  // namespace

Result<InstancePage, Error> Client::list_instances(const InstanceListQuery& query) {
  auto wanted = provider_query(query);
  if (!wanted) return Err(wanted.error());
  auto rows = store_->list_instances(*wanted);
  if (!rows) return Err(rows.error());
  InstancePage page;
  if (rows->size() > query.page_size) {
    rows->resize(query.page_size);
    page.next_start_after = rows->back().instance_id;
  }
  page.instances.reserve(rows->size());
  for (auto& row : *rows) page.instances.push_back(info_of(std::move(row)));
  return page;
}

Result<InstanceInfo, Error> Client::get_instance_info(std::string_view instance_id) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  auto row = store_->read_instance(std::string(instance_id));
  if (!row) return Err(row.error());
  return info_of(std::move(*row));
}

Result<std::vector<std::uint64_t>, Error> Client::list_executions(std::string_view instance_id) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  const std::string id(instance_id);
  if (auto row = store_->read_instance(id); !row) return Err(row.error());
  return store_->list_executions(id);
}

Result<std::size_t, Error> Client::purge_executions(std::string_view instance_id) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  const std::string id(instance_id);
  auto row = store_->read_instance(id);
  if (!row) return Err(row.error());
  auto executions = store_->list_executions(id);
  if (!executions) return Err(executions.error());
  const auto old = static_cast<std::size_t>(
      std::count_if(executions->begin(), executions->end(),
                    [&](std::uint64_t execution) { return execution < row->execution_id; }));
  if (old == 0) return std::size_t{0};
  WriteBatch batch;
  batch.purged_executions.emplace_back(id, row->execution_id);
  if (auto done = store_->commit_sync(std::move(batch)); !done) return Err(done.error());
  return old;
}

Result<std::vector<HistoryEvent>, Error> Client::read_history(std::string_view instance_id,
                                                              std::uint64_t execution_id) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  const std::string id(instance_id);
  if (auto row = store_->read_instance(id); !row) return Err(row.error());
  auto history = store_->read_history(id, execution_id);
  if (history && history->empty()) {
    return Err(Error{ErrorCode::NotFound, "instance '" + id + "' has no history of execution " +
                                              std::to_string(execution_id)});
  }
  return history;
}

Result<std::string, Error> Client::read_history_json(std::string_view instance_id,
                                                     std::uint64_t execution_id) {
  auto history = read_history(instance_id, execution_id);
  if (!history) return Err(history.error());
  return detail::history_json(*history);
}

Result<std::size_t, Error> Client::delete_instance(std::string_view instance_id, bool force) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  const std::string id(instance_id);
  auto tree = detail::InstanceTree::load(*store_);
  if (!tree) return Err(tree.error());
  if (tree->find(id) == nullptr) return Err(not_found(id));
  std::vector<std::string> ids = tree->subtree(id);
  if (const std::string* running = tree->first_running(ids); running != nullptr && !force) {
    const std::string whose = *running == id ? "it" : "its sub-orchestration '" + *running + "'";
    return Err(invalid("instance '" + id + "' is not finished: " + whose +
                       " is running; delete it with force = true")
                   .error());
  }
  WriteBatch batch;
  batch.instance_id = id;  // a concurrent deletion of the same instance makes this NotFound
  batch.precondition = WriteBatch::Precondition::InstancePresent;
  batch.deleted_instances = std::move(ids);
  const std::size_t count = batch.deleted_instances.size();
  if (auto done = store_->commit_sync(std::move(batch)); !done) return Err(done.error());
  return count;
}

Result<std::size_t, Error> Client::purge_instances(
    std::chrono::system_clock::time_point finished_before) {
  const TimestampMs before = to_ms(finished_before);
  auto tree = detail::InstanceTree::load(*store_);
  if (!tree) return Err(tree.error());
  std::size_t removed = 0;
  WriteBatch batch;
  auto flush = [&]() -> Result<void, Error> {
    if (batch.deleted_instances.empty()) return {};
    const std::size_t count = batch.deleted_instances.size();
    if (auto done = store_->commit_sync(std::exchange(batch, WriteBatch{})); !done) return done;
    removed += count;
    return {};
  };
  for (const auto& root : tree->roots()) {
    const auto* node = tree->find(root);
    if (node->state == InstanceState::Running || node->updated_at >= before) continue;
    std::vector<std::string> ids = tree->subtree(root);
    if (tree->first_running(ids) != nullptr) continue;
    batch.deleted_instances.insert(batch.deleted_instances.end(), ids.begin(), ids.end());
    if (batch.deleted_instances.size() < kPurgeBatchInstances) continue;
    if (auto flushed = flush(); !flushed) return Err(flushed.error());
  }
  if (auto flushed = flush(); !flushed) return Err(flushed.error());
  return removed;
}

}  // namespace duroxide
