// SPDX-License-Identifier: MIT
// ActivityWorkers: threads that run activities and commit their results.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "engine/activity_result.hpp"
#include "engine/router.hpp"
#include "engine/services.hpp"
#include "engine/signals.hpp"

namespace duroxide::engine {

/// A pool of plain threads (activities block: they sleep, do I/O, call services), fed by one
/// intake thread. The intake leases up to a few hundred activities ahead of the workers and
/// queues them. Activities left from before the runtime started first get their delivery
/// counted in one durable commit (a crash may have interrupted them; see accept()). A worker
/// runs one activity at a time and hands its outcome to the instance in memory
/// (Router::deliver_result), whose next step records it and deletes the work item; an
/// outcome no step takes, and that of a left-over activity, is committed as {remove the item,
/// enqueue the result} without waiting, batched by the group committer. A failed commit of an
/// outcome puts the activity back after a back-off with its attempt restored, so it runs again
/// (at least once) and a full disk does not poison it.
///
/// An activity delivered more than RuntimeOptions::max_attempts times is not run again: its
/// instance is told it is poisoned. An activity whose name is not registered is retried with
/// a back-off (the item stays leased meanwhile), then its instance is told so.
///
/// Thread safety: construct, then stop() from the owning thread; the cancel methods from any.
class ActivityWorkers {
 public:
  ActivityWorkers(const Services& services, Router& router, std::shared_ptr<Signals> signals);
  ~ActivityWorkers();
  ActivityWorkers(const ActivityWorkers&) = delete;
  ActivityWorkers& operator=(const ActivityWorkers&) = delete;

  /// Sets ActivityContext::is_cancelled() for the activities running for `instance_id`.
  void cancel_instance(const std::string& instance_id);
  /// Sets ActivityContext::is_cancelled() for one activity if it runs; if it has not started,
  /// it will not run (its item is removed unrun when it is handed out).
  void cancel_activity(const std::string& instance_id, std::uint64_t execution_id,
                       std::uint64_t activity_id);
  /// Commits an outcome no instance step took (ActivityResult): deletes the work item and
  /// queues the completion message. From any thread.
  void store_result(ActivityResult result);

  /// Lets running activities finish and joins the threads. After `grace` (if given), running
  /// activities see ActivityContext::is_cancelled() turn true.
  void stop(std::optional<std::chrono::milliseconds> grace = std::nullopt);

 private:
  using Flag = std::shared_ptr<std::atomic<bool>>;
  using ActivityKey = std::tuple<std::string, std::uint64_t, std::uint64_t>;
  struct Running {
    std::uint64_t execution_id;
    std::uint64_t activity_id;
    Flag cancelled;
  };

  struct Ready {
    QueuedActivity queued;
    const ActivityFn* fn;
    /// The stored attempt before this runtime counted the delivery durably (only activities
    /// left from before it started are); nullopt if it did not.
    std::optional<std::uint32_t> restore_attempt;
  };

  void intake();
  void work();
  bool accept(std::vector<QueuedActivity> fetched);
  bool mark_started(const std::vector<Ready>& ready);
  bool pause_intake(std::chrono::milliseconds pause);
  void requeue_unstarted();
  void run(const Ready& ready);
  void give_up(const QueuedActivity& queued, const char* kind, std::string why);
  void defer(const QueuedActivity& queued);
  void retry_unstored(const QueueKey& key, std::optional<std::uint32_t> restore_attempt);
  std::optional<TimestampMs> release_deferred(TimestampMs now);
  void return_deferred(std::map<QueueKey, std::optional<std::uint32_t>> due);
  void finish(const QueuedActivity& queued, std::optional<OrchestratorMessage> message,
              std::optional<std::uint32_t> restore_attempt = std::nullopt);
  void forget(const QueueKey& key);

  Flag track(const ActivityWorkItem& item);
  void untrack(const std::string& instance_id, const Flag& flag);

  const Services& services_;
  Router& router_;
  std::shared_ptr<Signals> signals_;
  std::vector<std::thread> threads_;
  std::size_t capacity_;  // activities leased at once: running plus ready
  // Guarded by signals_->mutex; workers and the intake wait on signals_->workers_wake.
  std::deque<Ready> ready_;
  std::size_t busy_ = 0;

  std::mutex running_mutex_;
  std::unordered_multimap<std::string, Running> running_;  // by instance
  std::set<ActivityKey> cancelled_early_;                  // cancelled before they started
  // The queued activities this runtime holds (ready or running), with the time each started
  // (kNotStarted while ready). A lease that expires while an item waits or runs briefly hands
  // it out again; that copy is ignored. Only an activity running longer than the lease is
  // delivered again (it may hang).
  std::map<QueueKey, TimestampMs> in_hand_;
  // Activities left from before this runtime whose delivery it has counted in the store.
  std::set<QueueKey> marked_;

  // Items kept leased until a retry time: unregistered activities, and activities whose
  // outcome could not be stored (their attempt is restored before they go back).
  struct Deferred {
    TimestampMs until = 0;
    std::optional<std::uint32_t> restore_attempt;
  };
  std::mutex deferred_mutex_;
  std::map<QueueKey, Deferred> deferred_;
  std::map<QueueKey, unsigned> unregistered_tries_;
  std::map<QueueKey, unsigned> unstored_tries_;  // failed outcome commits in a row
};

}  // namespace duroxide::engine
