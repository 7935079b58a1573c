// SPDX-License-Identifier: MIT
// Client: suspend, resume, terminate and rewind.
#include <duroxide/client.hpp>

namespace duroxide {

namespace {
Result<void, Error> not_yet(const char* what) {
  return Err(Error{ErrorCode::Internal, std::string(what) + " is not implemented yet"});
}
}  // namespace

Result<void, Error> Client::suspend_instance(std::string_view, std::string) {
  return not_yet("suspend_instance");
}
Result<void, Error> Client::resume_instance(std::string_view, std::string) {
  return not_yet("resume_instance");
}
Result<void, Error> Client::terminate_instance(std::string_view, std::string) {
  return not_yet("terminate_instance");
}
Result<void, Error> Client::rewind_instance(std::string_view, std::string) {
  return not_yet("rewind_instance");
}

}  // namespace duroxide
