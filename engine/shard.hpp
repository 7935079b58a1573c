// SPDX-License-Identifier: MIT
// Shard: one thread running a fiber scheduler for the instances whose ids hash to it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <duroxide/provider.hpp>

#include "engine/activity_result.hpp"
#include "engine/fiber_stacks.hpp"
#include "engine/router.hpp"
#include "engine/services.hpp"

namespace duroxide::engine {

class Instance;

/// Returns: which of `shards` shards runs the instance (the same one for the runtime's life).
inline std::size_t shard_index(const std::string& instance_id, std::size_t shards) {
  return std::hash<std::string>{}(instance_id) % shards;
}

/// Runs instance fibers on one thread with Boost.Fiber's round-robin scheduler, which sleeps
/// when no fiber is ready (an idle shard uses no CPU). An instance lives on the shard its id
/// hashes to (shard_index), so its fiber never changes thread (docs/ENGINE.md, section 1).
/// Keeps at most `max_parked` instances parked; beyond that the least recently parked is
/// unwound (it is replayed from history when it next has work).
///
/// Lifetime: `services` and `router` outlive the shard.
/// Thread safety: post(), post_result() and stop() from any thread; the rest runs on the
/// shard's thread.
class Shard {
 public:
  /// Starts the thread.
  Shard(const Services& services, Router& router, std::size_t max_parked);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  /// Hands messages of one instance to the shard. Blocks if the shard is far behind.
  void post(std::string instance_id, std::vector<QueuedMessage> messages);
  /// Hands an activity's outcome to its instance if it is in memory, else commits it through
  /// Router::store_result. Returns: false if the shard is stopping (nothing was taken).
  bool post_result(ActivityResult result);
  /// Unwinds every instance, waits for their fibers to end, and joins the thread.
  void stop();

  // For Instance, on the shard's thread.
  /// Puts `instance` at the end of the parked list, unwinding the least recently parked one
  /// beyond max_parked. Runs on the instance's own fiber, before it sleeps.
  void park(Instance& instance);
  /// Takes `instance` off the parked list (no-op if it is not on it).
  void unpark(Instance& instance);
  /// The instance's fiber ends: commits the outcomes it held (Router::store_result), then
  /// releases its messages (after a back-off if it failed) or hands them to a fresh instance.
  /// Requires: the last call of the instance's fiber (Instance::run), which keeps the instance
  /// alive until the fiber ends.
  void on_instance_done(Instance& instance);
  /// Brackets a commit callback that wakes one of this shard's fibers (from the writer thread):
  /// the shard's thread does not end, and so destroy its scheduler, while one is inside.
  void callback_begins() { pending_callbacks_.fetch_add(1, std::memory_order_relaxed); }
  void callback_ends() { pending_callbacks_.fetch_sub(1, std::memory_order_release); }
  /// Returns: how often the instance failed in a row (it is retried with a back-off).
  unsigned failures(const std::string& instance_id) const {
    auto it = failures_.find(instance_id);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  struct Task {
    std::string instance_id;
    std::vector<QueuedMessage> messages;
    std::optional<ActivityResult> result;
  };
  void main();
  void deliver(Task task);
  void release_later(const std::string& instance_id, std::vector<QueueKey> keys);
  void fiber_done();

  // Parked fibers that keep every stack page they touched; those parked beyond give back the
  // pages under the frame they wait in (FiberStacks::release_below).
  static constexpr std::size_t kWholeStacksParked = 256;

  const Services& services_;
  Router& router_;
  const std::size_t max_parked_;
  boost::fibers::buffered_channel<Task> tasks_{1024};
  FiberStacks stacks_;
  std::unordered_map<std::string, std::shared_ptr<Instance>> instances_;
  std::list<Instance*> parked_;                         // least recently parked first
  std::unordered_map<std::string, unsigned> failures_;  // consecutive failures by instance
  boost::fibers::mutex live_mutex_;
  boost::fibers::condition_variable changed_;  // a fiber ended, or stopping_ was set
  std::size_t live_ = 0;                       // fibers: instances and back-off waits
  bool stopping_ = false;
  std::atomic<std::size_t> pending_callbacks_{0};
  std::thread thread_;
};

}  // namespace duroxide::engine
