// SPDX-License-Identifier: MIT
// A store file in a temporary directory, filled by a real runtime, for the cli suite.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <duroxide/duroxide.hpp>

#include "cli_runner.hpp"
#include "commit_watcher.hpp"
#include "harness.hpp"
#include "temp_dir.hpp"

namespace duroxide::testlib {

/// The activities of the fixture: Greet ("Hello, {input}!"), Fail (fails with "no luck").
inline ActivityRegistry cli_activities() {
  return ActivityRegistry::builder()
      .register_activity("Greet",
                         [](ActivityContext&, std::string name) { return "Hello, " + name + "!"; })
      .register_activity(
          "Fail",
          [](ActivityContext&, std::string) -> Result<std::string> { return Err("no luck"); })
      .build();
}

/// The orchestrations of the fixture:
/// - Hello: Greet(input), custom status "greeted", returns the greeting;
/// - Failing: Fail(input) and returns its error (Failed, application / OrchestrationFailed);
/// - Echo: returns its input;
/// - Waiter: waits for event "go" and returns its data;
/// - Parent: runs Hello as the child "{id}/child" and returns "parent of " + its output;
/// - Sleeper: waits for a one-hour timer;
/// - Twice: continues as new once (input "again"), then returns "twice".
inline OrchestrationRegistry cli_orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Hello",
                              [](OrchestrationContext& ctx, std::string input) {
                                auto greeting =
                                    ctx.schedule_activity("Greet", input).into_activity();
                                ctx.set_custom_status("greeted");
                                return greeting;
                              })
      .register_orchestration(
          "Failing",
          [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
            auto r = ctx.schedule_activity("Fail", input).into_activity();
            if (!r) return Err(r.error());
            return r.value();
          })
      .register_orchestration("Echo",
                              [](OrchestrationContext&, std::string input) { return input; })
      .register_orchestration("Waiter",
                              [](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_wait("go").into_event();
                              })
      .register_orchestration(
          "Parent",
          [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
            auto child =
                ctx.schedule_sub_orchestration_with_id("Hello", ctx.instance_id() + "/child", input)
                    .into_sub_orchestration();
            if (!child) return Err(child.error());
            return "parent of " + child.value();
          })
      .register_orchestration("Sleeper",
                              [](OrchestrationContext& ctx, std::string) {
                                ctx.schedule_timer(std::chrono::hours(1)).into_timer();
                                return std::string("woke");
                              })
      .register_orchestration(
          "Twice",
          [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
            if (input != "again") return ctx.continue_as_new("again");
            return std::string("twice");
          })
      .build();
}

/// A store file `store.duro` in a fresh directory, with a runtime of this process on it.
/// The CLI runs beside it as another process. Thread safety: one test thread.
/// Returns: `prefix` followed by `n`, e.g. "b7". (Not `"b" + std::to_string(n)`, for which
/// g++ 12 warns a false -Wrestrict in optimized builds.)
inline std::string numbered(std::string prefix, int n) { return prefix += std::to_string(n); }

class CliStore {
 public:
  CliStore() : path_(dir_.file("store.duro")) {
    store_ = LmdbProvider::open(path_).value();
    watcher_ = std::make_shared<CommitWatcher>(store_);
    client_.emplace(store_);
    start();
  }
  ~CliStore() { close(); }

  void start() {
    runtime_ = Runtime::start_with_options(watcher_, cli_activities(), cli_orchestrations(),
                                           quiet_options(2));
  }
  /// Stops the runtime, and releases the store so that the file may be changed by hand.
  void close() {
    if (runtime_) runtime_->shutdown();
    runtime_.reset();
    client_.reset();
    watcher_.reset();
    store_.reset();
  }

  const std::string& path() const { return path_; }
  const TempDir& dir() const { return dir_; }
  Client& client() { return *client_; }
  /// Blocks until `done()` is true (re-checked after each commit of the runtime) or `timeout`.
  /// Returns: the last value of `done()`.
  bool wait_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return watcher_->wait_until(done, timeout);
  }
  /// Blocks until the current history of `id` holds an event of `kind`. Returns: whether it does.
  bool wait_for_event(const std::string& id, EventKind kind, std::uint64_t execution = 1) {
    return wait_until([&] { return count_events(*store_, id, kind, execution) > 0; });
  }

  /// Starts `id` and waits until it ends. Returns: its status.
  OrchestrationStatus run(const std::string& id, const std::string& name, std::string input = "") {
    client_->start_orchestration(id, name, std::move(input)).value();
    return wait(id);
  }
  OrchestrationStatus wait(const std::string& id) {
    return client_->wait_for_orchestration(id, std::chrono::seconds(30)).value();
  }

  /// Runs `duroxide VERB --store PATH args...`.
  CliRun cli(const std::string& verb, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {verb, "--store", path_});
    return run_cli(args, dir_.file(""));
  }

 private:
  TempDir dir_;
  std::string path_;
  std::shared_ptr<LmdbProvider> store_;
  std::shared_ptr<CommitWatcher> watcher_;  // the runtime commits through it
  std::optional<Client> client_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace duroxide::testlib
