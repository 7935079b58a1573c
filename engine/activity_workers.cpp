// SPDX-License-Identifier: MIT
// The workers' loop: lease an activity, run it, commit its completion.
#include "engine/activity_workers.hpp"

#include "engine/clock.hpp"

namespace duroxide::engine {

ActivityWorkers::ActivityWorkers(const Services& services, std::shared_ptr<Signals> signals)
    : services_(services), signals_(std::move(signals)) {
  const std::size_t count = std::max<std::size_t>(services_.options.activity_workers, 1);
  signals_->workers_running = count;
  for (std::size_t i = 0; i < count; ++i) {
    threads_.emplace_back([this] {
      main();
      std::lock_guard lock(signals_->mutex);
      --signals_->workers_running;
      signals_->workers_done.notify_all();
    });
  }
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
    for (auto& [id, flag] : running_) flag->store(true);
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void ActivityWorkers::cancel_instance(const std::string& instance_id) {
  std::lock_guard lock(running_mutex_);
  auto [begin, end] = running_.equal_range(instance_id);
  for (auto it = begin; it != end; ++it) it->second->store(true);
}

ActivityWorkers::Flag ActivityWorkers::track(const std::string& instance_id) {
  std::lock_guard lock(running_mutex_);
  auto flag = std::make_shared<std::atomic<bool>>(signals_->cancel_activities->load());
  running_.emplace(instance_id, flag);
  return flag;
}

void ActivityWorkers::untrack(const std::string& instance_id, const Flag& flag) {
  std::lock_guard lock(running_mutex_);
  auto [begin, end] = running_.equal_range(instance_id);
  for (auto it = begin; it != end; ++it) {
    if (it->second == flag) {
      running_.erase(it);
      return;
    }
  }
}

void ActivityWorkers::main() {
  const auto lease = services_.options.activity_lease;
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(signals_->mutex);
      if (signals_->stop_workers) return;
      seen = signals_->activity_notices;
    }
    auto fetched = services_.store->fetch_activities(wall_now_ms(), 1, lease);
    if (fetched && !fetched->empty()) {
      run(std::move(fetched->front()));
      continue;
    }
    if (!fetched) {
      services_.logger.log(LogLevel::Error, "fetching activities failed: {}",
                           fetched.error().to_string());
    }
    // Sleep until a commit enqueues activities; an expired lease needs no notice, so look
    // again after a lease period at the latest.
    std::unique_lock lock(signals_->mutex);
    signals_->workers_wake.wait_for(
        lock, lease, [&] { return signals_->stop_workers || signals_->activity_notices != seen; });
  }
}

Result<std::string> ActivityWorkers::invoke(ActivityContext& context,
                                            const ActivityWorkItem& item) {
  const ActivityFn* fn = services_.activities.find(item.name);
  if (fn == nullptr) {
    // TODO(#3): fail the instance as Configuration/UnregisteredActivity after a back-off.
    return Err("unregistered activity '" + item.name + "'");
  }
  try {
    return (*fn)(context, item.input);
  } catch (const std::exception& e) {
    return Err(std::string(e.what()));
  } catch (...) {
    return Err("activity threw an unknown exception");
  }
}

void ActivityWorkers::run(QueuedActivity queued) {
  const ActivityWorkItem& item = queued.item;
  const Logger& logger = services_.logger;
  const Flag cancelled = track(item.instance_id);
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
  auto result = invoke(context, item);
  untrack(item.instance_id, cancelled);
  if (signals_->cancel_activities->load()) {
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
  completion.visible_at = wall_now_ms();
  completion.data = result ? std::move(result).value() : result.error();
  WriteBatch batch;
  batch.instance_id = item.instance_id;
  batch.consumed_activities.push_back(queued.key);
  batch.messages.push_back(std::move(completion));
  services_.store->commit(
      std::move(batch), [store = services_.store, key = queued.key](Result<void, Error> committed) {
        if (!committed) store->release_activities({key});  // run it again: at least once
      });
}

}  // namespace duroxide::engine
