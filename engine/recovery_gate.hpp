// SPDX-License-Identifier: MIT
// RecoveryGate: who may run a turn on messages a crash may have left, and in which order.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>

#include <boost/fiber/future.hpp>

namespace duroxide::engine {

class Shard;

/// Orders the recovered turns of a runtime: the turns of instances woken by messages queued
/// before the runtime started, each counted durably before it runs (the reasons, and how the
/// instance uses it: docs/ENGINE.md, "The recovery gate and poison counting").
///
/// Contract: any number of Shared turns run together; an Alone turn runs with no other turn
/// admitted, and while one waits or runs no Shared turn is admitted. Alone turns go lowest
/// count first, then in arrival order. A turn holds the gate from enter() until leave().
///
/// Thread safety: all members from any thread; enter() suspends the calling fiber.
class RecoveryGate {
 public:
  enum class Mode : std::uint8_t { Shared, Alone };

  /// Suspends the calling fiber until a recovered turn in `mode` may run; Alone turns are
  /// admitted by lowest `count` (the stored count before this turn), then in arrival order.
  /// `shard` runs the fiber: a wake-up from another thread is bracketed with its
  /// callback_begins/ends, so that the shard's thread does not end during it (null only where
  /// the fiber's thread outlives the gate, in tests).
  /// Returns: false if the gate closed (the runtime is stopping): the turn must not run.
  bool enter(Mode mode, std::uint32_t count, Shard* shard);
  /// Ends a turn admitted by enter() in `mode` (its step is durable, or it stopped).
  void leave(Mode mode);
  /// Refuses every waiting and every later enter(). Call before the shards stop, so that no
  /// fiber waits here while its shard waits for it to end.
  void close();
  /// Returns: true while an Alone turn (a suspect) waits or runs: other turns should then pass
  /// the gate as Shared, so that the suspect runs alone. Lock-free (checked by every turn).
  bool suspects_present() const { return suspects_.load(std::memory_order_acquire) != 0; }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

 private:
  struct Waiter {
    Mode mode;
    std::uint32_t count;
    Shard* shard;
    boost::fibers::promise<bool> admitted;
  };
  using Waiters = std::list<Waiter>;

  /// Admits what may run now; returns the waiters admitted (to be told outside the lock).
  Waiters admit_locked();
  static void tell(Waiters& waiters, bool admitted);

  std::mutex mutex_;
  std::size_t shared_running_ = 0;
  bool alone_running_ = false;
  Waiters waiting_;  // in arrival order
  // Written under mutex_, read anywhere (so that every turn can check them without the lock).
  std::atomic<std::size_t> suspects_{0};  // Alone turns waiting or running
  std::atomic<bool> closed_{false};
};

}  // namespace duroxide::engine
