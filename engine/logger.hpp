// SPDX-License-Identifier: MIT
// Logger: level filter and sink for the runtime's log lines. Thread-safe.
#pragma once

#include <functional>
#include <string_view>

#include <fmt/format.h>
#include <duroxide/runtime.hpp>

namespace duroxide::engine {

class Logger {
 public:
  Logger(LogLevel level, std::function<void(LogLevel, std::string_view)> sink);

  bool enabled(LogLevel level) const { return level >= level_ && level != LogLevel::Off; }
  void write(LogLevel level, std::string_view line) const noexcept;

  /// Never throws (a formatting failure drops the line).
  template <class... Args>
  void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) const noexcept {
    if (!enabled(level)) return;
    try {
      write(level, fmt::format(format, std::forward<Args>(args)...));
    } catch (...) {
    }
  }

 private:
  LogLevel level_;
  std::function<void(LogLevel, std::string_view)> sink_;
};

/// Returns: "debug", "info", "warn" or "error".
std::string_view level_name(LogLevel level);

}  // namespace duroxide::engine
