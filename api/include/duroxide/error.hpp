// SPDX-License-Identifier: MIT
// Error codes returned by the client and the store, and durable failure details of instances.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duroxide {

/// Why a call to the Client, the Runtime or a Provider did not succeed.
enum class ErrorCode {
  InvalidArgument,  ///< the caller passed something the engine refuses (empty id, too large, ...)
  NotFound,         ///< no such instance (or record)
  AlreadyExists,    ///< an instance with that id exists already
  Timeout,          ///< a wait ran out of time
  Corruption,       ///< the store holds bytes that do not decode: the file is damaged
  IOError,          ///< the operating system refused a read, write or sync
  Incompatible,     ///< the file is not a duroxide store, or of another format version
  Busy,             ///< another runtime owns the store
  Cancelled,        ///< the operation was cancelled (shutdown, cancel request)
  Internal,         ///< a bug in duroxide; please report it
};

/// Returns: the code's name, e.g. "NotFound".
std::string_view to_string(ErrorCode code);

/// An error with a code a caller can branch on and a message a person can read.
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;

  /// Returns: "NotFound: instance 'x' does not exist" style text.
  std::string to_string() const;
};

/// Broad class of an orchestration failure.
enum class ErrorCategory {
  Application,     ///< the user's code failed (an Err, an exception, a failed activity)
  Infrastructure,  ///< the engine or the store failed
  Configuration,   ///< the code does not match history or a name is not registered
  Poison,          ///< a message kept failing to be processed
};

/// Returns: "application", "infrastructure", "configuration" or "poison".
std::string_view to_string(ErrorCategory category);

/// Why an orchestration failed. Durable: stored with the instance and in its history.
/// Thread safety: a plain value type.
class ErrorDetails {
 public:
  ErrorDetails() = default;
  ErrorDetails(ErrorCategory category, std::string kind, std::string message)
      : category_(category), kind_(std::move(kind)), message_(std::move(message)) {}

  ErrorCategory category() const { return category_; }
  /// One of "ActivityFailed" "OrchestrationFailed" "Panicked" "Cancelled" "Nondeterminism"
  /// "UnregisteredOrchestration" "UnregisteredActivity" "MissingVersion" "Poison" "Timeout".
  std::string_view kind() const { return kind_; }
  const std::string& message() const { return message_; }
  /// Returns: a one-line description, e.g. "orchestration panicked: boom".
  std::string display_message() const;
  /// Returns: true for failures that may succeed if tried again (infrastructure faults).
  bool is_retryable() const { return category_ == ErrorCategory::Infrastructure; }

 private:
  ErrorCategory category_ = ErrorCategory::Application;
  std::string kind_;
  std::string message_;
};

}  // namespace duroxide
