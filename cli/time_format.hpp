// SPDX-License-Identifier: MIT
// Times for people (ISO 8601 UTC and a relative age) and the AGE arguments of the command.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <duroxide/provider.hpp>

namespace duroxide::cli {

/// Returns: the system clock now, in ms since the Unix epoch.
TimestampMs now_ms();

/// Returns: `at` in ISO 8601 UTC with milliseconds, e.g. "2026-12-04T20:18:37.123Z".
std::string iso_time(TimestampMs at);

/// Returns: how far `at` is from `now`, in the largest whole unit: "12s ago", "3m ago",
/// "5h ago", "2d ago", "just now" under a second, and "in 5m" for a time ahead.
std::string relative_age(TimestampMs at, TimestampMs now);

/// Returns: iso_time(at) followed by the relative age in parentheses:
/// "2026-12-04T20:18:37.123Z (3m ago)"; "-" for 0 (no time recorded).
std::string when(TimestampMs at, TimestampMs now);

/// Returns: a duration for people: "850 ms", "12.5 s", "3m 20s", "2h 5m", "3d 4h".
std::string duration_text(std::chrono::milliseconds duration);

/// Returns: the duration an AGE argument names: a whole number followed by one unit, s
/// (seconds), m (minutes), h (hours) or d (days), e.g. "30s" "15m" "12h" "7d"; nullopt for
/// anything else (no unit, another unit, a sign, a fraction, an overflow).
std::optional<std::chrono::milliseconds> parse_age(std::string_view text);

}  // namespace duroxide::cli
