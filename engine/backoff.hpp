// SPDX-License-Identifier: MIT
// Back-off: every retry delay of the engine, in one place, doubling from a first wait to a cap.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace duroxide::engine {

/// A wait that doubles with each failure in a row, from `first` up to `longest`.
/// Thread safety: a constant value type.
struct Backoff {
  std::chrono::milliseconds first;
  std::chrono::milliseconds longest;

  /// Returns: the wait after `failures` failures in a row: `first` after one, twice that after
  /// two, ..., never more than `longest`. Requires: failures >= 1 (0 is taken as 1).
  constexpr std::chrono::milliseconds after(unsigned failures) const {
    const unsigned doublings = std::min(failures == 0 ? 0u : failures - 1, 20u);
    return std::min(first * (std::int64_t{1} << doublings), longest);
  }
};

/// An instance whose turn failed (a read or commit of the store, an unregistered orchestration
/// awaiting its code) is handed out again after this (Shard::release_later).
inline constexpr Backoff kInstanceRetry{std::chrono::milliseconds{100}, std::chrono::seconds{30}};
/// An activity whose name is not registered is looked up again after this, at most
/// RuntimeOptions::unregistered_retries times; its work item stays leased meanwhile.
inline constexpr Backoff kUnregisteredActivityRetry{std::chrono::milliseconds{100},
                                                    std::chrono::seconds{30}};
/// An activity whose outcome failed to commit (a full disk) runs again after this, with its
/// attempt restored: the store's failure does not count toward poison.
inline constexpr Backoff kUnstoredOutcomeRetry{std::chrono::milliseconds{100},
                                               std::chrono::seconds{10}};
/// After a start record of left-over activities fails to commit, the intake leases again
/// after this.
inline constexpr Backoff kIntakeRetry{std::chrono::milliseconds{10}, std::chrono::seconds{1}};

static_assert(kInstanceRetry.after(1) == std::chrono::milliseconds{100} &&
              kInstanceRetry.after(2) == std::chrono::milliseconds{200});
static_assert(kInstanceRetry.after(64) == std::chrono::seconds{30}, "capped, no overflow");

}  // namespace duroxide::engine
