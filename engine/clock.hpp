// SPDX-License-Identifier: MIT
// The engine's wall clock in the store's unit (milliseconds since the Unix epoch).
#pragma once

#include <chrono>

#include <duroxide/provider.hpp>

namespace duroxide::engine {

inline TimestampMs wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Returns: the steady-clock instant at which the wall clock reads `at`.
inline std::chrono::steady_clock::time_point steady_deadline(TimestampMs at) {
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::milliseconds(at) - wall);
}

}  // namespace duroxide::engine
