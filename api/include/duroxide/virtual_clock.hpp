// SPDX-License-Identifier: MIT
// VirtualClock: a clock that tests can move forward, so timers and back-offs need no waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include <duroxide/provider.hpp>

namespace duroxide {

/// The system clock plus an offset that only grows. Give it to RuntimeOptions::clock and the
/// runtime reads orchestration time from it: the time of each turn (OrchestrationContext::
/// utc_now()), when durable timers fire, and the visibility of the messages it sends itself.
/// advance() moves that time forward at once and wakes the runtime, so a one-hour timer fires
/// as soon as a test advances the clock by an hour. Because the clock never runs behind the
/// system clock, messages that clients stamp with the system time stay visible.
/// Activity leases and internal back-offs keep using the system clock.
///
/// Thread safety: every method may be called from any thread.
class VirtualClock {
 public:
  VirtualClock() = default;
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  /// Returns: milliseconds since the Unix epoch: the system clock plus offset().
  TimestampMs now() const;
  /// Returns: how far the clock is ahead of the system clock.
  std::chrono::milliseconds offset() const {
    return std::chrono::milliseconds(offset_ms_.load(std::memory_order_acquire));
  }
  /// Moves the clock forward by `by` (a negative value counts as 0) and wakes every runtime
  /// that uses it.
  void advance(std::chrono::milliseconds by);

  /// Registers `listener`, called (on the thread that calls advance) after each advance; it
  /// must not block. Returns: a token for unsubscribe. Used by the runtime.
  std::uint64_t subscribe(std::function<void()> listener);
  void unsubscribe(std::uint64_t token);

 private:
  std::atomic<std::int64_t> offset_ms_{0};
  std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  std::map<std::uint64_t, std::function<void()>> listeners_;
};

}  // namespace duroxide
