// SPDX-License-Identifier: MIT
// Error codes returned by the client and the store, and durable failure details of instances.
#pragma once

#include <cstdint>
#include <optional>
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

/// What kind of failure ended an orchestration. ErrorDetails::kind() spells each one as its
/// name ("Poison"); that string is what is stored and what clients compare. The engine builds
/// and tests failures through this enum only.
enum class ErrorKind {
  ActivityFailed,             ///< reserved (activity errors reach the code as Err)
  OrchestrationFailed,        ///< an Err returned, or a ResultError escaping the code
  Panicked,                   ///< any other exception escaping the code
  Cancelled,                  ///< Client::cancel_instance, or the parent was cancelled
  HistoryLimitExceeded,       ///< an execution reached RuntimeOptions::max_history_events
  Nondeterminism,             ///< the code diverged from its history
  UnregisteredOrchestration,  ///< no orchestration of that name is registered
  UnregisteredActivity,       ///< no activity of that name is registered
  MissingVersion,             ///< the instance's version of the orchestration is not registered
  Poison,                     ///< a message kept failing to be processed (max_attempts)
  Timeout,                    ///< reserved (a retry's timeout is an activity error)
  Terminated,                 ///< Client::terminate_instance, or the parent was terminated
};

/// Returns: the kind's name, e.g. "Poison": the string ErrorDetails::kind() returns.
std::string_view to_string(ErrorKind kind);
/// Returns: the kind named `name`, or nullopt for a name this version does not know (a
/// failure written by another version of duroxide, or by a Provider of the user's).
std::optional<ErrorKind> parse_error_kind(std::string_view name);

/// The reason given to the children of a cancelled instance: they end as kind Cancelled with
/// display_message() "canceled: parent canceled".
inline constexpr std::string_view kParentCanceledReason = "parent canceled";
/// The reason given to the children of a terminated instance: they end as kind Terminated
/// with display_message() "terminated: parent terminated".
inline constexpr std::string_view kParentTerminatedReason = "parent terminated";

/// Why an orchestration failed. Durable: stored with the instance and in its history.
/// Thread safety: a plain value type.
class ErrorDetails {
 public:
  ErrorDetails() = default;
  /// Any kind string, as stored (see ErrorKind for the ones duroxide produces).
  ErrorDetails(ErrorCategory category, std::string kind, std::string message)
      : category_(category), kind_(std::move(kind)), message_(std::move(message)) {}
  ErrorDetails(ErrorCategory category, ErrorKind kind, std::string message)
      : ErrorDetails(category, std::string(to_string(kind)), std::move(message)) {}

  ErrorCategory category() const { return category_; }
  /// One of the names of ErrorKind: "ActivityFailed" "OrchestrationFailed" "Panicked"
  /// "Cancelled" "HistoryLimitExceeded" "Nondeterminism" "UnregisteredOrchestration"
  /// "UnregisteredActivity" "MissingVersion" "Poison" "Timeout"; a store written by another
  /// version may hold others.
  std::string_view kind() const { return kind_; }
  /// Returns: the kind kind() names, or nullopt for one this version does not know.
  std::optional<ErrorKind> known_kind() const { return parse_error_kind(kind_); }
  /// Returns: true when kind() is the name of `kind`.
  bool is(ErrorKind kind) const { return kind_ == to_string(kind); }
  const std::string& message() const { return message_; }
  /// Returns: a one-line description, e.g. "orchestration panicked: boom" or, for Cancelled,
  /// "canceled: {reason}".
  std::string display_message() const;
  /// Returns: true for failures that may succeed if tried again (infrastructure faults).
  bool is_retryable() const { return category_ == ErrorCategory::Infrastructure; }

 private:
  ErrorCategory category_ = ErrorCategory::Application;
  std::string kind_;
  std::string message_;
};

}  // namespace duroxide
