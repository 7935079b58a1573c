// SPDX-License-Identifier: MIT
// RetryPolicy and Backoff: how schedule_activity_with_retry repeats a failing activity.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace duroxide {

/// The wait between two attempts of a retried activity. The wait is a durable timer, so a
/// restart during it does not shorten or repeat it.
/// Thread safety: a plain value type.
class Backoff {
 public:
  /// Retries at once.
  static Backoff none() { return Backoff(Shape::None, {}, 1.0, {}); }
  /// Waits `delay` before every retry.
  static Backoff fixed(std::chrono::milliseconds delay) {
    return Backoff(Shape::Fixed, delay, 1.0, delay);
  }
  /// Waits `base` after the first failure, 2 x `base` after the second, ... at most `max`.
  static Backoff linear(std::chrono::milliseconds base, std::chrono::milliseconds max) {
    return Backoff(Shape::Linear, base, 1.0, max);
  }
  /// Waits `base` after the first failure and `multiplier` times longer after each further
  /// one, at most `max`.
  static Backoff exponential(std::chrono::milliseconds base, double multiplier,
                             std::chrono::milliseconds max) {
    return Backoff(Shape::Exponential, base, multiplier, max);
  }

  /// Returns: the wait after failed attempt `attempt` (1 for the first attempt).
  std::chrono::milliseconds delay_after(std::uint32_t attempt) const;

 private:
  enum class Shape { None, Fixed, Linear, Exponential };
  Backoff(Shape shape, std::chrono::milliseconds base, double multiplier,
          std::chrono::milliseconds max)
      : shape_(shape), base_(base), multiplier_(multiplier), max_(max) {}
  Shape shape_;
  std::chrono::milliseconds base_;
  double multiplier_;
  std::chrono::milliseconds max_;
};

/// How often and how patiently schedule_activity_with_retry runs an activity: up to
/// `max_attempts` attempts (each a separately scheduled activity in history), a `backoff`
/// between them, and optionally a timeout per attempt. A timed-out attempt fails the whole
/// call with an error containing "timeout" and is not retried (the attempt may still be
/// running: it is asked to cancel). After the last failed attempt its error is returned.
/// Thread safety: a plain value type.
struct RetryPolicy {
  /// `max_attempts` of 0 counts as 1.
  explicit RetryPolicy(std::uint32_t max_attempts = 3) : max_attempts(max_attempts) {}
  RetryPolicy& with_timeout(std::chrono::milliseconds per_attempt) {
    timeout = per_attempt;
    return *this;
  }
  RetryPolicy& with_backoff(Backoff value) {
    backoff = value;
    return *this;
  }

  std::uint32_t max_attempts;
  std::optional<std::chrono::milliseconds> timeout;
  Backoff backoff =
      Backoff::exponential(std::chrono::milliseconds(100), 2.0, std::chrono::milliseconds(30'000));
};

}  // namespace duroxide
