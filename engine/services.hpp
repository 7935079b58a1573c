// SPDX-License-Identifier: MIT
// Services: the immutable things every part of a runtime shares (store, registries, options).
#pragma once

#include <cstdint>
#include <memory>

#include <duroxide/provider.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/runtime.hpp>

#include "engine/clock.hpp"
#include "engine/logger.hpp"
#include "engine/recovery_gate.hpp"

namespace duroxide::engine {

/// Built by the runtime with designated initialisers; recovered_below is set in
/// Runtime::Impl::start before any thread starts. How the parts reach each other is the
/// Router's business (engine/router.hpp), not this struct's.
///
/// Lifetime: outlives every shard, worker and dispatcher of a runtime.
/// Thread safety: immutable once the runtime's threads start (the store, the logger and the
/// gate are thread-safe themselves).
struct Services {
  std::shared_ptr<Provider> store;
  ActivityRegistry activities;
  OrchestrationRegistry orchestrations;
  RuntimeOptions options;
  Logger logger;
  /// Messages and activities queued with a smaller seq were there before this runtime
  /// started: a crash may have left them, so their delivery is counted before it runs
  /// (docs/ENGINE.md, "The recovery gate and poison counting").
  std::uint64_t recovered_below = 0;
  /// Orders the turns of instances woken by such messages. Never null in a runtime.
  RecoveryGate* recovery_gate = nullptr;

  /// Returns: orchestration time (RuntimeOptions::clock, else the system clock), in which
  /// turns, timers and the messages the runtime sends are stamped.
  TimestampMs now() const { return options.clock ? options.clock->now() : wall_now_ms(); }
};

}  // namespace duroxide::engine
