// SPDX-License-Identifier: MIT
// FiberWakeup: one fiber sleeps until another fiber of the same thread wakes it.
#pragma once

#include <utility>

#include <boost/fiber/context.hpp>

namespace duroxide::engine {

/// A wake-up between fibers of one thread, with no lock: such fibers take turns only where one
/// suspends, so nothing can come between a check of the waiter's condition and its sleep.
/// Parked instances sleep on it instead of a Boost.Fiber condition variable, whose spinlock
/// frame would keep a 5 KiB stack page resident per parked fiber (docs/ENGINE.md, section 2).
///
/// Contract: one sleeper at a time; sleep() and wake() run on the same thread. A sleeper must
/// re-check its condition when it returns (wake() may be called before anything changed).
class FiberWakeup {
 public:
  /// Suspends the calling fiber until wake() is called.
  void sleep() {
    sleeper_ = boost::fibers::context::active();
    sleeper_->suspend();
  }
  /// Makes the sleeping fiber, if any, ready to run again.
  void wake() {
    if (auto* sleeper = std::exchange(sleeper_, nullptr)) {
      boost::fibers::context::active()->schedule(sleeper);
    }
  }

 private:
  boost::fibers::context* sleeper_ = nullptr;
};

}  // namespace duroxide::engine
