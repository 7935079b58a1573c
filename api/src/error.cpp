// SPDX-License-Identifier: MIT
// Names of error codes and categories, and the display text of failures.
#include <duroxide/error.hpp>

#include <cstddef>
#include <iterator>

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

namespace {
// One row per kind: its stored name and the prefix of its display message. The names and the
// prefixes are contract strings (clients and stores compare them): never change one.
struct KindName {
  ErrorKind kind;
  std::string_view name;
  std::string_view display_prefix;
};
constexpr KindName kKindNames[] = {
    {ErrorKind::ActivityFailed, "ActivityFailed", ""},
    {ErrorKind::OrchestrationFailed, "OrchestrationFailed", ""},
    {ErrorKind::Panicked, "Panicked", "orchestration panicked: "},
    {ErrorKind::Cancelled, "Cancelled", "canceled: "},
    {ErrorKind::HistoryLimitExceeded, "HistoryLimitExceeded", ""},
    {ErrorKind::Nondeterminism, "Nondeterminism", "nondeterministic: "},
    {ErrorKind::UnregisteredOrchestration, "UnregisteredOrchestration",
     "unregistered orchestration: "},
    {ErrorKind::UnregisteredActivity, "UnregisteredActivity", "unregistered activity: "},
    {ErrorKind::MissingVersion, "MissingVersion", "missing version: "},
    {ErrorKind::Poison, "Poison", "poison message: "},
    {ErrorKind::Timeout, "Timeout", "timeout: "},
    {ErrorKind::Terminated, "Terminated", "terminated: "},
};
static_assert(std::size(kKindNames) == static_cast<std::size_t>(ErrorKind::Terminated) + 1,
              "one row per ErrorKind");

constexpr bool rows_in_enum_order() {
  for (std::size_t i = 0; i < std::size(kKindNames); ++i) {
    if (static_cast<std::size_t>(kKindNames[i].kind) != i) return false;
  }
  return true;
}
static_assert(rows_in_enum_order(), "kKindNames is indexed by ErrorKind");
}  // namespace

std::string_view to_string(ErrorKind kind) {
  return kKindNames[static_cast<std::size_t>(kind)].name;
}

std::optional<ErrorKind> parse_error_kind(std::string_view name) {
  for (const auto& row : kKindNames) {
    if (row.name == name) return row.kind;
  }
  return std::nullopt;
}

std::string ErrorDetails::display_message() const {
  auto kind = known_kind();
  if (!kind) return message_;
  std::string text(kKindNames[static_cast<std::size_t>(*kind)].display_prefix);
  text += message_;
  return text;
}

}  // namespace duroxide
