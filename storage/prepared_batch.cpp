// SPDX-License-Identifier: MIT
// Validation and encoding of write batches before they are queued for the writer thread.
#include "storage/prepared_batch.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "storage/codec.hpp"

namespace duroxide::storage {
namespace {

Error invalid(std::string message) { return Error{ErrorCode::InvalidArgument, std::move(message)}; }

std::string id_rule(const std::string& id) {
  return "instance id '" + id.substr(0, 64) + (id.size() > 64 ? "...'" : "'") + " of " +
         std::to_string(id.size()) + " bytes: ids must be 1.." +
         std::to_string(kMaxInstanceIdBytes) + " bytes";
}

// A batch may delete instances or write to them, not both: which would win is no rule a
// caller should have to remember. The one exception is the batch's own instance, which is
// deleted before anything is written (a replacing start).
std::optional<Error> check_deletions(const WriteBatch& batch) {
  if (batch.deleted_instances.empty()) return std::nullopt;
  std::set<std::string_view> deleted(batch.deleted_instances.begin(),
                                     batch.deleted_instances.end());
  deleted.erase(batch.instance_id);
  auto both = [](std::string_view id) {
    return invalid("batch deletes instance '" + std::string(id.substr(0, 64)) +
                   "' and writes to it");
  };
  for (const auto& message : batch.messages) {
    if (deleted.contains(message.instance_id)) return both(message.instance_id);
  }
  for (const auto& item : batch.activities) {
    if (deleted.contains(item.instance_id)) return both(item.instance_id);
  }
  return std::nullopt;
}

std::optional<Error> validate(const WriteBatch& batch) {
  const bool needs_id = batch.precondition != WriteBatch::Precondition::None ||
                        batch.instance.has_value() || !batch.history.empty();
  if (needs_id && !valid_instance_id(batch.instance_id)) return invalid(id_rule(batch.instance_id));
  if (batch.instance && batch.instance->instance_id != batch.instance_id) {
    return invalid("instance row of '" + batch.instance->instance_id +
                   "' in a batch for instance '" + batch.instance_id + "'");
  }
  for (const auto& message : batch.messages) {
    if (!valid_instance_id(message.instance_id))
      return invalid("message: " + id_rule(message.instance_id));
  }
  for (const auto& item : batch.activities) {
    if (!valid_instance_id(item.instance_id))
      return invalid("activity: " + id_rule(item.instance_id));
  }
  for (const auto& id : batch.deleted_instances) {
    if (!valid_instance_id(id)) return invalid("deletion: " + id_rule(id));
  }
  for (const auto& row : batch.created_instances) {
    if (!valid_instance_id(row.instance_id))
      return invalid("created instance: " + id_rule(row.instance_id));
  }
  for (const auto& [id, execution] : batch.purged_executions) {
    if (!valid_instance_id(id)) return invalid("purged executions: " + id_rule(id));
  }
  return check_deletions(batch);
}

void encode_into(PreparedBatch& out, const WriteBatch& batch) {
  if (batch.instance) out.instance_row = encode(*batch.instance);
  out.notice.instances = batch.instance.has_value();
  out.history.reserve(batch.history.size());
  for (const auto& event : batch.history) {
    out.history.emplace_back(
        encode_history_key(batch.instance_id, batch.execution_id, event.event_id), encode(event));
  }
  out.messages.reserve(batch.messages.size());
  for (const auto& message : batch.messages) {
    out.messages.emplace_back(message.visible_at, encode(message));
    ChangeNotice notice;
    notice.messages = true;
    notice.earliest_visible_at = message.visible_at;
    merge_notice(out.notice, notice);
  }
  out.activities.reserve(batch.activities.size());
  for (const auto& item : batch.activities) out.activities.push_back(encode(item));
  out.notice.activities = !batch.activities.empty();
  out.notice.instances =
      out.notice.instances || !batch.deleted_instances.empty() || !batch.created_instances.empty();
  out.created_instances.reserve(batch.created_instances.size());
  for (const auto& row : batch.created_instances) {
    out.created_instances.emplace_back(row.instance_id, encode(row));
  }
}

}  // namespace

void merge_notice(ChangeNotice& into, const ChangeNotice& other) {
  into.messages = into.messages || other.messages;
  into.activities = into.activities || other.activities;
  into.foreign = into.foreign || other.foreign;
  into.instances = into.instances || other.instances;
  if (other.earliest_visible_at &&
      (!into.earliest_visible_at || *other.earliest_visible_at < *into.earliest_visible_at)) {
    into.earliest_visible_at = other.earliest_visible_at;
  }
}

bool notice_has_news(const ChangeNotice& notice) {
  return notice.messages || notice.activities || notice.foreign || notice.instances;
}

PreparedBatch prepare_batch(WriteBatch batch, Provider::CommitCallback done) {
  PreparedBatch out;
  out.done = std::move(done);
  out.invalid = validate(batch);
  if (out.invalid) return out;
  out.instance_id = batch.instance_id;
  out.precondition = batch.precondition;
  out.replaces_own = std::find(batch.deleted_instances.begin(), batch.deleted_instances.end(),
                               batch.instance_id) != batch.deleted_instances.end();
  encode_into(out, batch);
  out.consumed_messages = std::move(batch.consumed_messages);
  out.consumed_activities = std::move(batch.consumed_activities);
  out.activity_attempts = std::move(batch.activity_attempts);
  out.deleted_instances = std::move(batch.deleted_instances);
  out.purged_executions = std::move(batch.purged_executions);
  return out;
}

}  // namespace duroxide::storage
