// SPDX-License-Identifier: MIT
// Runtime: starts and stops the shards, the dispatcher and the activity workers.
#include <duroxide/runtime.hpp>

#include <mutex>

#include "engine/activity_workers.hpp"
#include "engine/dispatcher.hpp"
#include "engine/router.hpp"
#include "engine/services.hpp"
#include "engine/shard.hpp"
#include "engine/signals.hpp"

namespace duroxide {

class Runtime::Impl {
 public:
  Impl(std::shared_ptr<Provider> store, ActivityRegistry activities,
       OrchestrationRegistry orchestrations, RuntimeOptions options)
      : services_{.store = std::move(store),
                  .activities = std::move(activities),
                  .orchestrations = std::move(orchestrations),
                  .options = options,
                  .logger = engine::Logger(options.log_level, options.log_sink),
                  .recovery_gate = &recovery_gate_} {}

  ~Impl() { shutdown(std::nullopt); }

  Result<void, Error> start() {
    // Read before the claim: whatever a runtime that is gone left queued is below it.
    auto recovered_below = services_.store->next_queue_seq();
    if (!recovered_below) return Err(recovered_below.error());
    services_.recovered_below = *recovered_below;
    if (auto claimed = services_.store->claim_dispatch(); !claimed) return claimed;
    claimed_ = true;
    subscription_ = services_.store->subscribe(
        [signals = signals_](const ChangeNotice& notice) { signals->on_change(notice); });
    if (services_.options.clock) {  // an advance may make timers due: the dispatcher looks
      clock_subscription_ = services_.options.clock->subscribe([signals = signals_] {
        ChangeNotice notice;
        notice.messages = true;
        signals->on_change(notice);
      });
    }
    const auto& options = services_.options;
    const std::size_t count = std::max<std::size_t>(options.orchestration_threads, 1);
    const std::size_t parked_per_shard = (options.max_parked_instances + count - 1) / count;
    for (std::size_t i = 0; i < count; ++i) {
      shards_.push_back(std::make_unique<engine::Shard>(services_, router_, parked_per_shard));
    }
    // Each part is attached before the threads that reach it through the router start: the
    // workers hand outcomes to the shards; instances (which store outcomes and cancel
    // activities) run only once the dispatcher feeds them.
    router_.attach_shards(shards_);
    workers_ = std::make_unique<engine::ActivityWorkers>(services_, router_, signals_);
    router_.attach_workers(*workers_);
    dispatcher_ = std::make_unique<engine::Dispatcher>(services_, router_, signals_);
    return {};
  }

  // Order matters: no new messages reach the shards once the dispatcher is gone; the shards
  // finish their commits and unwind; the workers' completion commits are flushed; only then
  // are the leases dropped, so that nothing is handed out twice while this runtime still acts.
  void shutdown(std::optional<std::chrono::milliseconds> grace) {
    std::lock_guard lock(shutdown_mutex_);
    if (!claimed_) return;
    if (dispatcher_) dispatcher_->stop();
    recovery_gate_.close();  // a fiber waiting there would keep its shard from stopping
    for (auto& shard : shards_) shard->stop();
    if (workers_) workers_->stop(grace);
    services_.store->unsubscribe(subscription_);
    if (services_.options.clock) services_.options.clock->unsubscribe(clock_subscription_);
    // Waits until every earlier commit's callback has run. Its own result is no news: an empty
    // batch writes nothing, and a store that fails it has failed those commits already.
    (void)services_.store->commit_sync(WriteBatch{});
    services_.store->release_dispatch();
    router_.detach();  // no thread that may use it runs any more
    dispatcher_.reset();
    shards_.clear();
    workers_.reset();
    claimed_ = false;
  }

 private:
  engine::RecoveryGate recovery_gate_;
  engine::Services services_;
  engine::Router router_;
  std::shared_ptr<engine::Signals> signals_ = std::make_shared<engine::Signals>();
  std::uint64_t subscription_ = 0;
  std::uint64_t clock_subscription_ = 0;
  std::vector<std::unique_ptr<engine::Shard>> shards_;
  std::unique_ptr<engine::Dispatcher> dispatcher_;
  std::unique_ptr<engine::ActivityWorkers> workers_;
  std::mutex shutdown_mutex_;
  bool claimed_ = false;
};

namespace {
Result<void, Error> validate(const RuntimeOptions& options) {
  auto invalid = [](const char* what) {
    return Result<void, Error>(Err(Error{ErrorCode::InvalidArgument, what}));
  };
  if (options.dispatch_batch == 0) return invalid("RuntimeOptions::dispatch_batch is 0");
  if (options.activity_lease < std::chrono::seconds(1)) {
    return invalid("RuntimeOptions::activity_lease is shorter than 1 s");
  }
  if (options.max_history_events < 16) {
    return invalid("RuntimeOptions::max_history_events is below 16");
  }
  if (options.fiber_stack_size < 16 * 1024) {
    return invalid("RuntimeOptions::fiber_stack_size is below 16 KiB");
  }
  return {};
}
}  // namespace

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() { shutdown(); }

void Runtime::shutdown(std::optional<std::chrono::milliseconds> grace) { impl_->shutdown(grace); }

Result<std::unique_ptr<Runtime>, Error> Runtime::try_start(std::shared_ptr<Provider> store,
                                                           ActivityRegistry activities,
                                                           OrchestrationRegistry orchestrations,
                                                           RuntimeOptions options) {
  if (!store) return Err(Error{ErrorCode::InvalidArgument, "store is null"});
  if (auto valid = validate(options); !valid) return Err(valid.error());
  auto impl = std::make_unique<Impl>(std::move(store), std::move(activities),
                                     std::move(orchestrations), std::move(options));
  if (auto started = impl->start(); !started) return Err(started.error());
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

std::unique_ptr<Runtime> Runtime::start_with_options(std::shared_ptr<Provider> store,
                                                     ActivityRegistry activities,
                                                     OrchestrationRegistry orchestrations,
                                                     RuntimeOptions options) {
  auto runtime = try_start(std::move(store), std::move(activities), std::move(orchestrations),
                           std::move(options));
  if (!runtime) throw ResultError(runtime.error().to_string());
  return std::move(runtime).value();
}

std::unique_ptr<Runtime> Runtime::start_with_store(std::shared_ptr<Provider> store,
                                                   ActivityRegistry activities,
                                                   OrchestrationRegistry orchestrations) {
  return start_with_options(std::move(store), std::move(activities), std::move(orchestrations),
                            RuntimeOptions{});
}

}  // namespace duroxide
