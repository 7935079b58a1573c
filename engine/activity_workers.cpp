// SPDX-License-Identifier: MIT
// The workers' loop: lease an activity, record that it starts, run it, commit its completion.
#include "engine/activity_workers.hpp"

#include <algorithm>
#include <limits>
#include <mutex>

#include <fmt/format.h>

#include <duroxide/client.hpp>

#include "engine/backoff.hpp"
#include "engine/clock.hpp"

namespace duroxide::engine {
namespace {

// More cancellations of not-yet-handed-out activities than this are forgotten (their results
// are dropped by the instance anyway); it only bounds memory.
constexpr std::size_t kMaxEarlyCancels = 4096;

// The intake leases at least this many activities ahead of the workers: a lease round of
// left-over activities costs one durable start record (an fsync), and every round costs a
// fetch, so each must carry many activities for throughput not to be bound by the workers'
// count. One runtime dispatches from a store, so leasing ahead takes work from nobody.
constexpr std::size_t kMinLeased = 256;

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
      std::lock_guard lock(signals_->workers_mutex);
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
  {
    std::unique_lock lock(signals_->workers_mutex);
    signals_->stop_workers = true;
    signals_->intake_wake.notify_all();
    ready_wake_.notify_all();
    // Running activities get `grace` to finish, then are asked to stop. The threads are
    // joined either way: activity code must return for the runtime to end.
    const bool cancel = grace && !signals_->workers_done.wait_for(lock, *grace, [this] {
      return signals_->workers_running == 0;
    });
    if (cancel) {
      // Under the lock under which runs get their flags: none is missed.
      signals_->cancel_activities->store(true);
      for (auto& [key, held] : held_) {
        if (held.cancelled) held.cancelled->store(true);
      }
    }
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  return_unstarted();
}

void ActivityWorkers::cancel_instance(const std::string& instance_id) {
  std::lock_guard lock(signals_->workers_mutex);
  for (auto it = held_.lower_bound(HeldKey{instance_id, 0, 0, std::nullopt});
       it != held_.end() && it->first.instance_id == instance_id; ++it) {
    if (it->second.cancelled) it->second.cancelled->store(true);
  }
}

void ActivityWorkers::cancel_activity(const std::string& instance_id, std::uint64_t execution_id,
                                      std::uint64_t activity_id) {
  std::lock_guard lock(signals_->workers_mutex);
  HeldKey call{instance_id, execution_id, activity_id, std::nullopt};
  bool known = false;
  auto same_call = [&](const HeldKey& key) {
    return key.instance_id == instance_id && key.execution_id == execution_id &&
           key.activity_id == activity_id;
  };
  for (auto it = held_.lower_bound(call); it != held_.end() && same_call(it->first); ++it) {
    known = true;
    Held& held = it->second;
    if (held.cancelled) {
      held.cancelled->store(true);  // it runs (or may, until its run has ended)
    } else if (held.stage != Stage::CancelledEarly) {
      held.cancel_requested = true;
    }
  }
  if (known) return;
  if (early_cancels_ >= kMaxEarlyCancels) {
    for (auto it = held_.begin(); it != held_.end();) {
      it = it->second.stage == Stage::CancelledEarly ? erase(it) : std::next(it);
    }
  }
  held_[std::move(call)].stage = Stage::CancelledEarly;
  ++early_cancels_;
}

// The intake: leases what there is room for, sorts it, and sleeps until a commit enqueues
// activities, a kept item is due, or a lease may have run out.
void ActivityWorkers::intake() {
  const auto lease = services_.options.activity_lease;
  std::chrono::milliseconds pause{0};  // after start records that failed to commit
  for (;;) {
    if (pause.count() > 0 && !pause_intake(pause)) return;
    std::uint64_t seen;
    std::size_t room;
    {
      std::unique_lock lock(signals_->workers_mutex);
      signals_->intake_wake.wait(
          lock, [this] { return signals_->stop_workers || ready_.size() + busy_ < capacity_; });
      if (signals_->stop_workers) return;
      seen = signals_->activity_notices;
      room = capacity_ - ready_.size() - busy_;
    }
    const std::optional<TimestampMs> next_retry = return_due(wall_now_ms());
    auto fetched = services_.store->fetch_activities(wall_now_ms(), room, lease);
    if (fetched && !fetched->empty()) {
      pause = accept(std::move(*fetched))
                  ? std::chrono::milliseconds{0}
                  : std::clamp(2 * pause, kIntakeRetry.first, kIntakeRetry.longest);
      continue;
    }
    if (!fetched) {
      services_.logger.log(LogLevel::Error, "fetching activities failed: {}",
                           fetched.error().to_string());
    }
    // An expired lease needs no notice, so look again after a lease period at the latest.
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(lease);
    if (next_retry) {
      wait = std::min(
          wait, std::chrono::milliseconds(std::max<TimestampMs>(*next_retry - wall_now_ms(), 1)));
    }
    std::unique_lock lock(signals_->workers_mutex);
    signals_->intake_wake.wait_for(
        lock, wait, [&] { return signals_->stop_workers || signals_->activity_notices != seen; });
  }
}

// Returns: false if the workers stop meanwhile.
bool ActivityWorkers::pause_intake(std::chrono::milliseconds pause) {
  std::unique_lock lock(signals_->workers_mutex);
  return !signals_->intake_wake.wait_for(lock, pause, [this] { return signals_->stop_workers; });
}

// Decides first (each fetched item against the map, under one lock), then acts: commits
// what is not to run, records the start of left-over items, and queues the rest.
// Returns: false if the start record failed to commit (the activities went back unstarted).
bool ActivityWorkers::accept(std::vector<QueuedActivity> fetched) {
  std::vector<Sorted> sorted;
  sorted.reserve(fetched.size());
  {
    std::lock_guard lock(signals_->workers_mutex);
    const TimestampMs now = wall_now_ms();
    for (const auto& queued : fetched) sorted.push_back(classify(queued, now));
  }
  std::vector<Job> ready;
  for (std::size_t i = 0; i < fetched.size(); ++i) act(fetched[i], sorted[i], ready);
  if (ready.empty()) return true;
  if (!mark_started(ready)) return false;
  admit(std::move(ready));
  return true;
}

// Returns: the item's entry (null if none), and whether its call was cancelled before any
// hand-out. Under the lock.
std::pair<const ActivityWorkers::Held*, bool> ActivityWorkers::lookup(
    const QueuedActivity& queued) const {
  const ActivityWorkItem& item = queued.item;
  std::pair<const Held*, bool> found{nullptr, false};
  for (auto it = held_.lower_bound(
           HeldKey{item.instance_id, item.execution_id, item.activity_id, std::nullopt});
       it != held_.end() && it->first.instance_id == item.instance_id &&
       it->first.execution_id == item.execution_id && it->first.activity_id == item.activity_id;
       ++it) {
    if (!it->first.record) found.second = true;
    if (it->first.record == queued.key) found.first = &it->second;
  }
  return found;
}

// Under the lock; changes nothing.
ActivityWorkers::Sorted ActivityWorkers::classify(const QueuedActivity& queued,
                                                  TimestampMs now) const {
  const ActivityWorkItem& item = queued.item;
  const auto [held, cancelled_early] = lookup(queued);
  // The store hands out again only an item whose lease ran out; a copy of what this runtime
  // holds is ignored, unless it is of an activity that has run for a whole lease.
  Sorted sorted;
  if (held && holds(held->stage) &&
      (held->stage != Stage::Running ||
       now - held->started < services_.options.activity_lease.count())) {
    return sorted;
  }
  if (cancelled_early || (held && held->cancel_requested)) {
    sorted.verdict = Verdict::CancelledEarly;
    return sorted;
  }
  sorted.verdict = Verdict::New;
  sorted.fn = services_.activities.find(item.name);
  if (sorted.fn == nullptr) {
    sorted.tries = (held ? held->unregistered_tries : 0) + 1;
    sorted.verdict = sorted.tries <= services_.options.unregistered_retries
                         ? Verdict::AwaitRegistration
                         : Verdict::Unregistered;
    return sorted;
  }
  // An activity queued before this runtime started may have been running when the previous
  // one died: its delivery counts (durably, before it runs), so one that kills the process
  // every time is poisoned after max_attempts restarts. Activities queued during this
  // runtime's life need no such record: if one kills the process, the next runtime finds it.
  sorted.attempt = item.attempt;
  if (queued.key.seq < services_.recovered_below && !(held && held->marked)) {
    sorted.verdict = Verdict::LeftOver;
    sorted.restore_attempt = item.attempt;
    if (sorted.attempt != UINT32_MAX) ++sorted.attempt;
  }
  if (sorted.attempt > std::max<std::uint32_t>(services_.options.max_attempts, 1)) {
    sorted.verdict = Verdict::Poisoned;
  }
  return sorted;
}

// Carries out one verdict; what is to run goes to `ready`.
void ActivityWorkers::act(QueuedActivity& queued, const Sorted& sorted, std::vector<Job>& ready) {
  const ActivityWorkItem& item = queued.item;
  switch (sorted.verdict) {
    case Verdict::Held:
      return;
    case Verdict::CancelledEarly:
      finish(queued, std::nullopt, std::nullopt, 0);  // its call was cancelled: not run
      return;
    case Verdict::AwaitRegistration:
      defer(queued, sorted.tries);
      return;
    case Verdict::Unregistered:
      give_up(queued, ErrorKind::UnregisteredActivity,
              fmt::format("activity '{}' is not registered", item.name));
      return;
    case Verdict::Poisoned:
      give_up(queued, ErrorKind::Poison,
              fmt::format("activity '{}' (event {}) was delivered {} times without completing "
                          "(max_attempts {})",
                          item.name, item.activity_id, sorted.attempt - 1,
                          std::max<std::uint32_t>(services_.options.max_attempts, 1)));
      return;
    case Verdict::New:
    case Verdict::LeftOver:
      queued.item.attempt = sorted.attempt;
      ready.push_back(Job{std::move(queued), sorted.fn, sorted.restore_attempt, 0, nullptr});
      return;
  }
}

// Makes the deliveries of activities left from before this runtime count before they run:
// the stored attempt becomes the one they run with, and a restart adds one to it.
bool ActivityWorkers::mark_started(const std::vector<Job>& ready) {
  WriteBatch mark;
  for (const auto& job : ready) {
    if (job.restore_attempt) {
      mark.activity_attempts.emplace_back(job.queued.key, job.queued.item.attempt);
    }
  }
  if (mark.activity_attempts.empty()) return true;
  const std::size_t count = mark.activity_attempts.size();
  if (auto recorded = services_.store->commit_sync(std::move(mark)); !recorded) {
    services_.logger.log(LogLevel::Error, "recording the start of {} activities failed: {}", count,
                         recorded.error().to_string());
    std::vector<QueueKey> keys;
    for (const auto& job : ready) keys.push_back(job.queued.key);
    services_.store->return_activities(keys);  // none of them started: no attempt spent
    return false;
  }
  return true;
}

// Queues accepted items for the workers. A running activity handed out again gets a second
// run beside the first; both share its cancel flag.
void ActivityWorkers::admit(std::vector<Job> ready) {
  std::lock_guard lock(signals_->workers_mutex);
  for (auto& job : ready) {
    const auto it = entry_for(key_of(job.queued));
    Held& held = it->second;
    if (held.stage == Stage::Waiting) continue;  // queued already
    set_stage(held, Stage::Waiting);
    held.delivery = ++last_delivery_;
    held.marked = held.marked || job.restore_attempt.has_value();
    held.queued = std::move(job.queued);
    held.fn = job.fn;
    held.restore_attempt = job.restore_attempt;
    held.unregistered_tries = 0;
    ready_.push_back(it);
  }
  ready_wake_.notify_all();
}

void ActivityWorkers::work() {
  while (std::optional<Job> job = next_job()) {
    if (job->cancelled) {
      run(std::move(*job));
    } else {
      finish(job->queued, std::nullopt, std::nullopt, job->delivery);  // cancelled while it waited
    }
  }
}

// Returns: the next item to run (or to remove unrun: a null flag), or nullopt when stopping
// (what is still queued goes back in stop()).
std::optional<ActivityWorkers::Job> ActivityWorkers::next_job() {
  std::unique_lock lock(signals_->workers_mutex);
  ready_wake_.wait(lock, [this] { return signals_->stop_workers || !ready_.empty(); });
  if (signals_->stop_workers) return std::nullopt;
  Held& held = ready_.front()->second;
  ready_.pop_front();
  Job job{std::move(held.queued), held.fn, held.restore_attempt, held.delivery, nullptr};
  if (held.cancel_requested) {
    set_stage(held, Stage::Committing);
    signals_->intake_wake.notify_one();  // it leaves ready_ without running: room to lease
    return job;
  }
  set_stage(held, Stage::Running);
  held.started = wall_now_ms();
  ++held.runs;
  if (!held.cancelled) {
    held.cancelled = std::make_shared<std::atomic<bool>>(signals_->cancel_activities->load());
  }
  job.cancelled = held.cancelled;
  ++busy_;
  return job;
}

void ActivityWorkers::run(Job job) {
  const QueuedActivity& queued = job.queued;
  const ActivityWorkItem& item = queued.item;
  const Logger& logger = services_.logger;
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
      job.cancelled);
  Result<std::string> result = std::string();
  try {
    result = (*job.fn)(context, item.input);
  } catch (const std::exception& e) {
    result = Err(std::string(e.what()));
  } catch (...) {
    result = Err(std::string("activity threw an unknown exception"));
  }
  const std::size_t size = result ? result.value().size() : result.error().size();
  if (size > kMaxPayloadBytes) {  // the store would refuse it; the orchestration learns why
    result =
        Err(fmt::format("activity '{}' returned {} {} bytes, over the limit of {} bytes", item.name,
                        result ? "an output of" : "an error of", size, kMaxPayloadBytes));
  }
  // The short cut ties the outcome's durability to the instance's next step. An activity left
  // from before this runtime takes the long way: if that step kills the process again, the
  // outcome is safe in the store and the instance's restarts count (not this activity's).
  const bool short_cut = !job.restore_attempt;
  const After after = end_run(job, short_cut);
  if (after == After::Release) {
    // Stopped by shutdown: what it returned is no outcome. The item stays in the store and
    // runs again under the next runtime (at least once).
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
  if (after == After::Deliver &&
      router_.deliver_result(ActivityResult{queued.key, completion, std::nullopt})) {
    return;  // the instance's step deletes the item, or store_result does
  }
  finish(queued, std::move(completion), job.restore_attempt, job.delivery);
}

// Ends a run in the map and says where its outcome goes. A handed-over outcome (Deliver) or a
// released item leaves the map; a committed one stays held until its commit is durable.
ActivityWorkers::After ActivityWorkers::end_run(Job& job, bool short_cut) {
  std::lock_guard lock(signals_->workers_mutex);
  --busy_;
  signals_->intake_wake.notify_one();  // the intake may lease more
  const After after = signals_->cancel_activities->load() ? After::Release
                      : short_cut                         ? After::Deliver
                                                          : After::Commit;
  const auto it = held_.find(key_of(job.queued));
  if (it != held_.end()) --it->second.runs;
  if (it == held_.end() || it->second.delivery != job.delivery) {
    job.delivery = 0;  // handed out again meanwhile: the entry is the newer run's
    // The last of the runs of an item no longer held: its entry may go now.
    if (it != held_.end() && it->second.runs == 0 && it->second.stage == Stage::Away) {
      it->second.cancelled.reset();
      settle(it);
    }
    return after;
  }
  // A run that outlived its lease may still be in progress beside this one: it keeps the flag.
  if (it->second.runs == 0) it->second.cancelled.reset();
  if (after == After::Commit) {
    set_stage(it->second, Stage::Committing);
  } else {
    settle(it);
    job.delivery = 0;  // a commit after a refused hand-over takes the entry afresh
  }
  return after;
}

void ActivityWorkers::store_result(ActivityResult result) {
  QueuedActivity queued;
  queued.key = result.activity_key;
  queued.item.instance_id = result.message.instance_id;
  queued.item.execution_id = result.message.execution_id;
  queued.item.activity_id = result.message.source_id;
  finish(queued, std::move(result.message), result.restore_attempt, 0);
}

// The activity will not run: its instance fails with `kind` (Poison, UnregisteredActivity).
void ActivityWorkers::give_up(const QueuedActivity& queued, ErrorKind kind, std::string why) {
  services_.logger.log(LogLevel::Error, "instance '{}': {}", queued.item.instance_id, why);
  OrchestratorMessage message;
  message.instance_id = queued.item.instance_id;
  message.execution_id = queued.item.execution_id;
  message.kind = MessageKind::ActivityAbandoned;
  message.source_id = queued.item.activity_id;
  message.visible_at = services_.now();
  message.name = std::string(to_string(kind));
  message.data = std::move(why);
  finish(queued, std::move(message), std::nullopt, 0);
}

// Removes the item and sends `message` (if any) in one commit, without waiting for it.
// `delivery`: the hand-out whose entry is Committing already, or 0: the entry is taken for
// this commit unless another hand-out of the item holds it (that one yields an outcome).
void ActivityWorkers::finish(const QueuedActivity& queued,
                             std::optional<OrchestratorMessage> message,
                             std::optional<std::uint32_t> restore_attempt, std::uint64_t delivery) {
  HeldKey key = key_of(queued);
  if (delivery == 0) {
    std::lock_guard lock(signals_->workers_mutex);
    Held& held = entry_for(key)->second;
    if (!holds(held.stage)) {
      set_stage(held, Stage::Committing);
      delivery = held.delivery = ++last_delivery_;
    }
  }
  WriteBatch batch;
  batch.instance_id = queued.item.instance_id;
  batch.consumed_activities.push_back(queued.key);
  if (message) batch.messages.push_back(std::move(*message));
  // Lifetime: the runtime flushes every commit (and so runs this callback) before it destroys
  // the workers.
  services_.store->commit(std::move(batch), [this, key = std::move(key), delivery,
                                             restore_attempt](Result<void, Error> committed) {
    if (committed) {
      stored(key, delivery);
    } else {
      retry_unstored(key, delivery, restore_attempt);  // run it again: at least once
    }
  });
}

// The item is gone from the store. Runs on the store's writer thread.
void ActivityWorkers::stored(const HeldKey& key, std::uint64_t delivery) {
  std::lock_guard lock(signals_->workers_mutex);
  const auto it = held_.find(key);
  if (it == held_.end() || delivery == 0 || it->second.delivery != delivery) return;
  if (it->second.runs == 0) {
    erase(it);
  } else {
    settle(it);  // an earlier run is still in progress: its flag stays reachable
  }
}

// The outcome was lost to the store, not to the activity: the delivery does not count toward
// poison (a full disk must not fail instances), and the activity runs again after a back-off.
// Runs on the store's writer thread: it only books the retry; the intake does the rest.
void ActivityWorkers::retry_unstored(const HeldKey& key, std::uint64_t delivery,
                                     std::optional<std::uint32_t> restore_attempt) {
  std::lock_guard lock(signals_->workers_mutex);
  Held& held = entry_for(key)->second;
  if (holds(held.stage) && (delivery == 0 || held.delivery != delivery)) {
    return;  // another hand-out of the item is held: that one yields an outcome
  }
  set_stage(held, Stage::Deferred);
  held.delivery = delivery != 0 ? delivery : ++last_delivery_;
  const unsigned tries = ++held.unstored_tries;
  held.until = wall_now_ms() + kUnstoredOutcomeRetry.after(tries).count();
  held.restore_attempt = restore_attempt;
  held.marked = false;           // it goes back to the queue: a later delivery is judged afresh
  ++signals_->activity_notices;  // the intake recomputes when it next looks
  signals_->intake_wake.notify_one();
}

// An unregistered activity keeps its lease until a retry time that doubles each time.
void ActivityWorkers::defer(const QueuedActivity& queued, unsigned tries) {
  {
    std::lock_guard lock(signals_->workers_mutex);
    Held& held = entry_for(key_of(queued))->second;
    if (holds(held.stage)) return;  // taken meanwhile by an outcome commit that failed
    set_stage(held, Stage::Deferred);
    held.delivery = ++last_delivery_;
    held.until = wall_now_ms() + kUnregisteredActivityRetry.after(tries).count();
    held.unregistered_tries = tries;
    held.restore_attempt.reset();
  }
  services_.logger.log(LogLevel::Warn, "instance '{}': activity '{}' is not registered",
                       queued.item.instance_id, queued.item.name);
}

// Gives due Deferred items back to the store (their counts stay in the map).
// Returns: the earliest retry time still ahead, if any.
std::optional<TimestampMs> ActivityWorkers::return_due(TimestampMs now) {
  std::vector<QueueKey> keys;
  WriteBatch restore;
  std::optional<TimestampMs> next;
  {
    std::lock_guard lock(signals_->workers_mutex);
    if (deferred_ == 0) return std::nullopt;
    for (auto& [key, held] : held_) {
      if (held.stage != Stage::Deferred) continue;
      if (held.until > now) {
        next = next ? std::min(*next, held.until) : held.until;
        continue;
      }
      keys.push_back(*key.record);
      if (held.restore_attempt) {
        restore.activity_attempts.emplace_back(*key.record, *held.restore_attempt);
      }
      held.restore_attempt.reset();
      set_stage(held, Stage::Away);
    }
  }
  give_back(std::move(keys), std::move(restore));
  return next;
}

// Activities leased but not started (queued, or kept for a retry) go back with the attempt
// they had, so a clean stop costs them no attempt.
void ActivityWorkers::return_unstarted() {
  std::vector<QueueKey> keys;
  WriteBatch restore;
  {
    std::lock_guard lock(signals_->workers_mutex);
    for (auto it = held_.begin(); it != held_.end();) {
      const Held& held = it->second;
      if (held.stage != Stage::Waiting && held.stage != Stage::Deferred) {
        ++it;
        continue;
      }
      keys.push_back(*it->first.record);
      if (held.restore_attempt) {
        restore.activity_attempts.emplace_back(*it->first.record, *held.restore_attempt);
      }
      it = erase(it);
    }
    ready_.clear();
  }
  give_back(std::move(keys), std::move(restore));
}

// Returns leased items to the queue as not handed out, first restoring the attempts in
// `restore` (of those whose outcome was lost, or whose start was counted but did not happen).
void ActivityWorkers::give_back(std::vector<QueueKey> keys, WriteBatch restore) {
  if (keys.empty()) return;
  if (!restore.activity_attempts.empty()) {
    if (auto restored = services_.store->commit_sync(std::move(restore)); !restored) {
      // Not worth more: at worst these deliveries count one attempt each.
      services_.logger.log(LogLevel::Warn, "restoring the attempts of {} activities failed: {}",
                           keys.size(), restored.error().to_string());
    }
  }
  services_.store->return_activities(keys);  // waiting is no attempt
}

ActivityWorkers::HeldKey ActivityWorkers::key_of(const QueuedActivity& queued) {
  return HeldKey{queued.item.instance_id, queued.item.execution_id, queued.item.activity_id,
                 queued.key};
}

// Returns: the entry of `key` (created Away if there is none), with a cancel that came before
// the item was handed out folded into it.
ActivityWorkers::HeldMap::iterator ActivityWorkers::entry_for(HeldKey key) {
  auto [it, created] = held_.try_emplace(key);
  key.record.reset();
  if (const auto early = held_.find(key); early != held_.end()) {
    it->second.cancel_requested = true;
    erase(early);
  }
  return it;
}

void ActivityWorkers::set_stage(Held& held, Stage stage) {
  if (held.stage == Stage::Deferred) --deferred_;
  if (stage == Stage::Deferred) ++deferred_;
  held.stage = stage;
}

// The item is no longer held: the entry goes, unless counts of its retries must outlive it.
void ActivityWorkers::settle(HeldMap::iterator it) {
  Held& held = it->second;
  if (held.unstored_tries == 0 && held.unregistered_tries == 0 && !held.cancel_requested &&
      !held.cancelled) {
    erase(it);
    return;
  }
  set_stage(held, Stage::Away);
  held.queued = {};
  held.fn = nullptr;
  held.restore_attempt.reset();
  held.marked = false;
}

ActivityWorkers::HeldMap::iterator ActivityWorkers::erase(HeldMap::iterator it) {
  if (it->second.stage == Stage::Deferred) --deferred_;
  if (it->second.stage == Stage::CancelledEarly) --early_cancels_;
  return held_.erase(it);
}

}  // namespace duroxide::engine
