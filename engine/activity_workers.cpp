// SPDX-License-Identifier: MIT
// The workers' loop: lease an activity, record that it starts, run it, commit its completion.
#include "engine/activity_workers.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include <duroxide/client.hpp>

#include "engine/clock.hpp"

namespace duroxide::engine {
namespace {

// More cancellations of not-yet-started activities than this are forgotten (their results
// are dropped by the instance anyway); it only bounds memory.
constexpr std::size_t kMaxEarlyCancels = 4096;

// The first retry of an unregistered activity waits this long; each further one twice as long.
constexpr TimestampMs kUnregisteredFirstWaitMs = 100;
constexpr TimestampMs kUnregisteredMaxWaitMs = 30'000;

// An activity whose outcome failed to commit (a full disk, say) runs again after this long;
// each further failure in a row doubles the wait.
constexpr TimestampMs kUnstoredFirstWaitMs = 100;
constexpr TimestampMs kUnstoredMaxWaitMs = 10'000;

TimestampMs doubling_wait(TimestampMs first, TimestampMs longest, unsigned tries) {
  return std::min<TimestampMs>(first << std::min<unsigned>(tries - 1, 20), longest);
}

constexpr TimestampMs kNotStarted = std::numeric_limits<TimestampMs>::max();

// The intake leases at least this many activities ahead of the workers: a lease round of
// left-over activities costs one durable start record (an fsync), and every round costs a
// fetch, so each must carry many activities for throughput not to be bound by the workers'
// count. One runtime dispatches from a store, so leasing ahead takes work from nobody.
constexpr std::size_t kMinLeased = 256;

// After a start record fails to commit, the intake waits this long before it leases again;
// each further failure in a row doubles the wait.
constexpr std::chrono::milliseconds kFirstIntakePause{10};
constexpr std::chrono::milliseconds kMaxIntakePause{1000};

}  // namespace

ActivityWorkers::ActivityWorkers(const Services& services, Router& router,
                                 std::shared_ptr<Signals> signals)
    : services_(services), router_(router), signals_(std::move(signals)) {
  const std::size_t count = std::max<std::size_t>(services_.options.activity_workers, 1);
  capacity_ = std::max(2 * count, kMinLeased);
  signals_->workers_running = count + 1;
  auto thread_main = [this](void (ActivityWorkers::*loop)()) {
    return [this, loop] {
      (this->*loop)();
      std::lock_guard lock(signals_->mutex);
      --signals_->workers_running;
      signals_->workers_done.notify_all();
    };
  };
  threads_.emplace_back(thread_main(&ActivityWorkers::intake));
  for (std::size_t i = 0; i < count; ++i)
    threads_.emplace_back(thread_main(&ActivityWorkers::work));
}

ActivityWorkers::~ActivityWorkers() { stop(); }

void ActivityWorkers::stop(std::optional<std::chrono::milliseconds> grace) {
  std::unique_lock lock(signals_->mutex);
  signals_->stop_workers = true;
  signals_->workers_wake.notify_all();
  // Running activities get `grace` to finish, then are asked to stop. The threads are joined
  // either way: activity code must return for the runtime to end.
  const bool cancel = grace && !signals_->workers_done.wait_for(
                                   lock, *grace, [this] { return signals_->workers_running == 0; });
  lock.unlock();
  if (cancel) {
    std::lock_guard running(running_mutex_);  // the same lock as track(): none is missed
    signals_->cancel_activities->store(true);
    for (auto& [id, activity] : running_) activity.cancelled->store(true);
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  requeue_unstarted();
  std::map<QueueKey, std::optional<std::uint32_t>> held;
  {
    std::lock_guard deferred(deferred_mutex_);
    for (const auto& [key, entry] : deferred_) held.emplace(key, entry.restore_attempt);
    deferred_.clear();
  }
  return_deferred(std::move(held));
}

// Activities counted as started but never run go back with the attempt they had, so a clean
// stop costs them no attempt.
void ActivityWorkers::requeue_unstarted() {
  if (ready_.empty()) return;
  WriteBatch restore;
  std::vector<QueueKey> keys;
  for (const auto& ready : ready_) {
    if (ready.restore_attempt) {
      restore.activity_attempts.emplace_back(ready.queued.key, *ready.restore_attempt);
    }
    keys.push_back(ready.queued.key);
    forget(ready.queued.key);
  }
  ready_.clear();
  if (!restore.activity_attempts.empty()) {
    (void)services_.store->commit_sync(std::move(restore));  // at worst they count one attempt
  }
  services_.store->return_activities(keys);
}

void ActivityWorkers::cancel_instance(const std::string& instance_id) {
  std::lock_guard lock(running_mutex_);
  auto [begin, end] = running_.equal_range(instance_id);
  for (auto it = begin; it != end; ++it) it->second.cancelled->store(true);
}

void ActivityWorkers::cancel_activity(const std::string& instance_id, std::uint64_t execution_id,
                                      std::uint64_t activity_id) {
  std::lock_guard lock(running_mutex_);
  auto [begin, end] = running_.equal_range(instance_id);
  for (auto it = begin; it != end; ++it) {
    if (it->second.execution_id == execution_id && it->second.activity_id == activity_id) {
      it->second.cancelled->store(true);
      return;
    }
  }
  if (cancelled_early_.size() >= kMaxEarlyCancels) cancelled_early_.clear();
  cancelled_early_.emplace(instance_id, execution_id, activity_id);
}

ActivityWorkers::Flag ActivityWorkers::track(const ActivityWorkItem& item) {
  std::lock_guard lock(running_mutex_);
  auto flag = std::make_shared<std::atomic<bool>>(signals_->cancel_activities->load());
  running_.emplace(item.instance_id, Running{item.execution_id, item.activity_id, flag});
  return flag;
}

void ActivityWorkers::untrack(const std::string& instance_id, const Flag& flag) {
  std::lock_guard lock(running_mutex_);
  auto [begin, end] = running_.equal_range(instance_id);
  for (auto it = begin; it != end; ++it) {
    if (it->second.cancelled == flag) {
      running_.erase(it);
      return;
    }
  }
}

void ActivityWorkers::intake() {
  const auto lease = services_.options.activity_lease;
  std::chrono::milliseconds pause{0};  // after start records that failed to commit
  for (;;) {
    if (pause.count() > 0 && !pause_intake(pause)) return;
    std::uint64_t seen;
    std::size_t room;
    {
      std::unique_lock lock(signals_->mutex);
      signals_->workers_wake.wait(
          lock, [this] { return signals_->stop_workers || ready_.size() + busy_ < capacity_; });
      if (signals_->stop_workers) return;
      seen = signals_->activity_notices;
      room = capacity_ - ready_.size() - busy_;
    }
    const std::optional<TimestampMs> next_retry = release_deferred(wall_now_ms());
    auto fetched = services_.store->fetch_activities(wall_now_ms(), room, lease);
    if (fetched && !fetched->empty()) {
      pause = accept(std::move(*fetched))
                  ? std::chrono::milliseconds{0}
                  : std::clamp(2 * pause, kFirstIntakePause, kMaxIntakePause);
      continue;
    }
    if (!fetched) {
      services_.logger.log(LogLevel::Error, "fetching activities failed: {}",
                           fetched.error().to_string());
    }
    // Sleep until a commit enqueues activities or a deferred item is due; an expired lease
    // needs no notice, so look again after a lease period at the latest.
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(lease);
    if (next_retry) {
      wait = std::min(
          wait, std::chrono::milliseconds(std::max<TimestampMs>(*next_retry - wall_now_ms(), 1)));
    }
    std::unique_lock lock(signals_->mutex);
    signals_->workers_wake.wait_for(
        lock, wait, [&] { return signals_->stop_workers || signals_->activity_notices != seen; });
  }
}

// Returns: false if the workers stop meanwhile.
bool ActivityWorkers::pause_intake(std::chrono::milliseconds pause) {
  std::unique_lock lock(signals_->mutex);
  return !signals_->workers_wake.wait_for(lock, pause, [this] { return signals_->stop_workers; });
}

void ActivityWorkers::work() {
  for (;;) {
    Ready next;
    {
      std::unique_lock lock(signals_->mutex);
      signals_->workers_wake.wait(lock,
                                  [this] { return signals_->stop_workers || !ready_.empty(); });
      if (signals_->stop_workers) return;  // what is still queued goes back in stop()
      next = std::move(ready_.front());
      ready_.pop_front();
      ++busy_;
    }
    const ActivityWorkItem& item = next.queued.item;
    bool cancelled = false;
    {
      std::lock_guard lock(running_mutex_);
      in_hand_[next.queued.key] = wall_now_ms();
      cancelled =
          cancelled_early_.erase({item.instance_id, item.execution_id, item.activity_id}) != 0;
    }
    if (cancelled) {
      finish(next.queued, std::nullopt);  // cancelled while it waited: not run
    } else {
      run(next);
    }
    std::lock_guard lock(signals_->mutex);
    --busy_;
    signals_->workers_wake.notify_all();  // the intake may lease more
  }
}

// Sorts fetched activities: cancelled before they started, unregistered, poisoned, or ready
// to run (once their start is durable, if they were left from before this runtime).
// Returns: false if the start record failed to commit (the activities went back unstarted).
bool ActivityWorkers::accept(std::vector<QueuedActivity> fetched) {
  const std::uint32_t max_attempts = std::max<std::uint32_t>(services_.options.max_attempts, 1);
  const TimestampMs lease_ms = services_.options.activity_lease.count();
  const TimestampMs now = wall_now_ms();
  std::vector<Ready> ready;
  for (auto& queued : fetched) {
    const ActivityWorkItem& item = queued.item;
    bool cancelled = false;
    {
      std::lock_guard lock(running_mutex_);
      auto held = in_hand_.find(queued.key);
      if (held != in_hand_.end() &&
          (held->second == kNotStarted || now - held->second < lease_ms)) {
        continue;  // ours already: waiting or running within its lease
      }
      cancelled =
          cancelled_early_.erase({item.instance_id, item.execution_id, item.activity_id}) != 0;
    }
    if (cancelled) {
      finish(queued, std::nullopt);  // its call was cancelled before it started: not run
      continue;
    }
    const ActivityFn* fn = services_.activities.find(item.name);
    if (fn == nullptr) {
      defer(queued);
      continue;
    }
    {
      std::lock_guard lock(deferred_mutex_);
      unregistered_tries_.erase(queued.key);
    }
    // An activity queued before this runtime started may have been running when the previous
    // one died: its delivery counts (durably, before it runs), so one that kills the process
    // every time is poisoned after max_attempts restarts. Activities queued during this
    // runtime's life need no such record: if one kills the process, the next runtime finds it.
    std::optional<std::uint32_t> restore_attempt;
    {
      std::lock_guard lock(running_mutex_);
      if (queued.key.seq < services_.recovered_below && !marked_.contains(queued.key)) {
        restore_attempt = item.attempt;
        if (queued.item.attempt != UINT32_MAX) ++queued.item.attempt;
      }
    }
    if (item.attempt > max_attempts) {
      give_up(queued, "Poison",
              fmt::format("activity '{}' (event {}) was delivered {} times without completing "
                          "(max_attempts {})",
                          item.name, item.activity_id, item.attempt - 1, max_attempts));
      continue;
    }
    ready.push_back(Ready{std::move(queued), fn, restore_attempt});
  }
  if (ready.empty()) return true;
  if (!mark_started(ready)) return false;
  {
    std::lock_guard lock(running_mutex_);
    for (const auto& entry : ready) in_hand_[entry.queued.key] = kNotStarted;
  }
  std::lock_guard lock(signals_->mutex);
  for (auto& entry : ready) ready_.push_back(std::move(entry));
  signals_->workers_wake.notify_all();
  return true;
}

// Makes the deliveries of activities left from before this runtime count before they run:
// the stored attempt becomes the one they run with, and a restart adds one to it.
bool ActivityWorkers::mark_started(const std::vector<Ready>& ready) {
  WriteBatch mark;
  for (const auto& entry : ready) {
    if (entry.restore_attempt) {
      mark.activity_attempts.emplace_back(entry.queued.key, entry.queued.item.attempt);
    }
  }
  if (mark.activity_attempts.empty()) return true;
  std::vector<QueueKey> marked;
  for (const auto& [key, attempt] : mark.activity_attempts) marked.push_back(key);
  if (auto recorded = services_.store->commit_sync(std::move(mark)); !recorded) {
    services_.logger.log(LogLevel::Error, "recording the start of {} activities failed: {}",
                         marked.size(), recorded.error().to_string());
    std::vector<QueueKey> keys;
    for (const auto& entry : ready) keys.push_back(entry.queued.key);
    services_.store->return_activities(keys);  // none of them started: no attempt spent
    return false;
  }
  std::lock_guard lock(running_mutex_);
  marked_.insert(marked.begin(), marked.end());
  return true;
}

void ActivityWorkers::run(const Ready& ready) {
  const QueuedActivity& queued = ready.queued;
  const ActivityFn& fn = *ready.fn;
  const ActivityWorkItem& item = queued.item;
  const Logger& logger = services_.logger;
  const Flag cancelled = track(item);
  ActivityContext context(
      ActivityContext::Info{item.instance_id, item.execution_id, item.orchestration_name, item.name,
                            item.activity_id, item.attempt},
      [&logger, &item](std::string_view level, std::string_view message) {
        const LogLevel as = level == "error"   ? LogLevel::Error
                            : level == "warn"  ? LogLevel::Warn
                            : level == "debug" ? LogLevel::Debug
                                               : LogLevel::Info;
        logger.log(as, "[{} activity {} '{}'] {}", item.instance_id, item.activity_id, item.name,
                   message);
      },
      cancelled);
  Result<std::string> result = std::string();
  try {
    result = fn(context, item.input);
  } catch (const std::exception& e) {
    result = Err(std::string(e.what()));
  } catch (...) {
    result = Err(std::string("activity threw an unknown exception"));
  }
  untrack(item.instance_id, cancelled);
  const std::size_t size = result ? result.value().size() : result.error().size();
  if (size > kMaxPayloadBytes) {  // the store would refuse it; the orchestration learns why
    result =
        Err(fmt::format("activity '{}' returned {} {} bytes, over the limit of {} bytes", item.name,
                        result ? "an output of" : "an error of", size, kMaxPayloadBytes));
  }
  if (signals_->cancel_activities->load()) {
    // Stopped by shutdown: what it returned is no outcome. The item stays in the store and
    // runs again under the next runtime (at least once).
    forget(queued.key);
    services_.store->release_activities({queued.key});
    return;
  }
  OrchestratorMessage completion;
  completion.instance_id = item.instance_id;
  completion.execution_id = item.execution_id;
  completion.kind = result ? MessageKind::ActivityCompleted : MessageKind::ActivityFailed;
  completion.source_id = item.activity_id;
  completion.visible_at = services_.now();
  completion.data = result ? std::move(result).value() : result.error();
  // The short cut ties the outcome's durability to the instance's next step. An activity left
  // from before this runtime takes the long way: if that step kills the process again, the
  // outcome is safe in the store and the instance's restarts count (not this activity's).
  if (!ready.restore_attempt &&
      router_.deliver_result(ActivityResult{queued.key, completion, std::nullopt})) {
    forget(queued.key);  // the instance's step deletes the item, or store_result does
    return;
  }
  finish(queued, std::move(completion), ready.restore_attempt);
}

void ActivityWorkers::store_result(ActivityResult result) {
  QueuedActivity queued;
  queued.key = result.activity_key;
  queued.item.instance_id = result.message.instance_id;
  finish(queued, std::move(result.message), result.restore_attempt);
}

// The activity will not run: its instance fails with `kind` (Poison, UnregisteredActivity).
void ActivityWorkers::give_up(const QueuedActivity& queued, const char* kind, std::string why) {
  services_.logger.log(LogLevel::Error, "instance '{}': {}", queued.item.instance_id, why);
  OrchestratorMessage message;
  message.instance_id = queued.item.instance_id;
  message.execution_id = queued.item.execution_id;
  message.kind = MessageKind::ActivityAbandoned;
  message.source_id = queued.item.activity_id;
  message.visible_at = services_.now();
  message.name = kind;
  message.data = std::move(why);
  finish(queued, std::move(message));
}

// Removes the item and sends `message` (if any) in one commit, without waiting for it.
void ActivityWorkers::finish(const QueuedActivity& queued,
                             std::optional<OrchestratorMessage> message,
                             std::optional<std::uint32_t> restore_attempt) {
  WriteBatch batch;
  batch.instance_id = queued.item.instance_id;
  batch.consumed_activities.push_back(queued.key);
  if (message) batch.messages.push_back(std::move(*message));
  // Lifetime: the runtime flushes every commit (and so runs this callback) before it destroys
  // the workers.
  services_.store->commit(std::move(batch),
                          [this, key = queued.key, restore_attempt](Result<void, Error> committed) {
                            // Until the item is gone from the store, a hand-out of it (its lease
                            // may have run out meanwhile) is a copy to ignore.
                            forget(key);
                            if (committed) {
                              std::lock_guard lock(deferred_mutex_);
                              unstored_tries_.erase(key);
                            } else {
                              retry_unstored(key, restore_attempt);  // run it again: at least once
                            }
                          });
}

// The outcome was lost to the store, not to the activity: the delivery does not count toward
// poison (a full disk must not fail instances), and the activity runs again after a back-off.
// Runs on the store's writer thread: it only books the retry; the intake does the rest.
void ActivityWorkers::retry_unstored(const QueueKey& key,
                                     std::optional<std::uint32_t> restore_attempt) {
  {
    std::lock_guard lock(deferred_mutex_);
    const unsigned tries = ++unstored_tries_[key];
    deferred_[key] =
        Deferred{wall_now_ms() + doubling_wait(kUnstoredFirstWaitMs, kUnstoredMaxWaitMs, tries),
                 restore_attempt};
  }
  std::lock_guard lock(signals_->mutex);
  ++signals_->activity_notices;  // the intake recomputes when it next looks
  signals_->workers_wake.notify_all();
}

// The item is gone from the store, or goes back to the queue (with its attempt restored, or
// counted): a later delivery is judged afresh.
void ActivityWorkers::forget(const QueueKey& key) {
  std::lock_guard lock(running_mutex_);
  in_hand_.erase(key);
  marked_.erase(key);
}

// An unregistered activity keeps its lease until a retry time that doubles each time; after
// RuntimeOptions::unregistered_retries retries its instance is told.
void ActivityWorkers::defer(const QueuedActivity& queued) {
  const ActivityWorkItem& item = queued.item;
  unsigned tries = 0;
  {
    std::lock_guard lock(deferred_mutex_);
    tries = ++unregistered_tries_[queued.key];
    if (tries <= services_.options.unregistered_retries) {
      deferred_[queued.key] = Deferred{
          wall_now_ms() + doubling_wait(kUnregisteredFirstWaitMs, kUnregisteredMaxWaitMs, tries),
          std::nullopt};
    } else {
      unregistered_tries_.erase(queued.key);
    }
  }
  if (tries <= services_.options.unregistered_retries) {
    services_.logger.log(LogLevel::Warn, "instance '{}': activity '{}' is not registered",
                         item.instance_id, item.name);
    return;
  }
  give_up(queued, "UnregisteredActivity",
          fmt::format("activity '{}' is not registered", item.name));
}

// Returns: the earliest retry time still ahead, if any.
std::optional<TimestampMs> ActivityWorkers::release_deferred(TimestampMs now) {
  std::map<QueueKey, std::optional<std::uint32_t>> due;
  std::optional<TimestampMs> next;
  {
    std::lock_guard lock(deferred_mutex_);
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      if (it->second.until <= now) {
        due.emplace(it->first, it->second.restore_attempt);
        it = deferred_.erase(it);
      } else {
        next = next ? std::min(*next, it->second.until) : it->second.until;
        ++it;
      }
    }
  }
  return_deferred(std::move(due));
  return next;
}

// Puts deferred items back in the queue, first restoring the attempts of those whose outcome
// was lost (if that commit fails too, the delivery counts after all).
void ActivityWorkers::return_deferred(std::map<QueueKey, std::optional<std::uint32_t>> due) {
  if (due.empty()) return;
  WriteBatch restore;
  std::vector<QueueKey> keys;
  for (const auto& [key, attempt] : due) {
    if (attempt) restore.activity_attempts.emplace_back(key, *attempt);
    keys.push_back(key);
  }
  if (!restore.activity_attempts.empty()) {
    (void)services_.store->commit_sync(std::move(restore));
  }
  services_.store->return_activities(keys);  // waiting is no attempt
}

}  // namespace duroxide::engine
