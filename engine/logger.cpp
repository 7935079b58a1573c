// SPDX-License-Identifier: MIT
// The default sink writes whole lines to standard error under a lock.
#include "engine/logger.hpp"

#include <cstdio>
#include <mutex>

namespace duroxide::engine {
namespace {

void stderr_sink(LogLevel level, std::string_view line) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  fmt::print(stderr, "[duroxide {}] {}\n", level_name(level), line);
}

}  // namespace

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
    case LogLevel::Off:
      break;
  }
  return "off";
}

Logger::Logger(LogLevel level, std::function<void(LogLevel, std::string_view)> sink)
    : level_(level), sink_(sink ? std::move(sink) : stderr_sink) {}

// A sink that throws must not take the runtime down (log lines are written from fibers and
// catch handlers, where an exception would end the process).
void Logger::write(LogLevel level, std::string_view line) const noexcept {
  if (!enabled(level)) return;
  try {
    sink_(level, line);
  } catch (...) {
  }
}

}  // namespace duroxide::engine
