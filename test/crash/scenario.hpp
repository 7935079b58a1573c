// SPDX-License-Identifier: MIT
// The torture scenario shared by the worker process and the checking test: mixed orchestrations,
// the log of activity runs, and the inputs and outputs the checker expects.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <duroxide/duroxide.hpp>

namespace duroxide::crash {

/// Top-level instances. Each execution of each of them also starts one child.
inline constexpr int kInstances = 300;
/// Instance i runs kContinuedExecutions executions (continue_as_new) when i % kContinueEvery
/// is 0, one otherwise.
inline constexpr int kContinueEvery = 3;
inline constexpr std::uint64_t kContinuedExecutions = 3;
/// Attempts of the retried activity; its first attempt always fails.
inline constexpr std::uint32_t kFlakyAttempts = 3;

inline std::string instance_name(int i) { return "crash-" + std::to_string(i); }

inline std::uint64_t executions_of(int i) {
  return i % kContinueEvery == 0 ? kContinuedExecutions : 1;
}

/// The data of the "Go" event that execution `execution` (1-based) of instance i receives.
/// Events are raised in execution order; the ones an execution does not receive carry over.
inline std::string event_data(int i, std::uint64_t execution) {
  return "go:" + std::to_string(i) + ":" + std::to_string(execution);
}

/// The child id ctx.schedule_sub_orchestration gives for `event_id` of `execution`.
inline std::string child_name(const std::string& parent, std::uint64_t execution,
                              std::uint64_t event_id) {
  const std::string prefix = parent + "::sub::";
  if (execution == 1) return prefix + std::to_string(event_id);
  return prefix + std::to_string(execution) + "." + std::to_string(event_id);
}

// ---- the log of activity runs ------------------------------------------------------------

/// Where this process appends one line per activity run; -1: nowhere.
inline int& run_log_fd() {
  static int fd = -1;
  return fd;
}

/// Returns: false if the log cannot be opened.
inline bool open_run_log(const std::string& path) {
  run_log_fd() = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return run_log_fd() >= 0;
}

inline void close_run_log() {
  if (run_log_fd() >= 0) ::close(run_log_fd());
  run_log_fd() = -1;
}

/// Appends "instance execution activity_id attempt name" before the activity does its work.
/// One write() per line on an O_APPEND file: lines from several workers never interleave, and
/// a line written survives a SIGKILL of the process an instant later.
inline void record_run(const ActivityContext& ctx) {
  const std::string line = ctx.instance_id() + " " + std::to_string(ctx.execution_id()) + " " +
                           std::to_string(ctx.activity_id()) + " " + std::to_string(ctx.attempt()) +
                           " " + ctx.activity_name() + "\n";
  if (run_log_fd() >= 0 && ::write(run_log_fd(), line.data(), line.size()) < 0) std::abort();
}

// ---- activities ----------------------------------------------------------------------------

/// Keeps an activity in flight long enough for kills to land inside some of them (a sleep on
/// purpose: the kills come at random times, so the work must take time).
inline void busy() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

inline std::string step(const std::string& in) { return in + "+"; }

inline std::string square(const std::string& in) {
  const long long n = std::stoll(in);
  return std::to_string(n * n);
}

/// The first call of an execution is its event 2 (event 1 is OrchestrationStarted): the
/// retried activity fails exactly its first attempt, whatever crashes and re-deliveries do.
inline Result<std::string> flaky(ActivityContext& ctx, const std::string& in) {
  if (ctx.activity_id() == 2) return Err("flaky: first attempt of " + in);
  return "f" + in;
}

inline ActivityRegistry scenario_activities() {
  return ActivityRegistry::builder()
      .register_activity("Flaky",
                         [](ActivityContext& ctx, std::string in) {
                           record_run(ctx);
                           return flaky(ctx, in);
                         })
      .register_activity("Step",
                         [](ActivityContext& ctx, std::string in) {
                           record_run(ctx);
                           busy();
                           return step(in);
                         })
      .register_activity("Square",
                         [](ActivityContext& ctx, std::string in) {
                           record_run(ctx);
                           busy();
                           return square(in);
                         })
      .build();
}

// ---- orchestrations ------------------------------------------------------------------------

/// The input of a top-level execution: "i|what the earlier executions produced".
inline std::string torture_input(int i, const std::string& earlier) {
  return std::to_string(i) + "|" + earlier;
}

inline std::pair<int, std::string> parse_input(const std::string& input) {
  const auto bar = input.find('|');
  return {std::stoi(input.substr(0, bar)), input.substr(bar + 1)};
}

inline std::string flaky_input(int i, std::uint64_t execution) {
  return std::to_string(i) + "." + std::to_string(execution);
}

inline std::string square_input(int i, std::uint64_t execution, int k) {
  return std::to_string(i * 10 + k + static_cast<int>(execution));
}

inline std::chrono::milliseconds timer_delay(int i) {
  return std::chrono::milliseconds(10 + 10 * (i % 4));
}

/// Two chained activities.
inline std::string child(OrchestrationContext& ctx, std::string input) {
  std::string text = ctx.schedule_activity("Step", input + "~").into_activity().value();
  return ctx.schedule_activity("Step", text).into_activity().value();
}

inline std::string expected_child_output(const std::string& input) { return input + "~++"; }

/// A retried flaky activity, three chained activities, three in parallel, a durable timer, an
/// external event, a child; instances with several executions continue as new.
inline Result<std::string> torture(OrchestrationContext& ctx, std::string input) {
  const auto [i, earlier] = parse_input(input);
  const std::uint64_t execution = ctx.execution_id();
  const auto retry =
      RetryPolicy(kFlakyAttempts).with_backoff(Backoff::fixed(std::chrono::milliseconds(20)));
  std::string chain = ctx.schedule_activity_with_retry("Flaky", flaky_input(i, execution), retry)
                          .into_activity()
                          .value();
  for (int k = 0; k < 3; ++k) chain = ctx.schedule_activity("Step", chain).into_activity().value();
  std::vector<DurableFuture> parallel;
  for (int k = 0; k < 3; ++k) {
    parallel.push_back(ctx.schedule_activity("Square", square_input(i, execution, k)));
  }
  std::string squares;
  for (auto& out : ctx.join(std::move(parallel))) squares += out.result.value() + ",";
  ctx.schedule_timer(timer_delay(i)).into_timer();
  const std::string go = ctx.schedule_wait("Go").into_event();
  const std::string sub =
      ctx.schedule_sub_orchestration("Child", chain).into_sub_orchestration().value();
  const std::string result = earlier + "[" + chain + ";" + squares + ";" + go + ";" + sub + "]";
  if (execution < executions_of(i)) return ctx.continue_as_new(torture_input(i, result));
  return result;
}

/// The chain of execution `execution` of instance i: the input of its child.
inline std::string expected_chain(int i, std::uint64_t execution) {
  // Named: a literal + a temporary string gets a false -Wrestrict from g++ 12 at -O3.
  const std::string input = flaky_input(i, execution);
  return "f" + input + "+++";
}

/// What execution `execution` of instance i returns (or passes on) given `earlier`.
inline std::string expected_result(int i, std::uint64_t execution, const std::string& earlier) {
  const std::string chain = expected_chain(i, execution);
  std::string squares;
  for (int k = 0; k < 3; ++k) squares += square(square_input(i, execution, k)) + ",";
  return earlier + "[" + chain + ";" + squares + ";" + event_data(i, execution) + ";" +
         expected_child_output(chain) + "]";
}

/// The input of execution `execution` (1-based) of instance i.
inline std::string expected_input(int i, std::uint64_t execution) {
  std::string earlier;
  for (std::uint64_t e = 1; e < execution; ++e) earlier = expected_result(i, e, earlier);
  return torture_input(i, earlier);
}

/// The output of instance i once its last execution completes.
inline std::string expected_output(int i) {
  const std::uint64_t last = executions_of(i);
  return expected_result(i, last, parse_input(expected_input(i, last)).second);
}

inline OrchestrationRegistry scenario_orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Torture", torture)
      .register_orchestration("Child", child)
      .build();
}

/// The options of every runtime of the test. Each kill during an activity costs it an
/// attempt, and a run of short rounds may kill the same early activities many times:
/// max_attempts is high so that no activity is poisoned (the poison test covers that).
inline RuntimeOptions runtime_options() {
  RuntimeOptions options;
  options.log_level = LogLevel::Error;
  options.orchestration_threads = 2;
  options.activity_workers = 4;
  options.max_attempts = 1000;
  return options;
}

}  // namespace duroxide::crash
