// SPDX-License-Identifier: MIT
// Harness: a temporary store, a runtime on it and a client, for tests of whole orchestrations.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <duroxide/duroxide.hpp>

#include "commit_watcher.hpp"
#include "counter.hpp"

namespace duroxide::testlib {

/// Returns: the orchestration threads of this run of the tests: DUROXIDE_TEST_THREADS (the
/// engine suite runs once with 1 and once with 4), or 1 when it is unset or not a number.
inline std::size_t test_threads() {
  const char* value = std::getenv("DUROXIDE_TEST_THREADS");
  const long threads = value != nullptr ? std::strtol(value, nullptr, 10) : 0;
  return threads > 0 ? static_cast<std::size_t>(threads) : 1;
}

/// Options that keep tests quiet and fast; `threads` orchestration threads (by default those
/// of this run, see test_threads).
inline RuntimeOptions quiet_options(std::size_t threads = test_threads()) {
  RuntimeOptions options;
  options.orchestration_threads = threads;
  options.log_level = LogLevel::Error;
  return options;
}

/// Makes `options` pass warnings and errors to a sink that raises `lines` for each line that
/// contains `text` (and drops the others), so that a test can wait for what only the log
/// shows, such as a retry of unregistered code. Lifetime: `lines` outlives every runtime
/// started with `options`.
inline void count_log_lines(RuntimeOptions& options, std::string text, Counter& lines) {
  options.log_level = LogLevel::Warn;
  options.log_sink = [text = std::move(text), &lines](LogLevel, std::string_view line) {
    if (line.find(text) != std::string_view::npos) lines.add();
  };
}

/// Returns: how many events of `kind` execution `execution` of `id` holds (0 without history).
inline std::size_t count_events(Provider& store, const std::string& id, EventKind kind,
                                std::uint64_t execution = 1) {
  const auto history = store.read_history(id, execution);
  if (!history) return 0;
  return static_cast<std::size_t>(std::count_if(
      history->begin(), history->end(), [kind](const HistoryEvent& e) { return e.kind == kind; }));
}

/// Queues the TimerFired of the first timer of execution 1 of `id`, visible at once, as if it
/// had come due. Returns: whether the commit succeeded (false if there is no timer).
inline bool queue_timer_fired(Provider& store, const std::string& id) {
  const auto history = store.read_history(id, 1);
  if (!history) return false;
  const auto timer = std::find_if(history->begin(), history->end(), [](const HistoryEvent& e) {
    return e.kind == EventKind::TimerCreated;
  });
  if (timer == history->end()) return false;
  WriteBatch batch;
  batch.instance_id = id;
  OrchestratorMessage fired;
  fired.instance_id = id;
  fired.execution_id = 1;
  fired.kind = MessageKind::TimerFired;
  fired.source_id = timer->event_id;
  batch.messages.push_back(std::move(fired));
  return store.commit_sync(std::move(batch)).has_value();
}

/// A fresh temporary store with a runtime and a client. The runtime can be restarted on the
/// same store to test what survives. The runtime commits through a CommitWatcher, so a test
/// can wait for what a step changes (watcher().wait_until) instead of sleeping; the client
/// and store() bypass it.
class Harness {
 public:
  Harness(ActivityRegistry activities, OrchestrationRegistry orchestrations,
          RuntimeOptions options = quiet_options())
      : store_(LmdbProvider::open_temporary().value()),
        activities_(std::move(activities)),
        orchestrations_(std::move(orchestrations)),
        options_(std::move(options)),
        watcher_(std::make_shared<CommitWatcher>(store_)),
        client_(store_) {
    start();
  }

  void start() {
    runtime_ = Runtime::start_with_options(watcher_, activities_, orchestrations_, options_);
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
  /// Returns: the wrapper the runtime commits through (it outlives every runtime started here).
  CommitWatcher& watcher() { return *watcher_; }
  /// Blocks until `done()` is true (re-checked after each commit of the runtime), or `timeout`.
  /// Returns: the last value of `done()`.
  bool wait_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return watcher_->wait_until(done, timeout);
  }
  /// Raises an event no orchestration waits for at `id` and blocks until the runtime has taken
  /// it. An instance takes its messages in queue order, so whatever the test queued for `id`
  /// before has been taken by then. A Running instance records the event in its history (held
  /// there while suspended), which is what this waits for: a commit that takes only some of
  /// the earlier messages does not end the wait. For a finished instance (which takes messages
  /// as stale, recording nothing) a commit that takes any of them does.
  /// Returns: whether that happened before `timeout`.
  bool flush_messages(const std::string& id,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const std::size_t from = watcher_->count();
    std::string marker = "flush ";
    marker += std::to_string(++flushes_);
    if (!client_.raise_event(id, "testlib.flush", marker)) return false;
    return wait_until(
        [&] {
          auto row = store_->read_instance(id);
          if (row && row->state == InstanceState::Running) {
            const auto history = store_->read_history(id, row->execution_id);
            return history && std::any_of(history->begin(), history->end(),
                                          [&marker](const HistoryEvent& e) {
                                            return e.kind == EventKind::EventRaised &&
                                                   e.data == marker;
                                          });
          }
          const auto commits = watcher_->commits();
          return std::any_of(commits.begin() + static_cast<std::ptrdiff_t>(from), commits.end(),
                             [&id](const CommitWatcher::Commit& c) {
                               return c.instance_id == id && c.consumed_messages > 0;
                             });
        },
        timeout);
  }
  /// Blocks until execution `execution` of `id` holds at least `n` events of `kind`.
  /// Returns: whether it does.
  bool wait_for_events(const std::string& id, EventKind kind, std::size_t n = 1,
                       std::uint64_t execution = 1) {
    return wait_until([&] { return count_events(*store_, id, kind, execution) >= n; });
  }

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
  std::shared_ptr<CommitWatcher> watcher_;
  Client client_;
  std::unique_ptr<Runtime> runtime_;
  std::uint64_t flushes_ = 0;
};

}  // namespace duroxide::testlib
