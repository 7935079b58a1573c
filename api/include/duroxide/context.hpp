// SPDX-License-Identifier: MIT
// What orchestration and activity code sees: OrchestrationContext, DurableFuture, ActivityContext.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <duroxide/log_level.hpp>
#include <duroxide/result.hpp>
#include <duroxide/retry.hpp>

namespace duroxide {

namespace engine {
class Execution;
}  // namespace engine

class OrchestrationContext;
template <class Out>
class TypedFuture;

/// The result of an awaited durable operation, whatever its kind.
struct DurableOutput {
  enum class Kind { Activity, Timer, External, SubOrchestration };
  Kind kind;
  /// Activity: its output or error. Timer: empty string. External: the event data.
  /// SubOrchestration: the child's output, or its ErrorDetails::display_message().
  Result<std::string> result;
};

/// A durable operation scheduled by an orchestration: an activity (possibly retried), a
/// timer, an event wait or a sub-orchestration. Awaiting it (`into_*()` or `get()`) suspends
/// the orchestration's fiber until the result is in history. Move-only; valid only on the
/// orchestration's own fiber, and only while the orchestration function runs.
///
/// Destroying a future whose activity or sub-orchestration has not completed (a select()
/// loser, or a future simply dropped) asks for its cancellation: the request is recorded in
/// history, a running activity sees ActivityContext::is_cancelled() turn true, a child ends as
/// cancelled with the reason "parent canceled", and a result that still arrives is dropped.
/// Dropping a timer or an event wait cancels nothing (a dropped wait still takes its place
/// among the waits for its event name).
///
/// Misuse by the orchestration code (waiting on a moved-from future, or an into_*() of another
/// kind than the call that made it) throws std::logic_error, which fails the orchestration as
/// Application / Panicked with what was wrong; the process and other instances go on.
class DurableFuture {
 public:
  DurableFuture(DurableFuture&& other) noexcept
      : execution_(std::exchange(other.execution_, nullptr)), index_(other.index_) {}
  DurableFuture& operator=(DurableFuture&& other) noexcept {
    if (this != &other) {
      drop();
      execution_ = std::exchange(other.execution_, nullptr);
      index_ = other.index_;
    }
    return *this;
  }
  DurableFuture(const DurableFuture&) = delete;
  DurableFuture& operator=(const DurableFuture&) = delete;
  ~DurableFuture() { drop(); }

  /// Suspends. Returns: the activity's output, or its error message.
  /// Requires: the future came from schedule_activity (else the orchestration fails).
  Result<std::string> into_activity();
  /// Suspends until the timer fires. Requires: the future came from schedule_timer.
  void into_timer();
  /// Suspends. Returns: the event's data. Requires: the future came from schedule_wait.
  std::string into_event();
  /// Suspends. Returns: the child's output, or its ErrorDetails::display_message() if it
  /// failed, was cancelled or was poisoned. Requires: the future came from
  /// schedule_sub_orchestration*.
  Result<std::string> into_sub_orchestration();
  /// Suspends. Returns: the output of any kind of operation.
  DurableOutput get();

 private:
  friend class engine::Execution;
  friend class OrchestrationContext;
  DurableFuture(engine::Execution* execution, std::size_t index)
      : execution_(execution), index_(index) {}
  void drop() noexcept;
  engine::Execution* execution_;
  std::size_t index_;  // position of the operation among the execution's scheduled calls
};

/// The orchestration's handle on the engine. Every schedule_* call takes the next position in
/// the execution's sequence of calls; on replay it binds to the event history holds at that
/// position, and a different kind, name or input fails the instance as nondeterministic.
///
/// Orchestration code must be deterministic: use utc_now(), new_guid(), timers and activities
/// instead of clocks, randomness, threads and I/O.
///
/// Thread safety: valid only on the orchestration's own fiber, while its function runs.
/// The engine unwinds a parked orchestration with an internal exception that does not derive
/// from std::exception: a `catch (...)` in orchestration code must rethrow it.
class OrchestrationContext {
 public:
  explicit OrchestrationContext(engine::Execution& execution) : execution_(execution) {}
  OrchestrationContext(const OrchestrationContext&) = delete;
  OrchestrationContext& operator=(const OrchestrationContext&) = delete;

  /// Schedules activity `name` with `input` on a worker (at least once).
  DurableFuture schedule_activity(std::string_view name, std::string input);
  /// Schedules activity `name` and, while attempts fail, schedules it again after the
  /// policy's back-off (a durable timer), up to `policy.max_attempts` attempts. Each attempt
  /// is its own activity in history. The future yields the first success, the error of the
  /// last attempt, or (with a per-attempt timeout) an error containing "timeout".
  /// Attempts advance while the orchestration awaits this future (or a join/select holding it).
  DurableFuture schedule_activity_with_retry(std::string_view name, std::string input,
                                             RetryPolicy policy);
  /// Schedules a durable timer that fires `delay` after utc_now().
  DurableFuture schedule_timer(std::chrono::milliseconds delay);
  /// Waits for an external event. The Nth wait for `event_name` in an execution receives the
  /// Nth event of that name raised to the instance, including events raised before the wait.
  DurableFuture schedule_wait(std::string_view event_name);

  /// Starts orchestration `name` (its latest version) as a child with id
  /// "{instance_id()}::sub::{event id}" ("{instance_id()}::sub::{execution}.{event id}" after a
  /// continue_as_new) and `input`. The child's output or failure completes
  /// the future; a failed, cancelled or poisoned child fails only this future. Cancelling this
  /// instance cancels its running children with the reason "parent canceled".
  DurableFuture schedule_sub_orchestration(std::string_view name, std::string input);
  /// Same, with a chosen child id. If the id is already in use by another instance, the
  /// future fails with "sub-orchestration id '...' is already in use".
  DurableFuture schedule_sub_orchestration_with_id(std::string_view name,
                                                   std::string_view instance_id, std::string input);
  /// Starts an independent top-level instance `instance_id` of `name` (its latest version),
  /// exactly once: the start is recorded with this step, so replays and restarts do not repeat
  /// it. Nothing waits for it and it outlives this instance. Its row exists (Running) once
  /// this step is durable. If the id is already taken, that instance is left as it is and the
  /// start does nothing.
  void schedule_orchestration(std::string_view name, std::string_view instance_id,
                              std::string input);

  /// Typed forms, with input and output as JSON (Cereal). Defined in <duroxide/typed.hpp>:
  /// include it to use them, e.g. `ctx.schedule_activity_typed<Receipt>("Pay", order)`.
  template <class Out, class In>
  TypedFuture<Out> schedule_activity_typed(std::string_view name, const In& input);
  template <class Out, class In>
  TypedFuture<Out> schedule_activity_with_retry_typed(std::string_view name, const In& input,
                                                      RetryPolicy policy);
  template <class Out, class In>
  TypedFuture<Out> schedule_sub_orchestration_typed(std::string_view name, const In& input);

  /// Suspends until all complete. Returns: their outputs in argument order.
  std::vector<DurableOutput> join(std::vector<DurableFuture> futures);
  /// Suspends until one completes. Returns: the index of the operation whose completion
  /// comes first in history (the same one on every replay) and its output.
  /// Schedule the futures into variables first, as in `auto a = ...; auto b = ...;
  /// select2(std::move(a), std::move(b))`: C++ leaves the order in which function arguments
  /// are evaluated to the compiler, and the order of schedule_* calls is part of history.
  std::pair<std::size_t, DurableOutput> select2(DurableFuture a, DurableFuture b);
  std::pair<std::size_t, DurableOutput> select(std::vector<DurableFuture> futures);

  /// Log lines tagged with the instance; silent while replaying.
  void trace_info(std::string_view message);
  void trace_warn(std::string_view message);
  void trace_error(std::string_view message);
  void trace_debug(std::string_view message);

  /// Ends this execution and starts the next one of the same instance (execution_id() + 1),
  /// with `input`, fresh history and the latest registered version. Events raised to the
  /// instance but not yet received by a wait carry over to the next execution. Use it as
  /// `return ctx.continue_as_new(input);` once the function returns, the execution ends as
  /// continued, whatever the function returned.
  Result<std::string> continue_as_new(std::string input);

  /// Sets the status text that clients read in OrchestrationStatus::custom_status(). It is
  /// written with the step that follows, stays readable after the instance ends, and is
  /// replay-safe (replay sets the same values again).
  void set_custom_status(std::string status);

  /// Returns: a GUID string, the same value at this point on every replay.
  std::string new_guid();
  /// Returns: the time of the current turn, the same value on every replay.
  std::chrono::system_clock::time_point utc_now();

  const std::string& instance_id() const;
  /// 1 for the first execution.
  std::uint64_t execution_id() const;
  const std::string& orchestration_name() const;
  const std::string& orchestration_version() const;
  /// True while the code re-executes steps already in history.
  bool is_replaying() const;

 private:
  void trace(LogLevel level, std::string_view message);
  engine::Execution& execution_;
};

/// What an activity sees: which call it serves, its attempt, cancellation, logging.
/// Thread safety: used by the one worker thread running the activity.
class ActivityContext {
 public:
  /// Everything that identifies one delivery of an activity. Public so that activities can be
  /// unit-tested without a runtime.
  struct Info {
    std::string instance_id;
    std::uint64_t execution_id = 1;
    std::string orchestration_name;
    std::string activity_name;
    std::uint64_t activity_id = 0;
    std::uint32_t attempt = 1;
  };
  using LogSink = std::function<void(std::string_view level, std::string_view message)>;

  explicit ActivityContext(Info info, LogSink log = {},
                           std::shared_ptr<const std::atomic<bool>> cancelled = {})
      : info_(std::move(info)), log_(std::move(log)), cancelled_(std::move(cancelled)) {}

  const std::string& instance_id() const { return info_.instance_id; }
  std::uint64_t execution_id() const { return info_.execution_id; }
  const std::string& orchestration_name() const { return info_.orchestration_name; }
  const std::string& activity_name() const { return info_.activity_name; }
  /// Id of the scheduling event in history.
  std::uint64_t activity_id() const { return info_.activity_id; }
  /// 1 on first delivery; grows when a crash or lease expiry re-delivers the same activity.
  /// After a crash the runtime cannot tell whether an activity it finds queued had started: it
  /// delivers every one with the attempt one higher.
  std::uint32_t attempt() const { return info_.attempt; }
  /// Cooperative cancellation: true once the runtime asks this activity to stop.
  bool is_cancelled() const { return cancelled_ && cancelled_->load(std::memory_order_relaxed); }

  void trace_info(std::string_view message) { log("info", message); }
  void trace_warn(std::string_view message) { log("warn", message); }
  void trace_error(std::string_view message) { log("error", message); }
  void trace_debug(std::string_view message) { log("debug", message); }

 private:
  void log(std::string_view level, std::string_view message) {
    if (log_) log_(level, message);
  }
  Info info_;
  LogSink log_;
  std::shared_ptr<const std::atomic<bool>> cancelled_;
};

}  // namespace duroxide
