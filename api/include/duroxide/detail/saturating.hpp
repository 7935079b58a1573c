// SPDX-License-Identifier: MIT
// Saturating timestamp arithmetic: deadlines far in the future clamp instead of wrapping.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace duroxide::detail {

/// Returns: `at + span` in milliseconds, clamped to the range of std::int64_t, so that a span
/// of milliseconds::max() (a timer that never fires, a lease that never ends) stays in the
/// future instead of wrapping into the past.
constexpr std::int64_t saturating_add(std::int64_t at, std::chrono::milliseconds span) {
  const std::int64_t ms = span.count();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  if (ms > 0 && at > kMax - ms) return kMax;
  if (ms < 0 && at < kMin - ms) return kMin;
  return at + ms;
}

static_assert(saturating_add(1, std::chrono::milliseconds(2)) == 3);
static_assert(saturating_add(std::numeric_limits<std::int64_t>::max() - 1,
                             std::chrono::milliseconds::max()) ==
              std::numeric_limits<std::int64_t>::max());
static_assert(saturating_add(std::numeric_limits<std::int64_t>::min() + 1,
                             std::chrono::milliseconds::min()) ==
              std::numeric_limits<std::int64_t>::min());

}  // namespace duroxide::detail
