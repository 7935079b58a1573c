// SPDX-License-Identifier: MIT
// Client: starts instances, raises events and reads status, in this process or another.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>
#include <duroxide/status.hpp>

namespace duroxide {

/// Limits on what a client accepts (longer input is refused with InvalidArgument).
inline constexpr std::size_t kMaxInstanceIdBytes = 256;
inline constexpr std::size_t kMaxNameBytes = 256;
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{16} << 20;

/// Talks to a store: each call is one durable write or one read. Works without a runtime in
/// the process (the runtime of another process picks the work up). Cheap to copy.
/// Thread safety: all methods may be called from any thread (not from orchestration code).
class Client {
 public:
  explicit Client(std::shared_ptr<Provider> store) : store_(std::move(store)) {}

  /// Creates instance `instance_id` of the latest registered version of `name`, durably.
  /// Returns: AlreadyExists if the id is taken; InvalidArgument for an empty or oversized id,
  /// name or input.
  Result<void, Error> start_orchestration(std::string_view instance_id, std::string_view name,
                                          std::string input);
  /// Same, pinned to `version`.
  Result<void, Error> start_orchestration_versioned(std::string_view instance_id,
                                                    std::string_view name, std::string_view version,
                                                    std::string input);
  /// Delivers event `event_name` with `data` to the instance, durably. Events are buffered:
  /// a wait scheduled later still receives it. Returns: NotFound for a missing instance.
  Result<void, Error> raise_event(std::string_view instance_id, std::string_view event_name,
                                  std::string data);
  /// Asks the instance to stop: it ends as Failed with category Application, kind "Cancelled"
  /// and display "canceled: {reason}", at its next wait; activities it has running see
  /// ActivityContext::is_cancelled() turn true and their results are dropped. Cancelling a
  /// finished instance does nothing. Returns: NotFound for a missing instance.
  Result<void, Error> cancel_instance(std::string_view instance_id, std::string reason);

  /// Returns: the instance's status (Kind::NotFound if there is none).
  Result<OrchestrationStatus, Error> get_orchestration_status(std::string_view instance_id);
  /// Blocks until the instance completes or fails, or `timeout` passes (error Timeout).
  /// Returns: NotFound if the instance does not exist.
  Result<OrchestrationStatus, Error> wait_for_orchestration(std::string_view instance_id,
                                                            std::chrono::milliseconds timeout);

  const std::shared_ptr<Provider>& store() const { return store_; }

 private:
  std::shared_ptr<Provider> store_;
};

}  // namespace duroxide
