// SPDX-License-Identifier: MIT
// Router: how the runtime's parts reach each other (shards, activity workers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <duroxide/provider.hpp>

#include "engine/activity_result.hpp"

namespace duroxide::engine {

class ActivityWorkers;
class Shard;

/// Routes messages and activity outcomes to the shard that runs their instance, and outcomes
/// and cancellations to the activity workers. Owned by the runtime, which attaches the parts
/// as it creates them (see docs/ENGINE.md, "Wiring and shutdown").
///
/// Lifetime: the shards must be attached before any thread that calls post_messages or
/// deliver_result runs (the dispatcher, the workers); the workers before any thread that calls
/// store_result or a cancel runs (every such call follows a message the dispatcher posted, so
/// attaching them before the dispatcher starts is enough). Both stay attached, and alive, until
/// every thread that may call the router has stopped; detach() then.
///
/// Thread safety: the routing operations from any thread once attached; attach and detach only
/// while no other thread uses the router.
class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Requires: `shards` is not empty, and outlives the attachment.
  void attach_shards(const std::vector<std::unique_ptr<Shard>>& shards);
  /// Requires: `workers` outlives the attachment.
  void attach_workers(ActivityWorkers& workers);
  /// Forgets the shards and the workers (the runtime is destroying them).
  void detach();

  /// Hands messages of one instance to its shard, in order. Blocks while that shard is far
  /// behind. A stopping shard drops them (they stay leased until the runtime's claim ends).
  void post_messages(std::string instance_id, std::vector<QueuedMessage> messages);
  /// Hands an activity's outcome to its instance's shard, which gives it to the instance in
  /// memory or else commits it (store_result). Returns: false if that shard is stopping; the
  /// caller then still owns the outcome and commits it itself.
  bool deliver_result(ActivityResult result);
  /// Commits an outcome no durable step recorded: deletes the work item and queues the
  /// completion message, without waiting (ActivityWorkers::store_result).
  void store_result(ActivityResult result);
  /// Tells the activities running for `instance_id` that it was cancelled.
  void cancel_activities_of(const std::string& instance_id);
  /// Tells one activity (if running, or once it starts) that its call was cancelled.
  void cancel_activity(const std::string& instance_id, std::uint64_t execution_id,
                       std::uint64_t activity_id);

 private:
  Shard& shard_for(const std::string& instance_id) const;

  std::vector<Shard*> shards_;
  ActivityWorkers* workers_ = nullptr;
};

}  // namespace duroxide::engine
