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
/// before the runtime started, each counted durably (InstanceRecord::recovery_attempts) before
/// it runs, so that code that kills the process fails as Poison after max_attempts.
///
/// A process that dies takes every turn in flight with it, and each of those instances is
/// counted again at the next start. So that an instance that merely ran beside the one killing
/// the process is not poisoned with it, an instance already counted once without completing a
/// step (a suspect) runs its recovered turn alone: it waits until no other recovered turn runs,
/// and no other one starts until it has completed its step. Suspects take their turns lowest
/// count first, so a bystander gets its turn alone before the instance that keeps crashing is
/// counted again. Instances counted for the first time share the gate: after a clean restart
/// they all run at once. Other turns pass the gate as Shared only while a suspect waits or runs
/// (suspects_present), so that the suspect's turn also runs apart from turns on new messages,
/// which may be the ones that kill the process. Activities still run beside it.
///
/// A turn holds the gate until its step is durable. A turn that never commits (code that hangs)
/// therefore holds up the recovered turns of every shard.
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
  /// True while a suspect waits or runs: other turns should then pass the gate as Shared, so
  /// that the suspect runs alone (a cheap check for every turn).
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
