// SPDX-License-Identifier: MIT
// LmdbStore: the LmdbProvider over one LMDB file: reads, in-memory leases, dispatch claim.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/lmdb_provider.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

#include "storage/lease_table.hpp"
#include "storage/listeners.hpp"
#include "storage/lmdb_env.hpp"
#include "storage/lmdb_writer.hpp"
#include "storage/platform/platform.hpp"

namespace duroxide::storage {

/// Returns: InvalidArgument for an id the store cannot hold (see valid_instance_id).
Error invalid_id(const std::string& instance_id);
/// Returns: `cause` with "`where`: " put before its message.
Error in_record(Error cause, std::string_view where);

/// Identity of a file: one LmdbStore per file and process.
using FileId = platform::FileId;

/// The LMDB provider. Made by LmdbProvider::open/open_temporary; opening a file that is already
/// open in this process returns the same object (LMDB forbids opening one file twice in a
/// process: closing the second would drop the first one's locks), so the options of the later
/// open are ignored.
///
/// Leases are in memory. fetch_messages and fetch_activities need claim_dispatch() first and
/// return Busy otherwise. next_message_due returns nullopt if the store cannot be read.
///
/// Thread safety: all methods may be called from any thread (see Provider). The last reference
/// may be dropped anywhere; dropped on the writer thread (in a commit callback or a listener),
/// the store is closed by a helper thread once the callback returns.
class LmdbStore final : public LmdbProvider {
 public:
  /// Lifetime: owns `env` and `lock_file` (`<path>-lock`, for claim_dispatch); removes
  /// `temp_dir` with everything in it on destruction unless it is empty.
  LmdbStore(std::unique_ptr<Env> env, const LmdbOptions& options, platform::LockFile lock_file,
            std::string temp_dir, FileId file_id);
  /// Commits every queued batch (their callbacks run), releases the claim, closes the file.
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  void commit(WriteBatch batch, CommitCallback done) override;
  /// One write txn and one fsync for all of `batches` (see Writer::submit_group).
  void commit_group(std::vector<WriteBatch> batches, GroupCallback done) override;
  /// Counters from `meta`, queue sizes from LMDB's entry counts, pending timers as the queued
  /// messages minus those due at `now` (a walk over the due ones only), the file's size.
  Result<StoreStats, Error> store_stats(TimestampMs now) override;  // lmdb_stats.cpp
  Result<InstanceRecord, Error> read_instance(const std::string& instance_id) override;
  Result<std::vector<HistoryEvent>, Error> read_history(const std::string& instance_id,
                                                        std::uint64_t execution_id) override;
  Result<std::vector<InstanceRecord>, Error> list_instances(const InstanceQuery& query) override;
  Result<std::vector<std::uint64_t>, Error> list_executions(
      const std::string& instance_id) override;
  Result<std::vector<QueuedMessage>, Error> fetch_messages(TimestampMs now,
                                                           std::size_t max) override;
  void release_messages(const std::vector<QueueKey>& keys) override;
  std::optional<TimestampMs> next_message_due() override;
  Result<std::vector<QueuedActivity>, Error> fetch_activities(
      TimestampMs now, std::size_t max, std::chrono::milliseconds lease) override;
  void release_activities(const std::vector<QueueKey>& keys) override;
  void return_activities(const std::vector<QueueKey>& keys) override;
  Result<std::uint64_t, Error> next_queue_seq() override;
  Result<void, Error> claim_dispatch() override;
  void release_dispatch() override;
  std::uint64_t subscribe(ChangeListener listener) override;
  void unsubscribe(std::uint64_t token) override;
  const std::string& path() const override { return env_->path(); }
  Result<void, Error> backup(std::string destination_path) override;  // lmdb_backup.cpp

  /// Returns: the writer's counters (for tests and diagnostics).
  WriterStats stats() const { return writer_->stats(); }
  /// Returns: the leased messages and the activities the lease table tracks (for tests and
  /// diagnostics).
  std::pair<std::size_t, std::size_t> lease_counts();
  /// Returns: the current size of the memory map in bytes.
  std::size_t map_size() const { return env_->map_size(); }
  const FileId& file_id() const { return file_id_; }
  /// Returns: the environment, for whole-store readers (check_store). Lifetime: the store's.
  Env& env() { return *env_; }

  /// The deleter of every shared_ptr to an LmdbStore: deletes it, on a helper thread when
  /// called on the store's own writer thread (which cannot join itself).
  static void destroy(LmdbStore* store);

 private:
  void end_activity_leases(const std::vector<QueueKey>& keys,
                           void (LeaseTable::*end)(const QueueKey&));
  void on_committed(const std::vector<QueueKey>& messages, const std::vector<QueueKey>& activities);
  Error not_claimed(const char* operation) const;
  Result<std::vector<QueuedMessage>, Error> scan_messages(MDB_txn* txn, TimestampMs now,
                                                          std::size_t max) const;
  Result<std::vector<QueuedActivity>, Error> scan_activities(MDB_txn* txn, TimestampMs now,
                                                             std::size_t max) const;

  std::unique_ptr<Env> env_;
  platform::LockFile lock_file_;  ///< closed only after env_: see platform::LockFile
  const std::string temp_dir_;
  const FileId file_id_;
  Listeners listeners_;

  std::mutex lease_mutex_;  ///< guards leases_ and claimed_; fetches begin their txn under it
  LeaseTable leases_;
  bool claimed_ = false;

  std::unique_ptr<Writer> writer_;  ///< last: its thread uses everything above
};

}  // namespace duroxide::storage
