// SPDX-License-Identifier: MIT
// Names of error codes and categories, and the display text of failures.
#include <duroxide/error.hpp>

namespace duroxide {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "InvalidArgument";
    case ErrorCode::NotFound:
      return "NotFound";
    case ErrorCode::AlreadyExists:
      return "AlreadyExists";
    case ErrorCode::Timeout:
      return "Timeout";
    case ErrorCode::Corruption:
      return "Corruption";
    case ErrorCode::IOError:
      return "IOError";
    case ErrorCode::Incompatible:
      return "Incompatible";
    case ErrorCode::Busy:
      return "Busy";
    case ErrorCode::Cancelled:
      return "Cancelled";
    case ErrorCode::Internal:
      return "Internal";
  }
  return "Unknown";
}

std::string Error::to_string() const {
  std::string text(duroxide::to_string(code));
  text += ": ";
  text += message;
  return text;
}

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::Application:
      return "application";
    case ErrorCategory::Infrastructure:
      return "infrastructure";
    case ErrorCategory::Configuration:
      return "configuration";
    case ErrorCategory::Poison:
      return "poison";
  }
  return "unknown";
}

std::string ErrorDetails::display_message() const {
  if (kind_ == "Panicked") return "orchestration panicked: " + message_;
  if (kind_ == "Cancelled") return "canceled: " + message_;
  if (kind_ == "Nondeterminism") return "nondeterministic: " + message_;
  if (kind_ == "UnregisteredOrchestration") return "unregistered orchestration: " + message_;
  if (kind_ == "UnregisteredActivity") return "unregistered activity: " + message_;
  if (kind_ == "MissingVersion") return "missing version: " + message_;
  if (kind_ == "Poison") return "poison message: " + message_;
  if (kind_ == "Timeout") return "timeout: " + message_;
  return message_;
}

}  // namespace duroxide
