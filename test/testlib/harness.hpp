// SPDX-License-Identifier: MIT
// Harness: a temporary store, a runtime on it and a client, for tests of whole orchestrations.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <duroxide/duroxide.hpp>

namespace duroxide::testlib {

/// Options that keep tests quiet and fast; `threads` orchestration threads.
inline RuntimeOptions quiet_options(std::size_t threads = 1) {
  RuntimeOptions options;
  options.orchestration_threads = threads;
  options.log_level = LogLevel::Error;
  return options;
}

/// A fresh temporary store with a runtime and a client. The runtime can be restarted on the
/// same store to test what survives.
class Harness {
 public:
  Harness(ActivityRegistry activities, OrchestrationRegistry orchestrations,
          RuntimeOptions options = quiet_options())
      : store_(LmdbProvider::open_temporary().value()),
        activities_(std::move(activities)),
        orchestrations_(std::move(orchestrations)),
        options_(std::move(options)),
        client_(store_) {
    start();
  }

  void start() {
    runtime_ = Runtime::start_with_options(store_, activities_, orchestrations_, options_);
  }
  /// Stops the runtime; `grace` as in Runtime::shutdown (0: running activities are cancelled).
  void stop(std::optional<std::chrono::milliseconds> grace = std::nullopt) {
    if (runtime_) runtime_->shutdown(grace);
    runtime_.reset();
  }
  void restart() {
    stop();
    start();
  }

  Client& client() { return client_; }
  const std::shared_ptr<LmdbProvider>& store() const { return store_; }
  RuntimeOptions& options() { return options_; }

  /// Starts `name` as `id` with `input` and waits for it to end.
  OrchestrationStatus run(const std::string& id, const std::string& name, std::string input,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    client_.start_orchestration(id, name, std::move(input)).value();
    return wait(id, timeout);
  }
  OrchestrationStatus wait(const std::string& id,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return client_.wait_for_orchestration(id, timeout).value();
  }

 private:
  std::shared_ptr<LmdbProvider> store_;
  ActivityRegistry activities_;
  OrchestrationRegistry orchestrations_;
  RuntimeOptions options_;
  Client client_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace duroxide::testlib
