// SPDX-License-Identifier: MIT
// LmdbStore::store_stats: store-wide figures from counters and LMDB's own entry counts.
#include <lmdb.h>

#include <duroxide/management.hpp>

#include "storage/keys.hpp"
#include "storage/lmdb_counts.hpp"
#include "storage/lmdb_store.hpp"

namespace duroxide::storage {
namespace {

std::uint64_t non_negative(std::int64_t count) {
  return count < 0 ? 0 : static_cast<std::uint64_t>(count);
}

}  // namespace

// Everything comes from one read txn, so the figures agree with each other. The walk over the
// due messages is short in a healthy store, where a runtime consumes them as they come due;
// what lies in the future (timers) is counted by subtraction, never walked.
Result<StoreStats, Error> LmdbStore::store_stats(TimestampMs now) {
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  const Databases& dbs = env_->dbs();
  InstanceCounts counts;
  int rc = read_counts(txn.get(), dbs, &counts);
  if (rc != 0) {
    return Err(lmdb_error(rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "reading the counters", path()));
  }
  StoreStats stats;
  stats.running = non_negative(counts.running);
  stats.completed = non_negative(counts.completed);
  stats.failed = non_negative(counts.failed);
  stats.suspended = non_negative(counts.suspended);
  MDB_stat messages;
  MDB_stat activities;
  rc = mdb_stat(txn.get(), dbs.orchestrator_queue, &messages);
  if (rc == 0) rc = mdb_stat(txn.get(), dbs.worker_queue, &activities);
  if (rc != 0) return Err(lmdb_error(rc, "reading the queue sizes", path()));
  stats.queued_messages = messages.ms_entries;
  stats.queued_activities = activities.ms_entries;

  std::uint64_t due = 0;
  Cursor cursor(txn.get(), dbs.orchestrator_queue);
  if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "counting timers", path()));
  std::string_view key;
  std::string_view value;
  for (rc = cursor.first(&key, &value); rc == 0; rc = cursor.next(&key, &value)) {
    auto queue_key = decode_queue_key(key);
    if (!queue_key) return Err(in_record(queue_key.error(), "orchestrator queue"));
    if (queue_key->visible_at > now) break;
    ++due;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return Err(lmdb_error(rc, "counting timers", path()));
  stats.pending_timers = stats.queued_messages - due;

  platform::FileHandle fd;
  if (mdb_env_get_fd(env_->raw(), &fd) != 0) {
    return Err(Error{ErrorCode::IOError, "store '" + path() + "': no file descriptor"});
  }
  const auto size = platform::file_size(fd);
  if (!size) {
    return Err(Error{ErrorCode::IOError, "store '" + path() + "': reading the file size failed: " +
                                             size.error().message});
  }
  stats.file_bytes = *size;
  return stats;
}

}  // namespace duroxide::storage
