// SPDX-License-Identifier: MIT
// The engine's wall clock in the store's unit (milliseconds since the Unix epoch).
#pragma once

#include <algorithm>
#include <chrono>

#include <duroxide/provider.hpp>

namespace duroxide::engine {

inline TimestampMs wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Returns: `now + wait`, or `now + cap` if `wait` is longer (so that the sum cannot
/// overflow the clock's representation).
template <class Clock>
typename Clock::time_point saturating_deadline(std::chrono::milliseconds wait,
                                               std::chrono::milliseconds cap) {
  return Clock::now() + std::chrono::duration_cast<typename Clock::duration>(std::min(wait, cap));
}

/// Returns: the steady-clock instant at which a clock that reads `now` reads `at`, at most `cap`
/// away.
inline std::chrono::steady_clock::time_point steady_deadline(TimestampMs at, TimestampMs now,
                                                             std::chrono::milliseconds cap) {
  const auto wait = at <= now ? std::chrono::milliseconds(0)
                              : std::chrono::milliseconds(at) - std::chrono::milliseconds(now);
  return saturating_deadline<std::chrono::steady_clock>(wait, cap);
}

}  // namespace duroxide::engine
