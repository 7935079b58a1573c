// SPDX-License-Identifier: MIT
// Services: what every part of a runtime shares (store, registries, options, logger).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <duroxide/provider.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/runtime.hpp>

#include "engine/clock.hpp"
#include "engine/logger.hpp"
#include "engine/recovery_gate.hpp"

namespace duroxide::engine {

/// An activity's outcome handed straight to its instance in memory: the instance's next step
/// records it and deletes the work item in one commit, which saves the commit (and the fsync)
/// of a separate completion message. Until that step is durable the work item stays in the
/// store, so a crash re-runs the activity (at least once).
struct ActivityResult {
  QueueKey activity_key;        ///< the work item in the worker queue
  OrchestratorMessage message;  ///< ActivityCompleted or ActivityFailed
  /// The stored attempt to put back if the outcome cannot be stored (see ActivityWorkers).
  std::optional<std::uint32_t> restore_attempt;
};

/// Immutable once the runtime's threads start. Lifetime: outlives every shard, worker and
/// dispatcher of a runtime.
struct Services {
  std::shared_ptr<Provider> store;
  ActivityRegistry activities;
  OrchestrationRegistry orchestrations;
  RuntimeOptions options;
  Logger logger;
  /// Tells the activities running for an instance that it was cancelled. Set by the runtime.
  std::function<void(const std::string& instance_id)> cancel_activities_of;
  /// Tells one activity (if running, or once it starts) that its call was cancelled.
  std::function<void(const std::string& instance_id, std::uint64_t execution_id,
                     std::uint64_t activity_id)>
      cancel_activity;
  /// Hands an activity's outcome to its instance's shard. Returns: false if the shards are
  /// stopping (the caller commits the outcome itself). Set by the runtime.
  std::function<bool(ActivityResult)> deliver_result;
  /// Commits an outcome that did not reach a step: deletes the work item and queues the
  /// completion message, as the workers do without the short cut. Set by the runtime.
  std::function<void(ActivityResult)> store_result;
  /// Messages queued with a smaller seq were there before this runtime started: a crash may
  /// have left them, so an instance woken by one counts a recovery attempt before it runs.
  std::uint64_t recovered_below = 0;
  /// Orders the turns such instances take (set by the runtime; thread-safe).
  RecoveryGate* recovery_gate = nullptr;

  /// Returns: orchestration time (RuntimeOptions::clock, else the system clock), in which
  /// turns, timers and the messages the runtime sends are stamped.
  TimestampMs now() const { return options.clock ? options.clock->now() : wall_now_ms(); }
};

}  // namespace duroxide::engine
