// SPDX-License-Identifier: MIT
// The group-commit writer thread of an LMDB store.
#include "storage/lmdb_writer.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <lmdb.h>

#include <duroxide/detail/check.hpp>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/lmdb_counts.hpp"

namespace duroxide::storage {
namespace {

constexpr int kMaxResizeRetries = 8;

Error batch_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

int write_next_seq(MDB_txn* txn, const Databases& dbs, std::uint64_t next_seq) {
  std::string value;
  put_be64(value, next_seq);
  return db_put(txn, dbs.meta, kMetaNextSeqKey, value, 0);
}

int enqueue(MDB_txn* txn, Dbi dbi, TimestampMs visible_at, std::uint64_t& next_seq,
            std::string_view value) {
  const QueueKeyBytes key = encode_queue_key(QueueKey{visible_at, next_seq++});
  return db_put(txn, dbi, std::string_view(key.data(), key.size()), value, MDB_NOOVERWRITE);
}

/// A record already consumed (by an earlier batch, or twice in one) is not an error.
int dequeue(MDB_txn* txn, Dbi dbi, const QueueKey& key) {
  const QueueKeyBytes bytes = encode_queue_key(key);
  const int rc = db_del(txn, dbi, std::string_view(bytes.data(), bytes.size()));
  return rc == MDB_NOTFOUND ? 0 : rc;
}

// Runs `done` and destroys it before returning, so that what it captured (a store, say) is
// released at once rather than with the rest of the group.
void call_done(Provider::CommitCallback& done, Result<void, Error> result) {
  if (!done) return;
  const Provider::CommitCallback callback = std::exchange(done, nullptr);
  try {
    callback(std::move(result));
  } catch (...) {  // NOLINT(bugprone-empty-catch): an escaping exception would kill the writer
  }
}

std::string existing_event(std::string_view key) {
  auto decoded = decode_history_key(key);
  if (!decoded) return "a history event";
  return "history event " + std::to_string(decoded->event_id) + " of instance '" +
         decoded->instance_id + "' execution " + std::to_string(decoded->execution_id);
}

}  // namespace

Writer::Writer(Env& env, const LmdbOptions& options, Listeners& listeners, AfterCommit after_commit)
    : env_(env),
      options_(options),
      listeners_(listeners),
      after_commit_(std::move(after_commit)),
      last_txn_id_(env.last_txn_id()),
      thread_([this] { run(); }) {}

Writer::~Writer() { stop(); }

void Writer::submit(PreparedBatch batch) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      queue_.push_back(std::move(batch));
      wake_.notify_one();
      return;
    }
  }
  call_done(batch.done,
            Err(batch_error(ErrorCode::Cancelled, "store '" + env_.path() + "' is closed")));
}

void Writer::submit_group(std::vector<PreparedBatch> batches) {
  if (batches.empty()) return;
  batches.front().unit_size = batches.size();
  for (std::size_t i = 1; i < batches.size(); ++i) batches[i].unit_size = 0;
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      for (auto& batch : batches) queue_.push_back(std::move(batch));
      wake_.notify_one();
      return;
    }
  }
  for (auto& batch : batches) {
    call_done(batch.done,
              Err(batch_error(ErrorCode::Cancelled, "store '" + env_.path() + "' is closed")));
  }
}

void Writer::post(const ChangeNotice& notice) {
  std::lock_guard lock(mutex_);
  if (!posted_) posted_.emplace();
  merge_notice(*posted_, notice);
  wake_.notify_one();
}

void Writer::stop() {
  // The thread cannot join itself, and returning would run it on in a destroyed object. The
  // store's deleter prevents this by closing stores on a helper thread (lmdb_provider.cpp).
  DUROXIDE_CHECK(!on_writer_thread(), "an LmdbProvider's writer is stopped from its own thread");
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

WriterStats Writer::stats() const {
  return WriterStats{txns_.load(), batches_.load(), failed_batches_.load(), grows_.load()};
}

void Writer::run() {
  for (;;) {
    Work work = next_work();
    if (work.exit) return;
    if (!work.group.empty()) commit_group(work.group, work.notice);
    if (work.timed_out) check_foreign();
    if (std::exchange(foreign_seen_, false)) {
      // Another process wrote: anything may have changed.
      work.notice.messages = work.notice.activities = work.notice.foreign = true;
      work.notice.instances = true;
    }
    if (notice_has_news(work.notice)) listeners_.notify(work.notice);
  }
}

Writer::Work Writer::next_work() {
  std::unique_lock lock(mutex_);
  const auto ready = [this] { return stopping_ || !queue_.empty() || posted_.has_value(); };
  Work work;
  if (options_.foreign_change_poll.count() > 0) {
    work.timed_out = !wake_.wait_for(lock, options_.foreign_change_poll, ready);
  } else {
    wake_.wait(lock, ready);
  }
  if (stopping_ && queue_.empty() && !posted_) {
    stopped_ = true;  // under the lock: a later submit cannot slip into a queue nobody drains
    work.exit = true;
    return work;
  }
  // Whole units only: a group submitted together is never split, even past the limit.
  while (!queue_.empty() &&
         (work.group.empty() || work.group.size() < options_.max_batches_per_commit)) {
    const std::size_t unit = std::max<std::size_t>(queue_.front().unit_size, 1);
    for (std::size_t i = 0; i < unit && !queue_.empty(); ++i) {
      work.group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  if (posted_) work.notice = *std::exchange(posted_, std::nullopt);
  return work;
}

void Writer::commit_group(std::vector<PreparedBatch>& group, ChangeNotice& notice) {
  auto together = run_txn(group);
  Outcomes outcomes;
  if (together) {
    outcomes = std::move(*together);
  } else if (group.size() == 1) {
    outcomes.emplace_back(Err(together.error()));
  } else {
    // Isolate the failure: redo each unit alone, in order, and the batches of a unit that
    // fails as a whole one by one, so only the culprit fails.
    outcomes.reserve(group.size());
    for (std::size_t i = 0; i < group.size();) {
      const std::size_t unit = std::max<std::size_t>(group[i].unit_size, 1);
      const auto span = std::span(group).subspan(i, std::min(unit, group.size() - i));
      if (auto alone = run_txn(span); alone || span.size() == 1) {
        redo_alone(span, alone, outcomes);
      } else {
        for (std::size_t j = 0; j < span.size(); ++j) {
          redo_alone(span.subspan(j, 1), run_txn(span.subspan(j, 1)), outcomes);
        }
      }
      i += span.size();
    }
  }
  finish(group, outcomes, notice);
}

void Writer::redo_alone(std::span<PreparedBatch> batches, Result<Outcomes, Error> result,
                        Outcomes& outcomes) {
  if (result) {
    for (auto& outcome : *result) outcomes.push_back(std::move(outcome));
    return;
  }
  for (std::size_t i = 0; i < batches.size(); ++i) outcomes.emplace_back(Err(result.error()));
}

Result<Writer::Outcomes, Error> Writer::run_txn(std::span<PreparedBatch> batches) {
  for (int resized = 0;;) {
    auto committed = try_txn(batches);
    if (committed) return std::move(*committed);
    const int rc = committed.error().rc;
    if (rc == MDB_MAP_FULL) {
      if (auto grown = env_.grow(); !grown) return Err(grown.error());
      ++grows_;
      continue;
    }
    if (rc == MDB_MAP_RESIZED && resized++ < kMaxResizeRetries) {
      if (auto adopted = env_.adopt_map_size(); !adopted) return Err(adopted.error());
      continue;
    }
    return Err(lmdb_error(rc, "committing", env_.path()));
  }
}

// One write txn over `batches`. Returns: the outcome of each batch once the txn committed (a
// batch that fails its checks fails alone and is not written), or the LMDB failure that
// aborted the txn, of which nothing is written.
Result<Writer::Outcomes, Writer::TxnAbort> Writer::try_txn(std::span<PreparedBatch> batches) {
  std::shared_lock resize_lock(env_.resize_mutex());
  MDB_txn* txn = nullptr;
  if (const int rc = mdb_txn_begin(env_.raw(), nullptr, 0, &txn); rc != 0) {
    return Err(TxnAbort{rc});
  }
  TxnGuard guard(txn);
  const std::uint64_t txn_id = mdb_txn_id(txn);
  // The store-wide sequence lives in the file, so that a writer of another process sharing it
  // never hands out the same queue key.
  std::uint64_t next_seq = 0;
  if (const int rc = read_next_seq(txn, env_.dbs(), &next_seq); rc != 0) return Err(TxnAbort{rc});
  Outcomes outcomes;
  outcomes.reserve(batches.size());
  Rewrites rewrites;
  InstanceCounts counts;  // what the batches change in the instance counters
  // One cursor reads the row a batch replaces and writes the new one where it found it. It
  // is closed before the commit, which would free it.
  std::optional<Cursor> rows(std::in_place, txn, env_.dbs().instances);
  if (rows->status() != 0) return Err(TxnAbort{rows->status()});
  for (PreparedBatch& batch : batches) {
    rewrites.clear();
    if (auto checked = check(txn, batch, rewrites); !checked) {
      if (const auto* abort = std::get_if<TxnAbort>(&checked.error())) return Err(*abort);
      outcomes.emplace_back(Err(std::get<Error>(checked.error())));
      continue;
    }
    if (auto written = write(txn, *rows, batch, rewrites, next_seq, counts); !written) {
      return Err(written.error());
    }
    outcomes.emplace_back();
  }
  rows.reset();
  int rc = write_next_seq(txn, env_.dbs(), next_seq);
  if (rc == 0) rc = apply_counts(txn, env_.dbs(), counts);
  if (rc == 0) rc = mdb_txn_commit(guard.release());
  if (rc != 0) return Err(TxnAbort{rc});
  if (txn_id != last_txn_id_ + 1) foreign_seen_ = true;
  last_txn_id_ = txn_id;
  ++txns_;
  return outcomes;
}

// Everything that can fail a batch alone is checked here, before any of it is written, so a
// failed batch leaves nothing behind in the shared txn.
Result<void, Writer::Rejection> Writer::check(MDB_txn* txn, const PreparedBatch& batch,
                                              Rewrites& rewrites) {
  if (batch.invalid) return Err(Rejection(*batch.invalid));
  const Databases& dbs = env_.dbs();
  std::string_view value;
  if (batch.precondition != WriteBatch::Precondition::None) {
    const int rc = db_get(txn, dbs.instances, batch.instance_id, &value);
    if (rc != 0 && rc != MDB_NOTFOUND) return Err(Rejection(TxnAbort{rc}));
    const bool present = rc == 0;
    if (batch.precondition == WriteBatch::Precondition::InstanceAbsent && present) {
      return Err(Rejection(batch_error(ErrorCode::AlreadyExists,
                                       "instance '" + batch.instance_id + "' already exists")));
    }
    if (batch.precondition == WriteBatch::Precondition::InstancePresent && !present) {
      return Err(Rejection(
          batch_error(ErrorCode::NotFound, "instance '" + batch.instance_id + "' not found")));
    }
    if (batch.precondition == WriteBatch::Precondition::InstanceAbsentOrFinished && present) {
      auto state = peek_instance_state(value);
      if (!state) {
        return Err(
            Rejection(batch_error(ErrorCode::Corruption, "instance '" + batch.instance_id +
                                                             "': " + state.error().message)));
      }
      if (*state == InstanceState::Running) {
        return Err(
            Rejection(batch_error(ErrorCode::AlreadyExists,
                                  "instance '" + batch.instance_id + "' exists and is running")));
      }
    }
  }
  // A batch that deletes its own instance first writes its history anew: nothing to meet.
  for (std::size_t i = 0; !batch.replaces_own && i < batch.history.size(); ++i) {
    const std::string& key = batch.history[i].first;
    const int rc = db_get(txn, dbs.history, key, &value);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != 0) return Err(Rejection(TxnAbort{rc}));
    return Err(
        Rejection(batch_error(ErrorCode::AlreadyExists, existing_event(key) + " already exists")));
  }
  return check_attempts(txn, batch, rewrites);
}

// The new records of the attempt rewrites. A work item that is gone is skipped; one that does
// not decode fails the batch (the file is damaged, and a rewrite must not hide that).
Result<void, Writer::Rejection> Writer::check_attempts(MDB_txn* txn, const PreparedBatch& batch,
                                                       Rewrites& rewrites) {
  for (const auto& [queue_key, attempt] : batch.activity_attempts) {
    const QueueKeyBytes key = encode_queue_key(queue_key);
    const std::string_view key_view(key.data(), key.size());
    std::string_view value;
    const int rc = db_get(txn, env_.dbs().worker_queue, key_view, &value);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != 0) return Err(Rejection(TxnAbort{rc}));
    auto item = decode_activity_work_item(value);
    if (!item) {
      return Err(
          Rejection(batch_error(ErrorCode::Corruption, "worker queue: " + item.error().message)));
    }
    item->attempt = attempt;
    rewrites.emplace_back(std::string(key_view), encode(*item));
  }
  return {};
}

// Rows are counted as they change: the row a put replaces leaves the counters, the new one
// enters them (`counts`, written once per txn).
Result<void, Writer::TxnAbort> Writer::write(MDB_txn* txn, Cursor& rows, PreparedBatch& batch,
                                             const Rewrites& rewrites, std::uint64_t& next_seq,
                                             InstanceCounts& counts) {
  const Databases& dbs = env_.dbs();
  int rc = 0;
  batch.removed = RemovedRecords{};  // a txn redone after a failure finds them again
  // Before the removals below: a record this batch also consumes stays removed.
  for (auto it = rewrites.begin(); rc == 0 && it != rewrites.end(); ++it) {
    rc = db_put(txn, dbs.worker_queue, it->first, it->second, 0);
  }
  // Before the writes below: a batch may delete its own instance and write it anew.
  if (rc == 0 && !batch.deleted_instances.empty())
    rc = delete_instances(txn, dbs, batch.deleted_instances, batch.removed, counts);
  if (rc == 0 && batch.instance_row) {
    std::string_view old_row;
    rc = rows.find(batch.instance_id, &old_row);
    if (rc == 0) {
      counts.add_row(old_row, -1);
      rc = rows.put(batch.instance_id, *batch.instance_row, MDB_CURRENT);
    } else if (rc == MDB_NOTFOUND) {
      rc = rows.put(batch.instance_id, *batch.instance_row, 0);
    }
    if (rc == 0) counts.add_row(*batch.instance_row, 1);
  }
  for (auto it = batch.history.begin(); rc == 0 && it != batch.history.end(); ++it) {
    rc = db_put(txn, dbs.history, it->first, it->second, MDB_NOOVERWRITE);
  }
  for (auto it = batch.created_instances.begin(); rc == 0 && it != batch.created_instances.end();
       ++it) {
    rc = db_put(txn, dbs.instances, it->first, it->second, MDB_NOOVERWRITE);
    if (rc == 0) counts.add_row(it->second, 1);
    if (rc == MDB_KEYEXIST) rc = 0;  // the id is in use: that row stays as it is
  }
  for (auto it = batch.purged_executions.begin(); rc == 0 && it != batch.purged_executions.end();
       ++it) {
    rc = delete_history_before(txn, dbs.history, it->first, it->second);
  }
  for (auto it = batch.consumed_messages.begin(); rc == 0 && it != batch.consumed_messages.end();
       ++it) {
    rc = dequeue(txn, dbs.orchestrator_queue, *it);
  }
  for (auto it = batch.consumed_activities.begin();
       rc == 0 && it != batch.consumed_activities.end(); ++it) {
    rc = dequeue(txn, dbs.worker_queue, *it);
  }
  for (auto it = batch.messages.begin(); rc == 0 && it != batch.messages.end(); ++it) {
    rc = enqueue(txn, dbs.orchestrator_queue, it->first, next_seq, it->second);
  }
  // Activities are visible at once: visible_at 0 makes them sort by sequence alone.
  for (auto it = batch.activities.begin(); rc == 0 && it != batch.activities.end(); ++it) {
    rc = enqueue(txn, dbs.worker_queue, 0, next_seq, *it);
  }
  if (rc != 0) return Err(TxnAbort{rc});
  return {};
}

void Writer::finish(std::vector<PreparedBatch>& group, Outcomes& outcomes, ChangeNotice& notice) {
  std::vector<QueueKey> messages;
  std::vector<QueueKey> activities;
  std::size_t committed = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!outcomes[i]) continue;
    ++committed;
    const PreparedBatch& batch = group[i];
    messages.insert(messages.end(), batch.consumed_messages.begin(), batch.consumed_messages.end());
    activities.insert(activities.end(), batch.consumed_activities.begin(),
                      batch.consumed_activities.end());
    messages.insert(messages.end(), batch.removed.messages.begin(), batch.removed.messages.end());
    activities.insert(activities.end(), batch.removed.activities.begin(),
                      batch.removed.activities.end());
    merge_notice(notice, batch.notice);
  }
  // Leases of consumed (and deleted) records end only now that their removal is durable and
  // visible, so a fetch never sees a consumed record unleased.
  if (committed != 0 && after_commit_) after_commit_(messages, activities);
  batches_ += committed;
  failed_batches_ += group.size() - committed;
  for (std::size_t i = 0; i < group.size(); ++i) call_done(group[i].done, std::move(outcomes[i]));
}

void Writer::check_foreign() {
  const std::uint64_t last = env_.last_txn_id();
  if (last == last_txn_id_) return;
  last_txn_id_ = last;
  foreign_seen_ = true;
}

}  // namespace duroxide::storage
