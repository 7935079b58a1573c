// SPDX-License-Identifier: MIT
// Execution: one execution of an instance, replaying its history and recording new steps.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <duroxide/context.hpp>
#include <duroxide/provider.hpp>

#include "engine/logger.hpp"

namespace duroxide::engine {

/// Thrown into orchestration code to unwind its fiber (eviction, shutdown, a failed commit).
/// Deliberately not a std::exception: `catch (const std::exception&)` in user code misses it.
struct Unwind {};

/// Thrown into orchestration code when it diverges from history. Not a std::exception either.
struct NondeterminismDetected {
  std::string message;
};

/// Thrown into orchestration code when the instance must end with `details`: a cancel
/// request, a poisoned or unregistered activity. Not a std::exception either.
struct StopRequested {
  ErrorDetails details;
};

/// What one step adds to the store besides the consumed messages and the instance row.
struct StepOutput {
  std::vector<HistoryEvent> events;
  std::vector<ActivityWorkItem> activities;
  std::vector<OrchestratorMessage> messages;
  /// Activities (by scheduling event id) whose cancellation was recorded: once the step is
  /// durable, their running deliveries are told to stop.
  std::vector<std::uint64_t> cancelled_activities;
  /// Rows of the children and detached instances this step starts (written where absent).
  std::vector<InstanceRecord> created_instances;
};

/// Who an identity names: the fixed facts of an execution.
struct ExecutionIdentity {
  std::string instance_id;
  std::uint64_t execution_id = 1;
  std::string name;
  std::string version;
};

/// The instance an execution runs in: it makes steps durable and brings new messages.
class ExecutionHost {
 public:
  /// Suspends. Makes `output` durable (with the messages consumed so far), then waits until
  /// there are messages for the instance. Returns: at least one message.
  /// Throws Unwind when the instance is evicted, the runtime stops or the commit failed.
  virtual std::vector<OrchestratorMessage> next_messages(StepOutput output) = 0;
  /// Returns: the wall clock, for the timestamp of a new turn.
  virtual TimestampMs now() const = 0;
  virtual const Logger& logger() const = 0;
  /// Returns: the most events an execution may record (RuntimeOptions::max_history_events).
  virtual std::uint64_t max_history_events() const { return UINT64_MAX; }

 protected:
  ~ExecutionHost() = default;
};

/// The replay engine of one execution: binds each scheduled call to the history recorded for
/// it, and past history records new calls in the current step (docs/ENGINE.md, "Replay").
///
/// Thread safety: used only on the instance's fiber.
class Execution {
 public:
  /// A new execution: records OrchestrationStarted at host.now().
  Execution(ExecutionHost& host, ExecutionIdentity identity, std::string input);
  /// An execution resumed from `history`, which must begin with OrchestrationStarted.
  Execution(ExecutionHost& host, std::uint64_t execution_id, std::string instance_id,
            std::vector<HistoryEvent> history);

  const ExecutionIdentity& identity() const { return identity_; }
  const std::string& input() const { return input_; }
  /// True until the code goes past what history recorded: through the whole last recorded
  /// turn too, which the code re-executes (what it logged there it logged before).
  bool is_replaying() const { return replaying_; }
  TimestampMs turn_time() const { return turn_time_; }
  TimestampMs start_time() const { return start_time_; }
  const Logger& logger() const { return host_.logger(); }
  std::uint64_t next_guid_seed() { return ++guid_counter_; }

  /// Records (or, replaying, matches against history) a scheduled call.
  /// Throws NondeterminismDetected on a mismatch.
  DurableFuture schedule_activity(std::string_view name, std::string input);
  DurableFuture schedule_timer(std::chrono::milliseconds delay);
  DurableFuture schedule_wait(std::string_view event_name);
  /// `child_id` empty: "{instance}::sub::{event id}".
  DurableFuture schedule_sub_orchestration(std::string_view name, std::string_view child_id,
                                           std::string input);
  void schedule_orchestration(std::string_view name, std::string_view instance_id,
                              std::string input);
  DurableFuture schedule_activity_with_retry(std::string_view name, std::string input,
                                             RetryPolicy policy);

  /// A future of the call at `index` was destroyed: if the call is an activity, a retried
  /// activity or a child that has not completed, records its cancellation (once; replay finds
  /// the record). Does nothing while the execution is ending on an error or unwinding.
  void drop(std::size_t index) noexcept;
  /// The fiber is about to unwind: from now on dropped futures record nothing.
  void abandon() { abandoned_ = true; }
  /// Returns: the ids of children scheduled and neither completed nor cancelled, by the code
  /// or in history while replay holds it (each once).
  std::vector<std::string> open_children() const;

  /// Suspends. Returns: the output of the call at `index`.
  DurableOutput await(std::size_t index);
  /// Suspends. Returns: the index (into `indexes`) of the call whose completion comes first
  /// in history, and its output.
  std::pair<std::size_t, DurableOutput> await_first(const std::vector<std::size_t>& indexes);
  /// Suspends. Returns: the outputs of all the calls at `indexes`, in the same order. The same
  /// as calling await_first on what is left until nothing is, in time linear in the calls per
  /// turn instead of quadratic (a fan-out of thousands).
  std::vector<DurableOutput> await_all(const std::vector<std::size_t>& indexes);

  /// Ends the execution with the function's result. Throws NondeterminismDetected if history
  /// holds scheduled calls that the code did not make.
  void complete(std::string output);
  /// Records, in a turn of their own, the events and results of `messages` that the code will
  /// not see because the execution fails now: the failed attempt keeps them, so that a rewind
  /// (which runs the code again from its last recorded result) still has them.
  void record_unseen(std::vector<OrchestratorMessage> messages);
  /// Ends the execution as failed (no history check: the failure may be the divergence itself).
  void fail(const ErrorDetails& details);

  /// Asks for the execution to end as continued-as-new with `input` (see end_continued).
  void continue_as_new(std::string input) { continue_input_ = std::move(input); }
  const std::optional<std::string>& continue_input() const { return continue_input_; }
  /// Ends the execution as continued-as-new. Returns: the events raised to this execution
  /// that no wait received, in the order they were raised, for the next execution.
  /// Throws NondeterminismDetected like complete().
  std::vector<std::pair<std::string, std::string>> end_continued();

  void set_custom_status(std::string status) { custom_status_ = std::move(status); }
  /// Returns: the latest custom status the code set in this process, if any.
  const std::optional<std::string>& custom_status() const { return custom_status_; }

  /// Returns: why the instance must stop (cancel request, poisoned or unregistered activity),
  /// if so; it stays known even if user code swallowed the exception that reported it.
  const std::optional<ErrorDetails>& stop_reason() const { return stop_; }
  /// The instance must end with `details` without running its code (it is poisoned).
  void stop(ErrorDetails details) { stop_ = std::move(details); }

  /// Returns: true while the execution is suspended (an ExecutionSuspended in effect without an
  /// ExecutionResumed after it): what arrives is recorded and held, not shown to the code.
  bool suspended() const { return suspended_; }

  /// A stop that a resume released (a cancel held while suspended) takes effect at the code's
  /// next wait; if the code ends first, the instance calls this before it records the end.
  void release_deferred_stop() {
    if (deferred_stop_) deliver(*std::exchange(deferred_stop_, std::nullopt));
  }

  /// Returns: the divergence found, if any (it stays known even if user code swallowed the
  /// exception that reported it).
  const std::optional<std::string>& divergence() const { return divergence_; }

  /// Takes what the current step has produced so far.
  StepOutput take_output() { return std::exchange(output_, {}); }

 private:
  enum class OpKind : std::uint8_t { Activity, Timer, Wait, SubOrchestration, Detached, Retry };
  struct Op {
    OpKind kind;
    std::uint64_t event_id;      // the scheduling event (Retry: none, 0)
    std::size_t wait_index = 0;  // Wait: this is the Nth wait for its name; Retry: its state
    std::string name;            // Wait: the event name; SubOrchestration: the child id
  };
  struct Completion {
    std::uint64_t event_id;  // position in history: earlier wins a select
    bool ok;
    std::string data;
  };
  struct Found {
    std::uint64_t event_id;
    DurableOutput output;
  };
  // A retried activity: a state machine over plain activities and timers, advanced whenever
  // the code awaits it, so it replays like the calls it is made of.
  struct Retry {
    std::string name;
    std::string input;
    RetryPolicy policy{};
    std::uint32_t attempt = 0;
    std::size_t activity = 0;             // position of the current attempt
    std::optional<std::size_t> deadline;  // position of its timeout timer
    std::optional<std::size_t> pause;     // position of the back-off timer before the next
    std::optional<Found> result;
  };

  std::uint64_t add_event(HistoryEvent event);
  std::size_t schedule(OpKind kind, HistoryEvent scheduled);
  void record_work(OpKind kind, const HistoryEvent& scheduled);
  void record_start(bool as_child, const HistoryEvent& scheduled);
  std::size_t schedule_activity_at(std::string_view name, std::string input);
  std::size_t schedule_timer_at(std::chrono::milliseconds delay);
  const HistoryEvent* next_recorded_schedule();
  void check_match(std::size_t position, const HistoryEvent& recorded, const HistoryEvent& wanted);
  void check_history_consumed();
  void throw_if_ending() const;
  void check_history_limit();
  [[noreturn]] void diverged(std::string message);
  std::optional<Found> find_completion(std::size_t index);
  /// Returns: the id of the event that completed a plain (not retried) call, if any.
  std::optional<std::uint64_t> completed_by(std::size_t index) const;
  std::optional<Found> advance_retry(Retry& retry, std::uint64_t before);
  void start_attempt(Retry& retry);
  void cancel(std::size_t index);
  bool settled(std::uint64_t event_id) const;
  bool history_left() const { return replay_pos_ < history_.size(); }
  void advance();
  void replay_turn();
  bool live_turn(std::vector<OrchestratorMessage> messages);
  static std::optional<std::pair<HistoryEvent, OpKind>> as_event(OrchestratorMessage& message);
  std::optional<HistoryEvent> to_event(OrchestratorMessage& message) const;
  void take_in(const HistoryEvent& event);
  void deliver(const HistoryEvent& event);

  ExecutionHost& host_;
  ExecutionIdentity identity_;
  std::string input_;
  TimestampMs start_time_ = 0;
  TimestampMs turn_time_ = 0;
  std::uint64_t guid_counter_ = 0;

  std::vector<HistoryEvent> history_;  // recorded events; released once replay is over
  std::size_t replay_pos_ = 0;         // next recorded event to consume
  std::size_t schedule_pos_ = 0;       // next recorded event to search for a scheduled call
  std::uint64_t next_event_id_ = 1;
  bool replaying_ = false;

  std::vector<Op> ops_;                                              // by call position
  std::unordered_map<std::uint64_t, OpKind> scheduled_;              // by scheduling event id
  std::unordered_map<std::uint64_t, Completion> completions_;        // by scheduling event id
  std::unordered_map<std::string, std::vector<Completion>> raised_;  // events by name
  std::unordered_map<std::string, std::size_t> waits_;               // waits scheduled by name
  StepOutput output_;
  std::optional<std::string> divergence_;
  std::optional<std::string> custom_status_;
  std::optional<std::string> continue_input_;
  std::optional<ErrorDetails> stop_;
  bool abandoned_ = false;
  std::vector<Retry> retries_;
  std::unordered_set<std::uint64_t> cancelled_;  // scheduling event ids with a CancelRequested
  bool suspended_ = false;
  std::vector<HistoryEvent> held_;                  // taken in while suspended, in order
  std::unordered_set<std::uint64_t> held_sources_;  // the calls completed by held_
  std::optional<HistoryEvent> deferred_stop_;       // released by the resume, due at the next wait
};

}  // namespace duroxide::engine
