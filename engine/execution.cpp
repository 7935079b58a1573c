// SPDX-License-Identifier: MIT
// Replay and recording of one execution: scheduled calls, completions, turns.
#include "engine/execution.hpp"

#include "engine/rewind.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include <duroxide/client.hpp>
#include <duroxide/detail/check.hpp>
#include <duroxide/detail/saturating.hpp>

namespace duroxide::engine {
namespace {

bool is_turn_marker(EventKind kind) {
  return kind == EventKind::OrchestrationStarted || kind == EventKind::TurnStarted;
}

bool is_completion(EventKind kind) {
  return kind == EventKind::ActivityCompleted || kind == EventKind::ActivityFailed ||
         kind == EventKind::TimerFired || kind == EventKind::SubOrchestrationCompleted ||
         kind == EventKind::SubOrchestrationFailed;
}

// A stop recorded while suspended: a cancel of the instance, an activity that will not run.
bool is_held_stop(const HistoryEvent& event) {
  return (event.kind == EventKind::CancelRequested && event.source_id == 0) ||
         event.kind == EventKind::ActivityAbandoned;
}

bool is_schedule(EventKind kind) {
  return kind == EventKind::ActivityScheduled || kind == EventKind::TimerCreated ||
         kind == EventKind::EventSubscribed || kind == EventKind::SubOrchestrationScheduled ||
         kind == EventKind::OrchestrationScheduled;
}

// How a scheduling event reads in a nondeterminism message.
std::string describe(const HistoryEvent& event) {
  constexpr std::size_t kShown = 64;
  auto shown = [](const std::string& text) {
    return text.size() <= kShown ? text : text.substr(0, kShown) + "...";
  };
  switch (event.kind) {
    case EventKind::ActivityScheduled:
      return fmt::format("schedule_activity(\"{}\", input \"{}\")", event.name, shown(event.data));
    case EventKind::TimerCreated:
      return fmt::format("schedule_timer(firing at {} ms)", event.timestamp);
    case EventKind::EventSubscribed:
      return fmt::format("schedule_wait(\"{}\")", event.name);
    case EventKind::SubOrchestrationScheduled:
      return fmt::format("schedule_sub_orchestration(\"{}\", id \"{}\", input \"{}\")", event.name,
                         event.instance, shown(event.data));
    case EventKind::OrchestrationScheduled:
      return fmt::format("schedule_orchestration(\"{}\", id \"{}\", input \"{}\")", event.name,
                         event.instance, shown(event.data));
    default:
      return fmt::format("event kind {}", static_cast<int>(event.kind));
  }
}

}  // namespace

Execution::Execution(ExecutionHost& host, ExecutionIdentity identity, std::string input)
    : host_(host), identity_(std::move(identity)), input_(std::move(input)) {
  start_time_ = turn_time_ = host_.now();
  HistoryEvent started;
  started.kind = EventKind::OrchestrationStarted;
  started.timestamp = start_time_;
  started.name = identity_.name;
  started.version = identity_.version;
  started.data = input_;
  add_event(std::move(started));
}

Execution::Execution(ExecutionHost& host, std::uint64_t execution_id, std::string instance_id,
                     std::vector<HistoryEvent> history)
    : host_(host) {
  if (history.empty() || history.front().kind != EventKind::OrchestrationStarted) {
    throw std::invalid_argument("history does not begin with OrchestrationStarted");
  }
  // New events follow the last one recorded, also when a rewind set the last ones aside.
  next_event_id_ = history.back().event_id + 1;
  history_ = events_in_effect(std::move(history));
  const HistoryEvent& started = history_.front();
  identity_ =
      ExecutionIdentity{std::move(instance_id), execution_id, started.name, started.version};
  input_ = started.data;
  start_time_ = started.timestamp;
  for (const auto& event : history_) {
    if (event.kind == EventKind::CancelRequested) cancelled_.insert(event.source_id);
  }
  replaying_ = true;
  replay_turn();  // turn 1: the start itself
}

std::uint64_t Execution::add_event(HistoryEvent event) {
  event.event_id = next_event_id_++;
  output_.events.push_back(std::move(event));
  return output_.events.back().event_id;
}

// ---- scheduling -------------------------------------------------------------------------

DurableFuture Execution::schedule_activity(std::string_view name, std::string input) {
  return DurableFuture(this, schedule_activity_at(name, std::move(input)));
}

std::size_t Execution::schedule_activity_at(std::string_view name, std::string input) {
  HistoryEvent event;
  event.kind = EventKind::ActivityScheduled;
  event.name = std::string(name);
  event.data = std::move(input);
  return schedule(OpKind::Activity, std::move(event));
}

DurableFuture Execution::schedule_timer(std::chrono::milliseconds delay) {
  return DurableFuture(this, schedule_timer_at(delay));
}

std::size_t Execution::schedule_timer_at(std::chrono::milliseconds delay) {
  HistoryEvent event;
  event.kind = EventKind::TimerCreated;
  // Saturating: a delay of milliseconds::max() means "never", not a time in the past.
  event.timestamp =
      detail::saturating_add(turn_time_, std::max(delay, std::chrono::milliseconds(0)));
  return schedule(OpKind::Timer, std::move(event));
}

DurableFuture Execution::schedule_wait(std::string_view event_name) {
  HistoryEvent event;
  event.kind = EventKind::EventSubscribed;
  event.name = std::string(event_name);
  return DurableFuture(this, schedule(OpKind::Wait, std::move(event)));
}

DurableFuture Execution::schedule_sub_orchestration(std::string_view name,
                                                    std::string_view child_id, std::string input) {
  HistoryEvent event;
  event.kind = EventKind::SubOrchestrationScheduled;
  event.name = std::string(name);
  event.instance = std::string(child_id);  // empty: derived from the event id once known
  event.data = std::move(input);
  return DurableFuture(this, schedule(OpKind::SubOrchestration, std::move(event)));
}

void Execution::schedule_orchestration(std::string_view name, std::string_view instance_id,
                                       std::string input) {
  HistoryEvent event;
  event.kind = EventKind::OrchestrationScheduled;
  event.name = std::string(name);
  event.instance = std::string(instance_id);
  event.data = std::move(input);
  schedule(OpKind::Detached, std::move(event));
}

DurableFuture Execution::schedule_activity_with_retry(std::string_view name, std::string input,
                                                      RetryPolicy policy) {
  throw_if_ending();
  if (policy.max_attempts == 0) policy.max_attempts = 1;
  Retry retry;
  retry.name = std::string(name);
  retry.input = std::move(input);
  retry.policy = std::move(policy);
  retries_.push_back(std::move(retry));
  start_attempt(retries_.back());
  ops_.push_back(Op{OpKind::Retry, 0, retries_.size() - 1, {}});
  return DurableFuture(this, ops_.size() - 1);
}

void Execution::start_attempt(Retry& retry) {
  ++retry.attempt;
  retry.activity = schedule_activity_at(retry.name, retry.input);
  retry.deadline.reset();
  if (retry.policy.timeout) retry.deadline = schedule_timer_at(*retry.policy.timeout);
}

void Execution::throw_if_ending() const {
  if (divergence_) throw NondeterminismDetected{*divergence_};
  if (stop_) throw StopRequested{*stop_};
}

// Stops the execution once its history holds the most events allowed.
void Execution::check_history_limit() {
  const std::uint64_t limit = host_.max_history_events();
  if (next_event_id_ <= limit || stop_) return;
  stop_.emplace(ErrorCategory::Application, ErrorKind::HistoryLimitExceeded,
                fmt::format("execution {} of instance '{}' reached the limit of {} history events "
                            "(RuntimeOptions::max_history_events); an orchestration that runs "
                            "this long should call continue_as_new to start over with fresh "
                            "history",
                            identity_.execution_id, identity_.instance_id, limit));
  throw StopRequested{*stop_};
}

namespace {
// The limits of <duroxide/client.hpp> hold for what orchestration code sends out too; a call
// over them fails the orchestration (as Panicked) with this message instead of a commit that
// the store refuses.
void check_limits(const HistoryEvent& wanted) {
  auto refuse = [&](const char* what, std::size_t size, std::size_t limit) {
    throw std::invalid_argument(fmt::format("{} of {} bytes exceeds the limit of {} bytes in {}",
                                            what, size, limit, describe(wanted)));
  };
  if (wanted.name.size() > kMaxNameBytes) refuse("a name", wanted.name.size(), kMaxNameBytes);
  if (wanted.data.size() > kMaxPayloadBytes) {
    refuse("an input", wanted.data.size(), kMaxPayloadBytes);
  }
  if (wanted.instance.size() > kMaxInstanceIdBytes) {
    refuse("an instance id", wanted.instance.size(), kMaxInstanceIdBytes);
  }
}
}  // namespace

// Binds the call at the next position to its recorded event, or records it (with the work it
// implies) when history has no more scheduled calls.
std::size_t Execution::schedule(OpKind kind, HistoryEvent wanted) {
  throw_if_ending();
  check_history_limit();
  check_limits(wanted);
  const std::size_t position = ops_.size();
  Op op{kind, 0, 0, kind == OpKind::Wait ? wanted.name : std::string()};
  if (const HistoryEvent* recorded = next_recorded_schedule()) {
    check_match(position, *recorded, wanted);
    op.event_id = recorded->event_id;
    if (kind == OpKind::SubOrchestration) op.name = recorded->instance;
  } else {
    if (history_left()) {
      diverged(fmt::format("call #{} {} is not in history, which has no more scheduled calls",
                           position + 1, describe(wanted)));
    }
    replaying_ = false;
    if (kind == OpKind::SubOrchestration && wanted.instance.empty()) {
      // Event ids restart in every execution: later executions add theirs to stay unique.
      wanted.instance = identity_.execution_id == 1
                            ? fmt::format("{}::sub::{}", identity_.instance_id, next_event_id_)
                            : fmt::format("{}::sub::{}.{}", identity_.instance_id,
                                          identity_.execution_id, next_event_id_);
      check_limits(wanted);  // a derived id may be over the limit
    }
    op.event_id = add_event(std::move(wanted));
    const HistoryEvent& added = output_.events.back();
    if (kind == OpKind::SubOrchestration) op.name = added.instance;
    record_work(kind, added);
  }
  if (kind == OpKind::Wait) op.wait_index = waits_[op.name]++;
  scheduled_.emplace(op.event_id, kind);
  ops_.push_back(std::move(op));
  return position;
}

// The work a newly recorded call sends out, committed with the step that records it.
void Execution::record_work(OpKind kind, const HistoryEvent& scheduled) {
  switch (kind) {
    case OpKind::Activity:
      output_.activities.push_back(ActivityWorkItem{identity_.instance_id, identity_.execution_id,
                                                    identity_.name, scheduled.event_id,
                                                    scheduled.name, scheduled.data, 1});
      return;
    case OpKind::Timer: {
      OrchestratorMessage fired;
      fired.instance_id = identity_.instance_id;
      fired.execution_id = identity_.execution_id;
      fired.kind = MessageKind::TimerFired;
      fired.source_id = scheduled.event_id;
      fired.visible_at = scheduled.timestamp;
      output_.messages.push_back(std::move(fired));
      return;
    }
    case OpKind::SubOrchestration:
    case OpKind::Detached:
      record_start(kind == OpKind::SubOrchestration, scheduled);
      return;
    case OpKind::Wait:
    case OpKind::Retry:
      return;
  }
}

// A child's (`as_child`) or a detached instance's start message and row.
void Execution::record_start(bool as_child, const HistoryEvent& scheduled) {
  OrchestratorMessage start;
  start.instance_id = scheduled.instance;
  start.kind = MessageKind::StartOrchestration;
  start.visible_at = turn_time_;
  start.name = scheduled.name;  // an empty version: the latest registered one
  start.data = scheduled.data;
  // The row exists from this commit on, so clients see the instance at once and a
  // deletion of the parent finds the child; its version is set when it starts.
  InstanceRecord row;
  row.instance_id = scheduled.instance;
  row.name = scheduled.name;
  row.created_at = row.updated_at = turn_time_;
  if (as_child) {
    start.source_id = scheduled.event_id;
    start.parent_id = identity_.instance_id;
    start.parent_execution_id = identity_.execution_id;
    row.parent_id = start.parent_id;
    row.parent_execution_id = start.parent_execution_id;
    row.parent_event_id = start.source_id;
  }
  output_.messages.push_back(std::move(start));
  output_.created_instances.push_back(std::move(row));
}

const HistoryEvent* Execution::next_recorded_schedule() {
  while (schedule_pos_ < history_.size()) {
    const HistoryEvent& event = history_[schedule_pos_++];
    if (is_schedule(event.kind)) return &event;
  }
  return nullptr;
}

void Execution::check_match(std::size_t position, const HistoryEvent& recorded,
                            const HistoryEvent& wanted) {
  bool same = recorded.kind == wanted.kind && recorded.name == wanted.name;
  if (same && (wanted.kind == EventKind::ActivityScheduled ||
               wanted.kind == EventKind::SubOrchestrationScheduled ||
               wanted.kind == EventKind::OrchestrationScheduled)) {
    same = recorded.data == wanted.data;
  }
  // An empty child id asks for the derived one, whatever id history derived.
  if (same && !wanted.instance.empty()) same = recorded.instance == wanted.instance;
  if (same && wanted.kind == EventKind::TimerCreated) {
    same = recorded.timestamp == wanted.timestamp;
  }
  if (!same) {
    diverged(fmt::format("call #{} {} does not match history, which recorded {} (event {})",
                         position + 1, describe(wanted), describe(recorded), recorded.event_id));
  }
}

// Called when replay is over: every recorded scheduled call must have been made again.
void Execution::check_history_consumed() {
  if (const HistoryEvent* unmatched = next_recorded_schedule()) {
    diverged(fmt::format("history recorded {} (event {}) as call #{}, but the code did not make it",
                         describe(*unmatched), unmatched->event_id, ops_.size() + 1));
  }
  history_.clear();
  history_.shrink_to_fit();
  replay_pos_ = schedule_pos_ = 0;
}

void Execution::diverged(std::string message) {
  divergence_ = fmt::format("instance '{}' execution {}: {}", identity_.instance_id,
                            identity_.execution_id, std::move(message));
  throw NondeterminismDetected{*divergence_};
}

// ---- waiting ----------------------------------------------------------------------------

std::optional<Execution::Found> Execution::find_completion(std::size_t index) {
  using Kind = DurableOutput::Kind;
  const Op& op = ops_.at(index);
  // schedule_orchestration returns no future, so nothing waits on a detached start.
  DUROXIDE_CHECK(op.kind != OpKind::Detached, "a detached start has no result to wait for");
  switch (op.kind) {
    case OpKind::Wait: {
      auto it = raised_.find(op.name);
      if (it == raised_.end() || it->second.size() <= op.wait_index) return std::nullopt;
      const Completion& event = it->second[op.wait_index];
      return Found{event.event_id, DurableOutput{Kind::External, event.data}};
    }
    case OpKind::Retry:
      return advance_retry(retries_.at(op.wait_index), std::numeric_limits<std::uint64_t>::max());
    case OpKind::Detached:
    case OpKind::Activity:
    case OpKind::Timer:
    case OpKind::SubOrchestration:
      break;
  }
  auto it = completions_.find(op.event_id);
  if (it == completions_.end()) return std::nullopt;
  const Completion& done = it->second;
  if (op.kind == OpKind::Timer) return Found{done.event_id, DurableOutput{Kind::Timer, ""}};
  const Kind kind = op.kind == OpKind::Activity ? Kind::Activity : Kind::SubOrchestration;
  if (done.ok) return Found{done.event_id, DurableOutput{kind, done.data}};
  return Found{done.event_id, DurableOutput{kind, Err(done.data)}};
}

// Moves a retried activity on as far as history allows: a failed attempt is followed by its
// back-off timer, a fired back-off timer by the next attempt. Scheduling happens here, at an
// await, so replay (awaiting at the same points and seeing the same turns) makes the same calls.
// Only completions before event `before` (what another awaited call already won with) move it:
// a retry that loses a select must not launch another attempt first.
std::optional<Execution::Found> Execution::advance_retry(Retry& retry, std::uint64_t before) {
  while (!retry.result) {
    if (retry.pause) {
      auto fired = find_completion(*retry.pause);
      if (!fired || fired->event_id >= before) return std::nullopt;
      retry.pause.reset();
      start_attempt(retry);
      continue;
    }
    auto done = find_completion(retry.activity);
    auto expired = retry.deadline ? find_completion(*retry.deadline) : std::nullopt;
    if (expired && (!done || expired->event_id < done->event_id)) {
      if (expired->event_id >= before) return std::nullopt;
      cancel(retry.activity);
      retry.result = Found{
          expired->event_id,
          DurableOutput{DurableOutput::Kind::Activity,
                        Err(fmt::format("activity '{}' attempt {} timeout after {} ms", retry.name,
                                        retry.attempt, retry.policy.timeout->count()))}};
      break;
    }
    if (!done || done->event_id >= before) return std::nullopt;
    if (done->output.result || retry.attempt >= retry.policy.max_attempts) {
      retry.result = std::move(done);
      break;
    }
    const auto pause = retry.policy.backoff.delay_after(retry.attempt);
    if (pause.count() > 0) {
      retry.pause = schedule_timer_at(pause);
    } else {
      start_attempt(retry);
    }
  }
  return retry.result;
}

std::optional<std::uint64_t> Execution::completed_by(std::size_t index) const {
  const Op& op = ops_.at(index);
  if (op.kind == OpKind::Wait) {
    auto it = raised_.find(op.name);
    if (it == raised_.end() || it->second.size() <= op.wait_index) return std::nullopt;
    return it->second[op.wait_index].event_id;
  }
  auto it = completions_.find(op.event_id);
  if (it == completions_.end()) return std::nullopt;
  return it->second.event_id;
}

DurableOutput Execution::await(std::size_t index) { return await_first({index}).second; }

std::vector<DurableOutput> Execution::await_all(const std::vector<std::size_t>& indexes) {
  std::vector<std::optional<DurableOutput>> outputs(indexes.size());
  // Retried calls (and detached starts, which await_first refuses) go one by one.
  const bool one_by_one = std::any_of(indexes.begin(), indexes.end(), [this](std::size_t index) {
    return ops_.at(index).kind == OpKind::Retry || ops_.at(index).kind == OpKind::Detached;
  });
  if (one_by_one) {
    // A retried call advances at each await, gated by what else completed first: take the
    // winners one by one, as select would.
    std::vector<std::size_t> positions(indexes.size());
    std::iota(positions.begin(), positions.end(), std::size_t{0});
    std::vector<std::size_t> pending = indexes;
    while (!pending.empty()) {
      auto [winner, output] = await_first(pending);
      outputs[positions[winner]] = std::move(output);
      positions.erase(positions.begin() + static_cast<std::ptrdiff_t>(winner));
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(winner));
    }
  } else {
    // Plain calls: their completions never change once seen, so each turn's winners are taken
    // at once; await_first would return them in completion order with no turn in between.
    std::vector<std::size_t> pending(indexes.size());
    std::iota(pending.begin(), pending.end(), std::size_t{0});
    for (;;) {
      std::vector<std::size_t> still;
      for (std::size_t position : pending) {
        if (completed_by(indexes[position])) {
          outputs[position] = std::move(find_completion(indexes[position])->output);
        } else {
          still.push_back(position);
        }
      }
      if (still.empty()) break;
      pending = std::move(still);
      advance();
    }
  }
  std::vector<DurableOutput> results;
  results.reserve(outputs.size());
  for (auto& output : outputs) results.push_back(std::move(*output));
  return results;
}

std::pair<std::size_t, DurableOutput> Execution::await_first(
    const std::vector<std::size_t>& indexes) {
  for (;;) {
    std::optional<std::pair<std::size_t, Found>> first;
    auto consider = [&first](std::size_t i, std::optional<Found> found) {
      if (found && (!first || found->event_id < first->second.event_id)) {
        first.emplace(i, std::move(*found));
      }
    };
    // Plain calls first: retried activities then advance only on completions that come
    // before the best one found so far.
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      if (ops_.at(indexes[i]).kind != OpKind::Retry) consider(i, find_completion(indexes[i]));
    }
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      const Op& op = ops_.at(indexes[i]);
      if (op.kind != OpKind::Retry) continue;
      const std::uint64_t before =
          first ? first->second.event_id : std::numeric_limits<std::uint64_t>::max();
      consider(i, advance_retry(retries_.at(op.wait_index), before));
    }
    if (first) return {first->first, std::move(first->second.output)};
    advance();
  }
}

// ---- cancellation of dropped calls --------------------------------------------------------

bool Execution::settled(std::uint64_t event_id) const {
  return completions_.count(event_id) != 0 || cancelled_.count(event_id) != 0 ||
         held_sources_.count(event_id) != 0;
}

void Execution::drop(std::size_t index) noexcept {
  if (abandoned_ || divergence_ || stop_ || index >= ops_.size()) return;
  try {
    const Op& op = ops_[index];
    if (op.kind == OpKind::Retry) {
      const Retry& retry = retries_.at(op.wait_index);
      if (!retry.result && !retry.pause) cancel(retry.activity);
    } else {
      cancel(index);
    }
  } catch (...) {
    // Only allocation can fail here; the call then simply runs to its end unobserved.
  }
}

// Records the cancellation of an activity or child that has not completed, with the message
// or notice that carries it out once the step is durable.
void Execution::cancel(std::size_t index) {
  const Op& op = ops_.at(index);
  if (op.kind != OpKind::Activity && op.kind != OpKind::SubOrchestration) return;
  if (settled(op.event_id)) return;  // done, or its cancellation is recorded (maybe in replay)
  cancelled_.insert(op.event_id);
  HistoryEvent event;
  event.kind = EventKind::CancelRequested;
  event.timestamp = turn_time_;
  event.source_id = op.event_id;
  event.data = "dropped";
  add_event(std::move(event));
  if (op.kind == OpKind::Activity) {
    output_.cancelled_activities.push_back(op.event_id);
    return;
  }
  OrchestratorMessage message;
  message.instance_id = op.name;
  message.kind = MessageKind::CancelRequested;
  message.visible_at = turn_time_;
  message.data = std::string(kParentCanceledReason);
  output_.messages.push_back(std::move(message));
}

std::vector<std::string> Execution::open_children() const {
  std::map<std::uint64_t, std::string> open;  // by scheduling event id
  for (const Op& op : ops_) {
    if (op.kind == OpKind::SubOrchestration && !settled(op.event_id)) open[op.event_id] = op.name;
  }
  for (const HistoryEvent& event : history_) {  // until replay ends and releases it
    switch (event.kind) {
      case EventKind::SubOrchestrationScheduled:
        if (!settled(event.event_id)) open[event.event_id] = event.instance;
        break;
      case EventKind::SubOrchestrationCompleted:
      case EventKind::SubOrchestrationFailed:
      case EventKind::CancelRequested:
        open.erase(event.source_id);
        break;
      default:
        break;
    }
  }
  std::vector<std::string> children;
  for (auto& [event_id, child] : open) children.push_back(std::move(child));
  return children;
}

// Makes more completions visible: the next recorded turn, or (live) the next messages.
void Execution::advance() {
  release_deferred_stop();
  throw_if_ending();
  if (history_left()) {
    replay_turn();
    return;
  }
  check_history_consumed();
  replaying_ = false;
  while (!live_turn(host_.next_messages(take_output()))) {
  }
}

void Execution::replay_turn() {
  turn_time_ = history_[replay_pos_++].timestamp;
  while (replay_pos_ < history_.size() && !is_turn_marker(history_[replay_pos_].kind)) {
    take_in(history_[replay_pos_++]);
  }
}

// Opens a turn with the messages' events. Returns: false if every message was stale.
// Suspend and resume requests become events of the turn too; while the execution is
// suspended, what arrives is recorded and held (take_in), cancels and abandoned activities
// included, so that the code sees it only after the resume, in replay as live.
bool Execution::live_turn(std::vector<OrchestratorMessage> messages) {
  std::vector<HistoryEvent> events;
  bool suspended = suspended_;  // as of the events gathered so far
  for (auto& message : messages) {
    if (message.execution_id != 0 && message.execution_id != identity_.execution_id) continue;
    switch (message.kind) {
      case MessageKind::SuspendRequested:
      case MessageKind::ResumeRequested: {
        const bool suspend = message.kind == MessageKind::SuspendRequested;
        if (suspend == suspended) continue;  // already so: nothing to record
        suspended = suspend;
        HistoryEvent event;
        event.kind = suspend ? EventKind::ExecutionSuspended : EventKind::ExecutionResumed;
        event.timestamp = message.visible_at;
        event.data = std::move(message.data);
        events.push_back(std::move(event));
        continue;
      }
      case MessageKind::CancelRequested:
        if (suspended) {  // held: it takes effect after the resume
          HistoryEvent event;
          event.kind = EventKind::CancelRequested;
          event.timestamp = message.visible_at;
          event.data = std::move(message.data);
          events.push_back(std::move(event));
        } else if (!stop_) {
          // Ends the execution at this wait; the failure is committed with the message.
          stop_.emplace(ErrorCategory::Application, ErrorKind::Cancelled, std::move(message.data));
        }
        continue;
      case MessageKind::ActivityAbandoned: {
        auto it = scheduled_.find(message.source_id);
        if (it == scheduled_.end() || it->second != OpKind::Activity ||
            settled(message.source_id) || stop_) {
          continue;
        }
        HistoryEvent event;
        event.kind = EventKind::ActivityAbandoned;
        event.source_id = message.source_id;
        event.timestamp = message.visible_at;
        event.name = std::move(message.name);
        event.data = std::move(message.data);
        if (suspended) {
          events.push_back(std::move(event));  // held, recorded
        } else {
          deliver(event);  // stops now; the failure is committed with the message
        }
        continue;
      }
      default:
        break;
    }
    auto event = to_event(message);
    if (!event) continue;
    const bool repeated = std::any_of(events.begin(), events.end(), [&](const auto& other) {
      return is_completion(other.kind) && other.source_id == event->source_id;
    });
    if (!repeated) events.push_back(std::move(*event));
  }
  if (events.empty()) {
    if (stop_) throw StopRequested{*stop_};
    return false;
  }
  turn_time_ = std::max(turn_time_, host_.now());
  HistoryEvent marker;
  marker.kind = EventKind::TurnStarted;
  marker.timestamp = turn_time_;
  add_event(std::move(marker));
  for (auto& event : events) {
    add_event(std::move(event));
    take_in(output_.events.back());
  }
  if (stop_) throw StopRequested{*stop_};
  check_history_limit();
  return true;
}

// Returns: the event a message would add to history and the kind of call it completes
// (EventRaised: none, Activity is given), or nothing for a message that adds no event.
std::optional<std::pair<HistoryEvent, Execution::OpKind>> Execution::as_event(
    OrchestratorMessage& message) {
  HistoryEvent event;
  event.source_id = message.source_id;
  event.timestamp = message.visible_at;
  event.data = std::move(message.data);
  OpKind want = OpKind::Activity;
  switch (message.kind) {
    case MessageKind::ExternalEvent:
      event.kind = EventKind::EventRaised;
      event.name = std::move(message.name);
      break;
    case MessageKind::ActivityCompleted:
      event.kind = EventKind::ActivityCompleted;
      break;
    case MessageKind::ActivityFailed:
      event.kind = EventKind::ActivityFailed;
      break;
    case MessageKind::TimerFired:
      event.kind = EventKind::TimerFired;
      want = OpKind::Timer;
      break;
    case MessageKind::SubOrchestrationCompleted:
      event.kind = EventKind::SubOrchestrationCompleted;
      want = OpKind::SubOrchestration;
      break;
    case MessageKind::SubOrchestrationFailed:
      event.kind = EventKind::SubOrchestrationFailed;
      event.name = std::move(message.name);
      want = OpKind::SubOrchestration;
      break;
    case MessageKind::StartOrchestration:
    case MessageKind::CancelRequested:
    case MessageKind::ActivityAbandoned:
    case MessageKind::SuspendRequested:
    case MessageKind::ResumeRequested:
    case MessageKind::TerminateRequested:
    case MessageKind::RewindRequested:
      return std::nullopt;
  }
  return std::make_pair(std::move(event), want);
}

// Returns: the event a message adds to history, or nothing for a stale or duplicate message.
std::optional<HistoryEvent> Execution::to_event(OrchestratorMessage& message) const {
  auto converted = as_event(message);
  if (!converted) return std::nullopt;
  auto& [event, want] = *converted;
  if (event.kind == EventKind::EventRaised) return std::move(event);
  auto it = scheduled_.find(event.source_id);
  if (it == scheduled_.end() || it->second != want) return std::nullopt;
  // A re-delivery, or the late result of a call whose cancellation is recorded: dropped.
  if (settled(event.source_id)) return std::nullopt;
  return std::move(event);
}

// The one place where an event of history (replayed or new) reaches the execution's state:
// while suspended, completions, raised events and stops are held until the resume.
void Execution::take_in(const HistoryEvent& event) {
  switch (event.kind) {
    case EventKind::ExecutionSuspended:
      suspended_ = true;
      return;
    case EventKind::ExecutionResumed: {
      // The held results reach the code in this turn; a held stop (a cancel, an abandoned
      // activity) only at the code's next wait, as it would have, had it arrived unsuspended
      // after them. What was held after the stop no longer matters.
      suspended_ = false;
      std::vector<HistoryEvent> held = std::exchange(held_, {});
      held_sources_.clear();
      for (const auto& released : held) {
        if (is_held_stop(released)) {
          deferred_stop_ = released;
          break;
        }
        deliver(released);
      }
      return;
    }
    default:
      break;
  }
  const bool holdable =
      is_completion(event.kind) || event.kind == EventKind::EventRaised || is_held_stop(event);
  if (suspended_ && holdable) {
    if (event.kind != EventKind::EventRaised) held_sources_.insert(event.source_id);
    held_.push_back(event);
    return;
  }
  deliver(event);
}

void Execution::deliver(const HistoryEvent& event) {
  switch (event.kind) {
    case EventKind::ActivityCompleted:
    case EventKind::ActivityFailed:
    case EventKind::TimerFired:
    case EventKind::SubOrchestrationCompleted:
    case EventKind::SubOrchestrationFailed: {
      const bool ok = event.kind != EventKind::ActivityFailed &&
                      event.kind != EventKind::SubOrchestrationFailed;
      completions_.emplace(event.source_id, Completion{event.event_id, ok, event.data});
      break;
    }
    case EventKind::EventRaised:
      raised_[event.name].push_back(Completion{event.event_id, true, event.data});
      break;
    case EventKind::CancelRequested:
      // source_id 0: a cancel of the instance held while it was suspended. Others record the
      // drop of a call (in cancelled_ since the execution began).
      if (event.source_id == 0 && !stop_) {
        stop_.emplace(ErrorCategory::Application, ErrorKind::Cancelled, event.data);
      }
      break;
    case EventKind::ActivityAbandoned:
      if (!stop_) {
        // The workers name why they gave up (ActivityWorkers::give_up): unregistered, or poison.
        const bool unregistered = parse_error_kind(event.name) == ErrorKind::UnregisteredActivity;
        stop_.emplace(unregistered ? ErrorCategory::Configuration : ErrorCategory::Poison,
                      unregistered ? ErrorKind::UnregisteredActivity : ErrorKind::Poison,
                      event.data);
      }
      break;
    default:
      break;  // scheduled calls are matched by position; markers open turns
  }
}

// ---- the end ----------------------------------------------------------------------------

void Execution::complete(std::string output) {
  if (!history_.empty()) check_history_consumed();
  replaying_ = false;
  HistoryEvent done;
  done.kind = EventKind::OrchestrationCompleted;
  done.timestamp = turn_time_;
  done.data = std::move(output);
  add_event(std::move(done));
}

std::vector<std::pair<std::string, std::string>> Execution::end_continued() {
  if (!history_.empty()) check_history_consumed();
  replaying_ = false;
  std::vector<std::pair<std::uint64_t, std::pair<std::string, std::string>>> unreceived;
  for (const auto& [name, events] : raised_) {
    auto waited = waits_.find(name);
    const std::size_t received = waited == waits_.end() ? 0 : waited->second;
    for (std::size_t i = received; i < events.size(); ++i) {
      unreceived.push_back({events[i].event_id, {name, events[i].data}});
    }
  }
  std::sort(unreceived.begin(), unreceived.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  HistoryEvent continued;
  continued.kind = EventKind::OrchestrationContinuedAsNew;
  continued.timestamp = turn_time_;
  continued.data = continue_input_.value_or("");
  add_event(std::move(continued));
  std::vector<std::pair<std::string, std::string>> carried;
  for (auto& entry : unreceived) carried.push_back(std::move(entry.second));
  return carried;
}

void Execution::record_unseen(std::vector<OrchestratorMessage> messages) {
  // The execution may not have replayed (a terminate or poison before any code ran) or only
  // partly (a divergence): the calls and results of history count as well as the replayed ones.
  std::unordered_map<std::uint64_t, OpKind> calls(scheduled_.begin(), scheduled_.end());
  std::unordered_set<std::uint64_t> done;
  for (const auto& event : history_) {
    switch (event.kind) {
      case EventKind::ActivityScheduled:
        calls.emplace(event.event_id, OpKind::Activity);
        break;
      case EventKind::TimerCreated:
        calls.emplace(event.event_id, OpKind::Timer);
        break;
      case EventKind::SubOrchestrationScheduled:
        calls.emplace(event.event_id, OpKind::SubOrchestration);
        break;
      default:
        if (is_completion(event.kind)) done.insert(event.source_id);
        break;
    }
  }
  std::vector<HistoryEvent> events;
  for (auto& message : messages) {
    if (message.execution_id != 0 && message.execution_id != identity_.execution_id) continue;
    auto converted = as_event(message);
    if (!converted) continue;
    auto& [event, want] = *converted;
    if (event.kind != EventKind::EventRaised) {
      auto call = calls.find(event.source_id);
      if (call == calls.end() || call->second != want || settled(event.source_id) ||
          done.contains(event.source_id)) {
        continue;
      }
      done.insert(event.source_id);
    }
    events.push_back(std::move(event));
  }
  if (events.empty()) return;
  turn_time_ = std::max(turn_time_, host_.now());
  HistoryEvent marker;
  marker.kind = EventKind::TurnStarted;
  marker.timestamp = turn_time_;
  add_event(std::move(marker));
  for (auto& event : events) add_event(std::move(event));
}

void Execution::fail(const ErrorDetails& details) {
  HistoryEvent failed;
  failed.kind = EventKind::OrchestrationFailed;
  failed.timestamp = turn_time_;
  failed.category = details.category();
  failed.name = std::string(details.kind());
  failed.data = details.message();
  add_event(std::move(failed));
}

}  // namespace duroxide::engine
