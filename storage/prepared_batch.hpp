// SPDX-License-Identifier: MIT
// PreparedBatch: a WriteBatch validated and encoded on the caller's thread, ready for the writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>

#include "storage/keys.hpp"
#include "storage/lmdb_delete.hpp"

namespace duroxide::storage {

/// Everything the writer thread needs to apply one batch, so that encoding (the costly part)
/// happens before the batch reaches the single writer. Thread safety: a plain value type.
struct PreparedBatch {
  /// Set when the batch is malformed; the writer reports it through `done` and writes nothing.
  std::optional<Error> invalid;
  std::string instance_id;
  WriteBatch::Precondition precondition = WriteBatch::Precondition::None;
  /// `deleted_instances` holds `instance_id`: its history is checked against nothing.
  bool replaces_own = false;
  std::optional<std::string> instance_row;                   ///< encoded InstanceRecord
  std::vector<std::pair<std::string, std::string>> history;  ///< history key, encoded event
  std::vector<QueueKey> consumed_messages;
  std::vector<QueueKey> consumed_activities;
  std::vector<std::pair<TimestampMs, std::string>> messages;  ///< visible_at, encoded message
  std::vector<std::string> activities;                        ///< encoded work items
  std::vector<std::pair<QueueKey, std::uint32_t>> activity_attempts;  ///< key, attempt to store
  std::vector<std::string> deleted_instances;
  std::vector<std::pair<std::string, std::string>> created_instances;  ///< id, encoded row
  std::vector<std::pair<std::string, std::uint64_t>> purged_executions;
  /// Filled by the writer while it commits the batch: the queue records its deletions removed
  /// (their leases end once the commit is durable, as those of consumed records do).
  RemovedRecords removed;
  ChangeNotice notice;  ///< what committing this batch makes available
  /// The writer's: how many batches, from this one on, were submitted as one group (1 for a
  /// lone batch, 0 for the later members of a group).
  std::size_t unit_size = 1;
  Provider::CommitCallback done;
};

/// Returns: `batch` checked and encoded. Malformed batches (an instance id that is empty or
/// longer than kMaxInstanceIdBytes where one is needed, a row whose id differs from the batch's,
/// a message, work item or deletion without a valid instance id, a deleted instance other than
/// the batch's own that the batch also writes to) come back with `invalid` set (InvalidArgument).
/// Throws only std::bad_alloc.
PreparedBatch prepare_batch(WriteBatch batch, Provider::CommitCallback done);

/// Adds `other` to `into`: flags are or-ed, earliest_visible_at is the minimum.
void merge_notice(ChangeNotice& into, const ChangeNotice& other);

/// Returns: true if the notice says anything (something enqueued or a foreign change).
bool notice_has_news(const ChangeNotice& notice);

}  // namespace duroxide::storage
