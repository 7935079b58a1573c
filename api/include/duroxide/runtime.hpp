// SPDX-License-Identifier: MIT
// Runtime: runs the registered orchestrations and activities against a store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/log_level.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/result.hpp>
#include <duroxide/virtual_clock.hpp>

namespace duroxide {

/// How a runtime runs. Every field has a default that suits a desktop program.
struct RuntimeOptions {
  /// Threads that run orchestration fibers. Each instance lives on one of them (chosen by a
  /// hash of its id) for as long as it stays in memory.
  std::size_t orchestration_threads = 1;
  /// Threads that run activities (blocking code: sleeps, I/O, HTTP calls).
  std::size_t activity_workers = 4;
  /// Instances whose fiber stays parked in memory between steps, so that the next completion
  /// resumes it without replay. The least recently used beyond this are unwound (and replayed
  /// from history when they next have work).
  std::size_t max_parked_instances = 10000;
  /// Stack size of each orchestration fiber (at least 16 KiB). Stacks are pooled and have no
  /// guard page: orchestration code must not recurse deeply or keep large arrays on its stack
  /// (put big data on the heap). The size is address space, not memory: a fiber holds only the
  /// pages it touched, and once more than a few hundred fibers of a thread are parked, each one
  /// that parks gives back the pages below the frame it waits in (about 4 KiB stay).
  std::size_t fiber_stack_size = 64 * 1024;
  /// Orchestrator messages taken from the store per dispatch round (at least 1).
  std::size_t dispatch_batch = 512;
  /// How long an activity may run before its item is handed out again (attempt + 1);
  /// at least 1 s.
  std::chrono::milliseconds activity_lease{std::chrono::minutes(5)};
  /// How often the same work may be cut short before it is given up as Poison (category
  /// Poison, kind "Poison"): an activity delivered more than max_attempts times without a
  /// result (crashes and expired leases count), or an instance woken more than max_attempts
  /// times in a row by messages left from before a restart without completing a step. Work
  /// left from before a restart is counted durably before it runs; a completed step clears an
  /// instance's count. 0 counts as 1. How it is counted, and why a bystander of a crashing
  /// instance is not poisoned with it: docs/ENGINE.md, "The recovery gate and poison counting".
  std::uint32_t max_attempts = 10;
  /// The most events one execution's history may hold. An execution that reaches it fails
  /// with category Application, kind "HistoryLimitExceeded" (its history stays readable), at
  /// its next scheduled call or delivered message: an orchestration that loops forever should
  /// call continue_as_new to start over with fresh history. Replay cost grows with history,
  /// which is why it is bounded.
  std::uint64_t max_history_events = 50'000;
  /// The clock of orchestration time (turn times, timers); nullptr: the system clock. Tests
  /// give a VirtualClock and advance it instead of waiting for timers and back-offs.
  std::shared_ptr<VirtualClock> clock;
  /// How often an instance whose orchestration (or pinned version) is not registered, or an
  /// activity whose name is not registered, is retried before the instance fails as
  /// UnregisteredOrchestration / MissingVersion / UnregisteredActivity (category
  /// Configuration). Retries back off, doubling from 100 ms (5 retries wait about 3 s in all),
  /// so that a rolling upgrade can still bring the code.
  unsigned unregistered_retries = 5;
  /// Lines below this level are dropped.
  LogLevel log_level = LogLevel::Info;
  /// Where log lines go (from any thread). Default: standard error.
  std::function<void(LogLevel, std::string_view)> log_sink;
};

/// A running engine: dispatches orchestrator messages to fibers and activities to workers,
/// until shut down. At most one runtime dispatches from a store at a time.
/// Thread safety: shutdown() may be called from any thread, once or many times.
class Runtime {
 public:
  /// Starts a runtime with default options. Throws ResultError if the store is in use by
  /// another runtime (Busy) or cannot be read; try_start returns that error instead.
  static std::unique_ptr<Runtime> start_with_store(std::shared_ptr<Provider> store,
                                                   ActivityRegistry activities,
                                                   OrchestrationRegistry orchestrations);
  static std::unique_ptr<Runtime> start_with_options(std::shared_ptr<Provider> store,
                                                     ActivityRegistry activities,
                                                     OrchestrationRegistry orchestrations,
                                                     RuntimeOptions options);
  /// Returns: the started runtime, Busy if another runtime dispatches from `store`, or
  /// InvalidArgument for options out of range.
  static Result<std::unique_ptr<Runtime>, Error> try_start(std::shared_ptr<Provider> store,
                                                           ActivityRegistry activities,
                                                           OrchestrationRegistry orchestrations,
                                                           RuntimeOptions options = {});

  /// Stops dispatching, unwinds parked orchestrations and stops the workers. Running
  /// activities get `grace` to finish; then ActivityContext::is_cancelled() turns true, and
  /// whatever they return is discarded: they run again under the next runtime. Nothing durable
  /// is lost: unfinished work stays in the store. Without a grace period, waits for running
  /// activities to finish. Either way it returns only once every activity has returned.
  void shutdown(std::optional<std::chrono::milliseconds> grace = std::nullopt);

  /// Shuts down gracefully.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  class Impl;

 private:
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace duroxide
