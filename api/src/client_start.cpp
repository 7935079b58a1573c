// SPDX-License-Identifier: MIT
// Client: every way to start instances, through one batch builder: plain and versioned starts,
// starts with IfExists, and many starts in one commit.
#include <duroxide/client.hpp>

#include <chrono>
#include <optional>
#include <utility>

#include "api/src/client_input.hpp"
#include "api/src/instance_tree.hpp"

namespace duroxide {
namespace {

using detail::now_ms;

using detail::check_text;
using detail::invalid;

Error already_exists(const std::string& message) {
  return Error{ErrorCode::AlreadyExists, message};
}

Result<void, Error> check_request(const StartRequest& request) {
  if (auto r = check_text("instance id", request.instance_id, kMaxInstanceIdBytes); !r) return r;
  if (auto r = check_text("orchestration name", request.name, kMaxNameBytes); !r) return r;
  if (request.options.version.size() > kMaxNameBytes) return invalid("version is too long");
  return detail::check_length("input", request.input, kMaxPayloadBytes);
}

/// The batch that starts `request`: its row and its StartOrchestration message. The store
/// decides inside the commit whether the id is free (see the preconditions chosen here).
WriteBatch start_batch(StartRequest request, TimestampMs now) {
  WriteBatch batch;
  batch.instance_id = std::move(request.instance_id);
  batch.precondition = request.options.if_exists == IfExists::ReplaceFinished
                           ? WriteBatch::Precondition::InstanceAbsentOrFinished
                           : WriteBatch::Precondition::InstanceAbsent;
  InstanceRecord row;
  row.instance_id = batch.instance_id;
  row.name = request.name;
  // An empty version asks the runtime for the latest registered one when the instance starts.
  row.version = request.options.version;
  row.created_at = row.updated_at = now;
  batch.instance = std::move(row);
  OrchestratorMessage start;
  start.instance_id = batch.instance_id;
  start.execution_id = 1;
  start.kind = MessageKind::StartOrchestration;
  start.visible_at = now;
  start.name = std::move(request.name);
  start.version = std::move(request.options.version);
  start.data = std::move(request.input);
  batch.messages.push_back(std::move(start));
  return batch;
}

/// What ReplaceFinished deletes before it starts the instance again: the instance and its
/// sub-orchestrations, as delete_instance would. The instance's own id is always listed (an id
/// without a row is skipped), so that an instance that appears and finishes before the commit
/// is still replaced whole rather than overwritten. Returns: AlreadyExists for an instance that
/// was Running when read (the commit checks again), and for a finished one whose
/// sub-orchestration still runs: ReplaceFinished never deletes running instances.
class Replacements {
 public:
  explicit Replacements(Provider& store) : store_(store) {}

  Result<std::vector<std::string>, Error> deletions(const std::string& id) {
    auto row = store_.read_instance(id);
    if (!row && row.error().code == ErrorCode::NotFound) return std::vector<std::string>{id};
    if (!row) return Err(row.error());
    if (row->state == InstanceState::Running) return Err(running(id));
    if (!tree_) {
      auto tree = detail::InstanceTree::load(store_);
      if (!tree) return Err(tree.error());
      tree_ = std::move(*tree);
    }
    std::vector<std::string> ids = tree_->subtree(id);
    if (const std::string* child = tree_->first_running(ids); child != nullptr) {
      if (*child == id) return Err(running(id));  // it ran again after the row was read
      return Err(already_exists("instance '" + id + "' is finished but its sub-orchestration '" +
                                *child + "' is running: it is not replaced"));
    }
    return ids;
  }

 private:
  static Error running(const std::string& id) {
    return already_exists("instance '" + id + "' exists and is running");
  }

  Provider& store_;
  std::optional<detail::InstanceTree> tree_;  ///< read once, at the first finished instance
};

/// The requests made into batches, in order: results[i] is set for a request that is refused
/// before the commit; the others have their batch in `batches`, at batch_of[i].
struct Plan {
  std::vector<Result<void, Error>> results;
  std::vector<std::optional<std::size_t>> batch_of;
  std::vector<IfExists> if_exists;
  std::vector<WriteBatch> batches;
};

Plan plan_starts(Provider& store, std::vector<StartRequest> requests) {
  Plan plan;
  plan.results.resize(requests.size());
  plan.batch_of.resize(requests.size());
  plan.if_exists.resize(requests.size());
  Replacements replacements(store);
  const TimestampMs now = now_ms();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    StartRequest& request = requests[i];
    plan.if_exists[i] = request.options.if_exists;
    if (auto checked = check_request(request); !checked) {
      plan.results[i] = std::move(checked);
      continue;
    }
    std::vector<std::string> deleted;
    if (request.options.if_exists == IfExists::ReplaceFinished) {
      auto ids = replacements.deletions(request.instance_id);
      if (!ids) {
        plan.results[i] = Err(ids.error());
        continue;
      }
      deleted = std::move(*ids);
    }
    WriteBatch batch = start_batch(std::move(request), now);
    batch.deleted_instances = std::move(deleted);
    plan.batch_of[i] = plan.batches.size();
    plan.batches.push_back(std::move(batch));
  }
  return plan;
}

/// Ignore turns the store's AlreadyExists into success: the store decided that the id was
/// taken, inside the commit.
Result<void, Error> outcome(IfExists if_exists, Result<void, Error> committed) {
  if (!committed && if_exists == IfExists::Ignore &&
      committed.error().code == ErrorCode::AlreadyExists) {
    return {};
  }
  return committed;
}

}  // namespace

Result<void, Error> Client::start_orchestration(std::string_view instance_id, std::string_view name,
                                                std::string input) {
  return start_orchestration(instance_id, name, std::move(input), StartOptions{});
}

Result<void, Error> Client::start_orchestration_versioned(std::string_view instance_id,
                                                          std::string_view name,
                                                          std::string_view version,
                                                          std::string input) {
  StartOptions options;
  options.version = std::string(version);
  return start_orchestration(instance_id, name, std::move(input), std::move(options));
}

Result<void, Error> Client::start_orchestration(std::string_view instance_id, std::string_view name,
                                                std::string input, StartOptions options) {
  std::vector<StartRequest> one;
  one.push_back(StartRequest{std::string(instance_id), std::string(name), std::move(input),
                             std::move(options)});
  Plan plan = plan_starts(*store_, std::move(one));
  if (!plan.batch_of[0]) return std::move(plan.results[0]);
  return outcome(plan.if_exists[0], store_->commit_sync(std::move(plan.batches[0])));
}

std::vector<Result<void, Error>> Client::start_orchestrations(std::vector<StartRequest> requests) {
  Plan plan = plan_starts(*store_, std::move(requests));
  if (!plan.batches.empty()) {
    std::vector<Result<void, Error>> committed = store_->commit_group_sync(std::move(plan.batches));
    for (std::size_t i = 0; i < plan.results.size(); ++i) {
      if (plan.batch_of[i]) {
        plan.results[i] = outcome(plan.if_exists[i], std::move(committed[*plan.batch_of[i]]));
      }
    }
  }
  return std::move(plan.results);
}

}  // namespace duroxide
