// SPDX-License-Identifier: MIT
// ActivityWorkers: threads that run activities and commit their results.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/activity_result.hpp"
#include "engine/router.hpp"
#include "engine/services.hpp"
#include "engine/signals.hpp"

namespace duroxide::engine {

/// A pool of plain threads (activities block: they sleep, do I/O, call services), fed by one
/// intake thread that leases up to a few hundred activities ahead of the workers.
///
/// Contract:
/// - At least once: a work item leaves the store only in a commit that carries its outcome
///   (or its abandonment; nothing for a cancelled call). A worker hands a fresh outcome to its
///   instance in memory (Router::deliver_result), whose next step records it and deletes the
///   item. Any other outcome is committed as {remove the item, enqueue the result} without
///   waiting.
/// - An activity left from before the runtime started has its delivery counted durably
///   before it runs (one commit per lease round), so one that kills the process every time is
///   poisoned: past RuntimeOptions::max_attempts deliveries its instance is told so unrun.
/// - Leases are the store's (Provider::fetch_activities): the store hands an item out again
///   only once its lease has run out; the workers keep no expiry times, only when a run
///   began. Such a copy of an item this runtime holds (queued, being committed, or kept for a
///   retry) is ignored; so is that of a running activity, unless it has run for a whole
///   RuntimeOptions::activity_lease (it may hang): then it runs again beside the first run.
///   (A copy comes sooner than that when the item waited in the queue for part of its lease.)
/// - A failed outcome commit (a full disk) puts the item back after a back-off with its
///   attempt restored: the store's failure does not count toward poison. An unregistered
///   activity is kept leased for a doubling back-off, RuntimeOptions::unregistered_retries
///   times, then its instance is told.
/// - A cancelled call (cancel_activity) that has not started never runs; a running one sees
///   ActivityContext::is_cancelled(), as do those of a cancelled instance and, after stop's
///   grace, all of them.
///
/// Thread safety: construct, then stop() from the owning thread; the other methods from any.
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
  /// activities see ActivityContext::is_cancelled() turn true. Activities leased but not
  /// started go back to the store as though they had not been handed out.
  void stop(std::optional<std::chrono::milliseconds> grace = std::nullopt);

 private:
  using Flag = std::shared_ptr<std::atomic<bool>>;

  /// Names an entry of the map: the call (so that cancels find it by instance or by call) and
  /// the work item's record in the store. A cancel that comes before the item is handed out
  /// is kept under its call with no record (which sorts first).
  struct HeldKey {
    std::string instance_id;
    std::uint64_t execution_id = 0;
    std::uint64_t activity_id = 0;
    std::optional<QueueKey> record;
    friend auto operator<=>(const HeldKey&, const HeldKey&) = default;
  };

  enum class Stage : std::uint8_t {
    Waiting,         ///< leased, queued for a worker (in ready_)
    Running,         ///< a worker runs it
    Committing,      ///< the commit that removes it (with an outcome or not) is under way
    Deferred,        ///< kept leased until `until`, then given back to the store
    Away,            ///< back in the store's queue; only its counts are kept
    CancelledEarly,  ///< no record: the call was cancelled before its item was handed out
  };

  /// What this runtime knows of one work item. Waiting, Running, Committing and Deferred
  /// entries are held: the store leases the item to this runtime.
  struct Held {
    Stage stage = Stage::Away;
    std::uint64_t delivery = 0;  ///< numbers the hand-out the entry is for (held stages); from 1
    QueuedActivity queued;       ///< Waiting: the item as handed out
    const ActivityFn* fn = nullptr;  ///< Waiting
    /// The stored attempt before this runtime counted the delivery durably (only activities
    /// left from before it started are counted); nullopt if it did not.
    std::optional<std::uint32_t> restore_attempt;
    bool marked = false;            ///< this runtime recorded that the delivery started
    bool cancel_requested = false;  ///< the call was cancelled before it ran: it will not run
    TimestampMs started = 0;        ///< Running: when its run began (wall clock)
    /// Runs in progress: one, or two once a run that outlived its lease got a second beside it.
    /// The entry stays (Away at least) until the last has ended, so its flag stays reachable.
    unsigned runs = 0;
    Flag cancelled;         ///< set while a run may be in progress: ActivityContext::is_cancelled()
    TimestampMs until = 0;  ///< Deferred
    unsigned unregistered_tries = 0;  ///< deferrals in a row for want of a registration
    unsigned unstored_tries = 0;      ///< outcome commits failed in a row
  };
  using HeldMap = std::map<HeldKey, Held>;

  /// One item for a worker (or, before it is queued, one the intake accepted).
  struct Job {
    QueuedActivity queued;
    const ActivityFn* fn = nullptr;
    std::optional<std::uint32_t> restore_attempt;
    std::uint64_t delivery = 0;  ///< 0: the entry is not (or no longer) this job's
    Flag cancelled;              ///< null: the call was cancelled before it started
  };

  /// accept's decision for one fetched item.
  enum class Verdict : std::uint8_t {
    Held,               ///< a copy of an item held: ignored
    New,                ///< to run
    LeftOver,           ///< to run once its start is recorded (left from before this runtime)
    CancelledEarly,     ///< removed unrun
    Poisoned,           ///< delivered too often: its instance is told
    AwaitRegistration,  ///< its name is not registered: kept for a back-off
    Unregistered,       ///< not registered after the back-offs: its instance is told
  };
  struct Sorted {
    Verdict verdict = Verdict::Held;
    const ActivityFn* fn = nullptr;
    std::uint32_t attempt = 0;  ///< the attempt it runs with
    std::optional<std::uint32_t> restore_attempt;
    unsigned tries = 0;  ///< AwaitRegistration, Unregistered
  };
  enum class After : std::uint8_t { Release, Deliver, Commit };

  void intake();
  void work();
  bool pause_intake(std::chrono::milliseconds pause);
  bool accept(std::vector<QueuedActivity> fetched);
  std::pair<const Held*, bool> lookup(const QueuedActivity& queued) const;
  Sorted classify(const QueuedActivity& queued, TimestampMs now) const;
  void act(QueuedActivity& queued, const Sorted& sorted, std::vector<Job>& ready);
  bool mark_started(const std::vector<Job>& ready);
  void admit(std::vector<Job> ready);
  std::optional<Job> next_job();
  void run(Job job);
  After end_run(Job& job, bool short_cut);
  void give_up(const QueuedActivity& queued, ErrorKind kind, std::string why);
  void defer(const QueuedActivity& queued, unsigned tries);
  void finish(const QueuedActivity& queued, std::optional<OrchestratorMessage> message,
              std::optional<std::uint32_t> restore_attempt, std::uint64_t delivery);
  void stored(const HeldKey& key, std::uint64_t delivery);
  void retry_unstored(const HeldKey& key, std::uint64_t delivery,
                      std::optional<std::uint32_t> restore_attempt);
  std::optional<TimestampMs> return_due(TimestampMs now);
  void return_unstarted();
  void give_back(std::vector<QueueKey> keys, WriteBatch restore);

  // Map helpers; the caller holds signals_->workers_mutex.
  static HeldKey key_of(const QueuedActivity& queued);
  static bool holds(Stage stage) {
    return stage == Stage::Waiting || stage == Stage::Running || stage == Stage::Committing ||
           stage == Stage::Deferred;
  }
  HeldMap::iterator entry_for(HeldKey key);
  void set_stage(Held& held, Stage stage);
  void settle(HeldMap::iterator it);
  HeldMap::iterator erase(HeldMap::iterator it);

  const Services& services_;
  Router& router_;
  std::shared_ptr<Signals> signals_;
  std::vector<std::thread> threads_;
  std::size_t capacity_;  // activities leased at once: running plus waiting

  // Guarded by signals_->workers_mutex, the one lock of the workers' state.
  HeldMap held_;
  std::deque<HeldMap::iterator> ready_;  // the Waiting entries, in the order they run
  std::condition_variable ready_wake_;   // for the workers: ready_ grew, or stop
  std::size_t busy_ = 0;                 // workers running an activity
  std::uint64_t last_delivery_ = 0;
  std::size_t deferred_ = 0;       // Deferred entries
  std::size_t early_cancels_ = 0;  // CancelledEarly entries
};

}  // namespace duroxide::engine
