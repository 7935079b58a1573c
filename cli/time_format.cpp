// SPDX-License-Identifier: MIT
// Times for people (ISO 8601 UTC and a relative age) and the AGE arguments of the command.
#include "cli/time_format.hpp"

#include <charconv>
#include <cstdint>
#include <ctime>

#include <fmt/core.h>

namespace duroxide::cli {

TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_time(TimestampMs at) {
  // Floor division, so that times before 1970 still print the right second.
  TimestampMs seconds = at / 1000;
  TimestampMs millis = at % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (gmtime_r(&t, &utc) == nullptr) return fmt::format("@{}ms", at);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

namespace {

// "12s", "3m", "5h", "2d": the largest whole unit of a non-negative span.
std::string coarse(TimestampMs span_ms) {
  const TimestampMs s = span_ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 48 * 3600) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

}  // namespace

std::string relative_age(TimestampMs at, TimestampMs now) {
  const TimestampMs span = now - at;
  if (span > -1000 && span < 1000) return "just now";
  if (span > 0) return coarse(span) + " ago";
  return "in " + coarse(-span);
}

std::string when(TimestampMs at, TimestampMs now) {
  if (at == 0) return "-";
  std::string out = iso_time(at);
  out += " (";
  out += relative_age(at, now);
  out += ')';
  return out;
}

std::string duration_text(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms < 0) return fmt::format("{} ms", ms);
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
  const std::int64_t s = ms / 1000;
  if (s < 3600) return fmt::format("{}m {}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h {}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d {}h", s / 86400, s % 86400 / 3600);
}

std::optional<std::chrono::milliseconds> parse_age(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit_ms = 0;
  switch (text.back()) {
    case 's':
      unit_ms = 1000;
      break;
    case 'm':
      unit_ms = 60'000;
      break;
    case 'h':
      unit_ms = 3'600'000;
      break;
    case 'd':
      unit_ms = 86'400'000;
      break;
    default:
      return std::nullopt;
  }
  const std::string_view digits = text.substr(0, text.size() - 1);
  if (digits.front() < '0' || digits.front() > '9') return std::nullopt;  // no sign, no space
  std::int64_t count = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  // Ages beyond about 290 million years do not fit; nobody means them.
  if (count > INT64_MAX / unit_ms) return std::nullopt;
  return std::chrono::milliseconds(count * unit_ms);
}

}  // namespace duroxide::cli
