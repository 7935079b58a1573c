// SPDX-License-Identifier: MIT
// Constructors of OrchestrationStatus.
#include <duroxide/status.hpp>

namespace duroxide {

OrchestrationStatus OrchestrationStatus::running(std::optional<std::string> custom_status) {
  OrchestrationStatus status(Kind::Running);
  status.custom_status_ = std::move(custom_status);
  return status;
}

OrchestrationStatus OrchestrationStatus::suspended(std::optional<std::string> custom_status) {
  OrchestrationStatus status = running(std::move(custom_status));
  status.suspended_ = true;
  return status;
}

OrchestrationStatus OrchestrationStatus::completed(std::string output,
                                                   std::optional<std::string> custom_status) {
  OrchestrationStatus status(Kind::Completed);
  status.output_ = std::move(output);
  status.custom_status_ = std::move(custom_status);
  return status;
}

OrchestrationStatus OrchestrationStatus::failed(ErrorDetails details,
                                                std::optional<std::string> custom_status) {
  OrchestrationStatus status(Kind::Failed);
  status.details_ = std::move(details);
  status.custom_status_ = std::move(custom_status);
  return status;
}

}  // namespace duroxide
