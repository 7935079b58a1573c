// SPDX-License-Identifier: MIT
// OrchestrationStatus: what a client learns about an instance.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <duroxide/error.hpp>

namespace duroxide {

/// The state of an instance as seen by a client: not found, running, completed with an
/// output, or failed with details. Thread safety: a plain value type.
class OrchestrationStatus {
 public:
  enum class Kind { NotFound, Running, Completed, Failed };

  static OrchestrationStatus not_found() { return OrchestrationStatus(Kind::NotFound); }
  static OrchestrationStatus running(std::optional<std::string> custom_status = std::nullopt);
  /// A running instance that a runtime suspended (see Client::suspend_instance).
  static OrchestrationStatus suspended(std::optional<std::string> custom_status = std::nullopt);
  static OrchestrationStatus completed(std::string output,
                                       std::optional<std::string> custom_status = std::nullopt);
  static OrchestrationStatus failed(ErrorDetails details,
                                    std::optional<std::string> custom_status = std::nullopt);

  Kind kind() const { return kind_; }
  bool is_completed() const { return kind_ == Kind::Completed; }
  bool is_failed() const { return kind_ == Kind::Failed; }
  bool is_running() const { return kind_ == Kind::Running; }
  /// True while a runtime holds the instance suspended: from when it took the suspend request
  /// until it took the resume (kind() stays Running meanwhile).
  bool is_suspended() const { return suspended_; }
  /// True for Completed and Failed: the instance will not change any more.
  bool is_terminal() const { return is_completed() || is_failed(); }
  /// The orchestration's output. Meaningful for Completed only (empty otherwise).
  const std::string& output() const { return output_; }
  /// Why it failed. Meaningful for Failed only.
  const ErrorDetails& details() const { return details_; }
  /// The latest value given to OrchestrationContext::set_custom_status, if any.
  std::optional<std::string> custom_status() const { return custom_status_; }

 private:
  explicit OrchestrationStatus(Kind kind) : kind_(kind) {}
  Kind kind_;
  bool suspended_ = false;
  std::string output_;
  ErrorDetails details_;
  std::optional<std::string> custom_status_;
};

}  // namespace duroxide
