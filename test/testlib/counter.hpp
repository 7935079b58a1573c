// SPDX-License-Identifier: MIT
// Counter: a count that code under test raises and a test thread waits for, instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace duroxide::testlib {

/// A counter that activities or orchestration code raise (from any thread) and a test waits
/// on. Thread safety: all methods may be called from any thread.
class Counter {
 public:
  /// Raises the count by one and wakes the waiters. Returns: the new count.
  int add() {
    int now;
    {
      std::lock_guard lock(mutex_);
      now = ++count_;
    }
    changed_.notify_all();
    return now;
  }
  void reset() {
    std::lock_guard lock(mutex_);
    count_ = 0;
  }
  int value() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  /// Blocks until the count is at least `at_least` or `timeout` passes.
  /// Returns: whether the count got there.
  bool wait_for(int at_least, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ >= at_least; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  int count_ = 0;
};

}  // namespace duroxide::testlib
