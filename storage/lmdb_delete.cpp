// SPDX-License-Identifier: MIT
// Removal of whole instances inside a write txn.
#include "storage/lmdb_delete.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"

namespace duroxide::storage {
namespace {

using Ids = std::set<std::string_view>;

/// Returns: the ids of `ids` that have a row, as views into `ids`; subtracts each row from
/// `counts`.
int present_ids(MDB_txn* txn, Dbi instances, const std::vector<std::string>& ids, Ids& present,
                InstanceCounts& counts) {
  for (const auto& id : ids) {
    std::string_view value;
    const int rc = db_get(txn, instances, id, &value);
    if (rc == 0 && present.insert(id).second) counts.add_row(value, -1);
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
  }
  return 0;
}

// Deletes the history keys from the first of `instance_id` up to (not including) `end`, or all
// of them without `end`. Keys are copied out before the first delete: a write invalidates views
// into the map.
int delete_history_range(MDB_txn* txn, Dbi history, std::string_view instance_id,
                         const std::optional<std::string>& end) {
  const std::string prefix = history_instance_prefix(instance_id);
  std::vector<std::string> keys;
  {
    Cursor cursor(txn, history);
    if (cursor.status() != 0) return cursor.status();
    std::string_view key;
    std::string_view value;
    for (int rc = cursor.seek(prefix, &key, &value);; rc = cursor.next(&key, &value)) {
      if (rc == MDB_NOTFOUND || (rc == 0 && !key.starts_with(prefix))) break;
      if (rc != 0) return rc;
      if (end && key >= *end) break;
      keys.emplace_back(key);
    }
  }
  for (const auto& key : keys) {
    if (const int rc = db_del(txn, history, key); rc != 0) return rc;
  }
  return 0;
}

/// Removes the records of queue `dbi` addressed to one of `ids`; `peek` reads a record's id.
template <class Peek>
int delete_queued(MDB_txn* txn, Dbi dbi, const Ids& ids, Peek peek, std::vector<QueueKey>& out) {
  std::vector<QueueKey> keys;
  {
    Cursor cursor(txn, dbi);
    if (cursor.status() != 0) return cursor.status();
    std::string_view key;
    std::string_view value;
    for (int rc = cursor.first(&key, &value);; rc = cursor.next(&key, &value)) {
      if (rc == MDB_NOTFOUND) break;
      if (rc != 0) return rc;
      const auto instance_id = peek(value);
      const auto queue_key = decode_queue_key(key);
      if (instance_id && queue_key && ids.contains(*instance_id)) keys.push_back(*queue_key);
    }
  }
  for (const auto& key : keys) {
    const QueueKeyBytes bytes = encode_queue_key(key);
    if (const int rc = db_del(txn, dbi, std::string_view(bytes.data(), bytes.size())); rc != 0) {
      return rc;
    }
  }
  out.insert(out.end(), keys.begin(), keys.end());
  return 0;
}

}  // namespace

namespace {
int delete_history(MDB_txn* txn, Dbi history, std::string_view instance_id) {
  return delete_history_range(txn, history, instance_id, std::nullopt);
}
}  // namespace

int delete_history_before(MDB_txn* txn, Dbi history, std::string_view instance_id,
                          std::uint64_t execution_id) {
  return delete_history_range(txn, history, instance_id,
                              encode_history_key(instance_id, execution_id, 0));
}

int delete_instances(MDB_txn* txn, const Databases& dbs, const std::vector<std::string>& ids,
                     RemovedRecords& removed, InstanceCounts& counts) {
  Ids present;
  if (const int rc = present_ids(txn, dbs.instances, ids, present, counts); rc != 0) return rc;
  if (present.empty()) return 0;
  for (const std::string_view id : present) {
    int rc = db_del(txn, dbs.instances, id);
    if (rc == 0) rc = delete_history(txn, dbs.history, id);
    if (rc != 0) return rc;
  }
  int rc = delete_queued(txn, dbs.orchestrator_queue, present, peek_message_instance_id,
                         removed.messages);
  if (rc == 0) {
    rc = delete_queued(txn, dbs.worker_queue, present, peek_work_item_instance_id,
                       removed.activities);
  }
  return rc;
}

}  // namespace duroxide::storage
