// SPDX-License-Identifier: MIT
// LogLevel: severity of the runtime's and the orchestrations' log lines.
#pragma once

namespace duroxide {

/// Severity of a log line; `Off` as a threshold drops every line.
enum class LogLevel { Debug, Info, Warn, Error, Off };

}  // namespace duroxide
