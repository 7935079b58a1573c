// SPDX-License-Identifier: MIT
// Checks of argument values made at parse time, so that a bad value is a usage error (exit 2).
#include "cli/arg_checks.hpp"

#include <charconv>
#include <cstdint>
#include <string>

#include "cli/time_format.hpp"

namespace duroxide::cli {

CLI::Validator age_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_age(text)) return "";
        return "'" + text + "' is not an AGE such as 30s, 15m, 12h or 7d";
      },
      "AGE", "AGE");
}

CLI::Validator count_validator() {
  // CLI11 reads "-1" into an unsigned as its largest value; digits only refuses it.
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        const bool digits =
            !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        const auto parsed = std::from_chars(text.data(), end, value);
        if (digits && parsed.ec == std::errc() && parsed.ptr == end && value >= 1) return "";
        return "'" + text + "' is not a whole number of at least 1";
      },
      "N", "COUNT");
}

}  // namespace duroxide::cli
