// SPDX-License-Identifier: MIT
// Writer: the one thread that owns every write txn of a store and commits batches in groups.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/lmdb_provider.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

#include "storage/listeners.hpp"
#include "storage/lmdb_counts.hpp"
#include "storage/lmdb_env.hpp"
#include "storage/prepared_batch.hpp"

namespace duroxide::storage {

/// Counters for tests and diagnostics.
struct WriterStats {
  std::uint64_t txns = 0;            ///< write txns committed
  std::uint64_t batches = 0;         ///< batches committed
  std::uint64_t failed_batches = 0;  ///< batches whose `done` got an error
  std::uint64_t grows = 0;           ///< times the map was grown
};

/// Group committer. Batches queue up while a txn commits; the next txn takes all of them (up to
/// max_batches_per_commit, never splitting a group of submit_group), applies them in order and
/// commits once. A batch whose precondition or history check fails fails alone; an LMDB failure of
/// the shared txn makes the writer redo each batch of the group in its own txn, so only a batch
/// that fails by itself reports it. A full map is grown (to max_map_size) and the txn redone. Each
/// txn also brings the instance counters of the `meta` sub-database up to date with the rows it
/// writes, creates or deletes.
///
/// After a commit, on the writer thread: the after-commit hook, then every batch's `done` in
/// queue order, then the listeners with the merged ChangeNotice.
///
/// Thread safety: submit, post and stats may be called from any thread; stop from any thread
/// but the writer's own.
class Writer {
 public:
  /// Called with the queue keys consumed or deleted by the batches of a txn that committed,
  /// before their `done` callbacks run.
  using AfterCommit = std::function<void(const std::vector<QueueKey>& messages,
                                         const std::vector<QueueKey>& activities)>;

  /// Starts the thread. Lifetime: `env` and `listeners` must outlive the Writer.
  Writer(Env& env, const LmdbOptions& options, Listeners& listeners, AfterCommit after_commit);
  /// Stops the thread (see stop()).
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Queues a batch for the next group commit.
  void submit(PreparedBatch batch);
  /// Queues batches that are committed in one txn (see Provider::commit_group): the writer
  /// never splits them across txns, even past max_batches_per_commit, except to isolate an
  /// LMDB failure of the shared txn: the group is then redone alone, and if that fails too,
  /// each of its batches alone. Each batch's `done` is called as for submit.
  void submit_group(std::vector<PreparedBatch> batches);
  /// Delivers `notice` to the listeners from the writer thread soon (merged with others).
  void post(const ChangeNotice& notice);
  /// Commits everything queued (each `done` is called), then ends the thread. Batches submitted
  /// afterwards fail at once with Cancelled. Requires: not called on the writer thread.
  void stop();

  WriterStats stats() const;
  /// Returns: true when called on the writer thread (from a commit callback or a listener).
  bool on_writer_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Work {
    std::vector<PreparedBatch> group;
    ChangeNotice notice;
    bool timed_out = false;
    bool exit = false;
  };
  /// The outcome of each batch of a committed txn, in order.
  using Outcomes = std::vector<Result<void, Error>>;
  /// An LMDB failure inside a write txn (`rc` is LMDB's code): the txn is aborted and nothing
  /// of it is written.
  struct TxnAbort {
    int rc = 0;
  };
  /// Why a batch is not written in the shared txn: it fails alone (Error, and the txn goes on
  /// without it) or the txn aborts (TxnAbort).
  using Rejection = std::variant<Error, TxnAbort>;
  /// Records a batch replaces, found while it is checked: key, new value.
  using Rewrites = std::vector<std::pair<std::string, std::string>>;

  void run();
  Work next_work();
  void commit_group(std::vector<PreparedBatch>& group, ChangeNotice& notice);
  Result<Outcomes, Error> run_txn(std::span<PreparedBatch> batches);
  Result<Outcomes, TxnAbort> try_txn(std::span<PreparedBatch> batches);
  Result<void, Rejection> check(MDB_txn* txn, const PreparedBatch& batch, Rewrites& rewrites);
  Result<void, Rejection> check_attempts(MDB_txn* txn, const PreparedBatch& batch,
                                         Rewrites& rewrites);
  Result<void, TxnAbort> write(MDB_txn* txn, Cursor& rows, PreparedBatch& batch,
                               const Rewrites& rewrites, std::uint64_t& next_seq,
                               InstanceCounts& counts);
  /// Appends the outcomes of `batches` redone in their own txn (`result`) to `outcomes`.
  static void redo_alone(std::span<PreparedBatch> batches, Result<Outcomes, Error> result,
                         Outcomes& outcomes);
  void finish(std::vector<PreparedBatch>& group, Outcomes& outcomes, ChangeNotice& notice);
  void check_foreign();

  Env& env_;
  const LmdbOptions options_;
  Listeners& listeners_;
  const AfterCommit after_commit_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<PreparedBatch> queue_;     ///< guarded by mutex_
  std::optional<ChangeNotice> posted_;  ///< guarded by mutex_
  bool stopping_ = false;               ///< guarded by mutex_
  bool stopped_ = false;                ///< guarded by mutex_: the thread has ended

  std::uint64_t last_txn_id_ = 0;  ///< writer thread: last txn id this store committed or saw
  bool foreign_seen_ = false;      ///< writer thread: another process committed meanwhile

  std::atomic<std::uint64_t> txns_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> failed_batches_{0};
  std::atomic<std::uint64_t> grows_{0};

  std::thread thread_;  ///< last member: started once everything above exists
};

}  // namespace duroxide::storage
