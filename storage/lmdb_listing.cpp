// SPDX-License-Identifier: MIT
// LmdbStore's listings: instance rows by id range and state, and the executions of an instance.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/lmdb_store.hpp"

namespace duroxide::storage {
namespace {

/// Where a listing starts: the larger of the prefix and `start_after` (itself skipped), cut to
/// the longest id, which sorts no later than the uncut key.
std::string_view first_key(const InstanceQuery& query) {
  const std::string_view prefix = query.id_prefix;
  const std::string_view after = query.start_after;
  const std::string_view from = std::max(prefix, after);
  return from.substr(0, std::min(from.size(), kMaxInstanceIdBytes));
}

Error wrong_row(std::string_view key, const std::string& named) {
  return Error{ErrorCode::Corruption,
               "row of instance '" + std::string(key) + "' names instance '" + named + "'"};
}

}  // namespace

// Rows are visited in key order from the first one the query can match; the prefix ends the
// scan, a state filter is applied by peeking at the state before the row is decoded.
Result<std::vector<InstanceRecord>, Error> LmdbStore::list_instances(const InstanceQuery& query) {
  std::vector<InstanceRecord> rows;
  if (query.id_prefix.size() > kMaxInstanceIdBytes) return rows;  // no id is that long
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  Cursor cursor(txn.get(), env_->dbs().instances);
  if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "listing instances", path()));
  const std::string_view start_after = query.start_after;
  std::string_view key;
  std::string_view value;
  const std::string_view from = first_key(query);  // LMDB seeks to no empty key
  int rc = from.empty() ? cursor.first(&key, &value) : cursor.seek(from, &key, &value);
  for (;; rc = cursor.next(&key, &value)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return Err(lmdb_error(rc, "listing instances", path()));
    if (!key.starts_with(query.id_prefix)) break;
    if (!start_after.empty() && key <= start_after) continue;
    if (query.state) {
      auto state = peek_instance_state(value);
      if (!state) return Err(in_record(state.error(), "instance '" + std::string(key) + "'"));
      if (*state != *query.state) continue;
    }
    auto row = decode_instance_record(value);
    if (!row) return Err(in_record(row.error(), "instance '" + std::string(key) + "'"));
    if (row->instance_id != key) return Err(wrong_row(key, row->instance_id));
    rows.push_back(std::move(*row));
    if (query.limit != 0 && rows.size() == query.limit) break;
  }
  return rows;
}

// History keys are be16 len | id | be64 execution | be64 event: after the first event of an
// execution the cursor jumps straight to execution + 1, so the cost is one seek per execution.
Result<std::vector<std::uint64_t>, Error> LmdbStore::list_executions(
    const std::string& instance_id) {
  if (!valid_instance_id(instance_id)) return Err(invalid_id(instance_id));
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  Cursor cursor(txn.get(), env_->dbs().history);
  if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "listing executions", path()));
  const std::string prefix = history_instance_prefix(instance_id);
  std::vector<std::uint64_t> executions;
  std::string_view key;
  std::string_view value;
  for (int rc = cursor.seek(prefix, &key, &value);;) {
    if (rc == MDB_NOTFOUND || (rc == 0 && !key.starts_with(prefix))) break;
    if (rc != 0) return Err(lmdb_error(rc, "listing executions", path()));
    if (key.size() != prefix.size() + 16) {
      return Err(Error{ErrorCode::Corruption, "history of '" + instance_id + "': a key of " +
                                                  std::to_string(key.size()) + " bytes"});
    }
    const std::uint64_t execution = get_be64(key.substr(prefix.size()));
    executions.push_back(execution);
    if (execution == UINT64_MAX) break;
    rc = cursor.seek(history_key_prefix(instance_id, execution + 1), &key, &value);
  }
  return executions;
}

}  // namespace duroxide::storage
