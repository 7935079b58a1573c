// SPDX-License-Identifier: MIT
// Removal of whole instances inside a write txn: row, history of every execution, queued work.
#pragma once

#include <string>
#include <vector>

#include <duroxide/provider.hpp>

#include "storage/lmdb_counts.hpp"
#include "storage/lmdb_env.hpp"

namespace duroxide::storage {

/// The queue records that deleting instances removed, so that their leases can end.
struct RemovedRecords {
  std::vector<QueueKey> messages;
  std::vector<QueueKey> activities;
};

/// Deletes, inside `txn`, every instance of `ids` that has a row (the others are skipped): the
/// row, the history of every execution, and the orchestrator messages and work items whose
/// instance_id is one of them, found by one scan of each queue. A queued record whose instance
/// id cannot be read is left in place (fetching it reports the damage). Appends the keys of the
/// removed queue records to `removed`, and subtracts the deleted rows from `counts`.
/// Returns: LMDB's code; nonzero means the txn must be aborted.
int delete_instances(MDB_txn* txn, const Databases& dbs, const std::vector<std::string>& ids,
                     RemovedRecords& removed, InstanceCounts& counts);

/// Deletes, inside `txn`, the history of the executions of `instance_id` before `execution_id`.
/// Returns: LMDB's code; nonzero means the txn must be aborted.
int delete_history_before(MDB_txn* txn, Dbi history, std::string_view instance_id,
                          std::uint64_t execution_id);

}  // namespace duroxide::storage
