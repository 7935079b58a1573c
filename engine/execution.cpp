// SPDX-License-Identifier: MIT
// Replay and recording of one execution: scheduled calls, completions, turns.
#include "engine/execution.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace duroxide::engine {
namespace {

bool is_turn_marker(EventKind kind) {
  return kind == EventKind::OrchestrationStarted || kind == EventKind::TurnStarted;
}

bool is_schedule(EventKind kind) {
  return kind == EventKind::ActivityScheduled || kind == EventKind::TimerCreated ||
         kind == EventKind::EventSubscribed;
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
    : host_(host), history_(std::move(history)) {
  if (history_.empty() || history_.front().kind != EventKind::OrchestrationStarted) {
    throw std::invalid_argument("history does not begin with OrchestrationStarted");
  }
  const HistoryEvent& started = history_.front();
  identity_ =
      ExecutionIdentity{std::move(instance_id), execution_id, started.name, started.version};
  input_ = started.data;
  start_time_ = started.timestamp;
  next_event_id_ = history_.back().event_id + 1;
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
  HistoryEvent event;
  event.kind = EventKind::ActivityScheduled;
  event.name = std::string(name);
  event.data = std::move(input);
  return DurableFuture(this, schedule(OpKind::Activity, std::move(event)));
}

DurableFuture Execution::schedule_timer(std::chrono::milliseconds delay) {
  HistoryEvent event;
  event.kind = EventKind::TimerCreated;
  // Saturating: a delay of milliseconds::max() means "never", not a time in the past.
  const std::int64_t ms = std::max<std::int64_t>(delay.count(), 0);
  event.timestamp = ms > std::numeric_limits<TimestampMs>::max() - turn_time_
                        ? std::numeric_limits<TimestampMs>::max()
                        : turn_time_ + ms;
  return DurableFuture(this, schedule(OpKind::Timer, std::move(event)));
}

DurableFuture Execution::schedule_wait(std::string_view event_name) {
  HistoryEvent event;
  event.kind = EventKind::EventSubscribed;
  event.name = std::string(event_name);
  return DurableFuture(this, schedule(OpKind::Wait, std::move(event)));
}

// Binds the call at the next position to its recorded event, or records it (with the work it
// implies) when history has no more scheduled calls.
std::size_t Execution::schedule(OpKind kind, HistoryEvent wanted) {
  if (divergence_) throw NondeterminismDetected{*divergence_};
  if (cancel_reason_) throw CancelRequested{*cancel_reason_};
  const std::size_t position = ops_.size();
  Op op{kind, 0, 0, kind == OpKind::Wait ? wanted.name : std::string()};
  if (const HistoryEvent* recorded = next_recorded_schedule()) {
    check_match(position, *recorded, wanted);
    op.event_id = recorded->event_id;
  } else {
    if (history_left()) {
      diverged(fmt::format("call #{} {} is not in history, which has no more scheduled calls",
                           position + 1, describe(wanted)));
    }
    replaying_ = false;
    const TimestampMs fire_at = wanted.timestamp;
    const std::string activity_name = wanted.name;
    const std::string activity_input = kind == OpKind::Activity ? wanted.data : std::string();
    op.event_id = add_event(std::move(wanted));
    if (kind == OpKind::Activity) {
      output_.activities.push_back(ActivityWorkItem{identity_.instance_id, identity_.execution_id,
                                                    identity_.name, op.event_id, activity_name,
                                                    activity_input, 1});
    } else if (kind == OpKind::Timer) {
      OrchestratorMessage fired;
      fired.instance_id = identity_.instance_id;
      fired.execution_id = identity_.execution_id;
      fired.kind = MessageKind::TimerFired;
      fired.source_id = op.event_id;
      fired.visible_at = fire_at;
      output_.messages.push_back(std::move(fired));
    }
  }
  if (kind == OpKind::Wait) op.wait_index = waits_[op.name]++;
  scheduled_.emplace(op.event_id, kind);
  ops_.push_back(std::move(op));
  return position;
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
  if (same && wanted.kind == EventKind::ActivityScheduled) same = recorded.data == wanted.data;
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

std::optional<Execution::Found> Execution::find_completion(const Op& op) const {
  using Kind = DurableOutput::Kind;
  if (op.kind == OpKind::Wait) {
    auto it = raised_.find(op.name);
    if (it == raised_.end() || it->second.size() <= op.wait_index) return std::nullopt;
    const Completion& event = it->second[op.wait_index];
    return Found{event.event_id, DurableOutput{Kind::External, event.data}};
  }
  auto it = completions_.find(op.event_id);
  if (it == completions_.end()) return std::nullopt;
  const Completion& done = it->second;
  if (op.kind == OpKind::Timer) return Found{done.event_id, DurableOutput{Kind::Timer, ""}};
  if (done.ok) return Found{done.event_id, DurableOutput{Kind::Activity, done.data}};
  return Found{done.event_id, DurableOutput{Kind::Activity, Err(done.data)}};
}

DurableOutput Execution::await(std::size_t index) { return await_first({index}).second; }

std::pair<std::size_t, DurableOutput> Execution::await_first(
    const std::vector<std::size_t>& indexes) {
  for (;;) {
    std::optional<std::pair<std::size_t, Found>> first;
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      auto found = find_completion(ops_.at(indexes[i]));
      if (found && (!first || found->event_id < first->second.event_id)) {
        first.emplace(i, std::move(*found));
      }
    }
    if (first) return {first->first, std::move(first->second.output)};
    advance();
  }
}

// Makes more completions visible: the next recorded turn, or (live) the next messages.
void Execution::advance() {
  if (divergence_) throw NondeterminismDetected{*divergence_};
  if (cancel_reason_) throw CancelRequested{*cancel_reason_};
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
    apply(history_[replay_pos_++]);
  }
}

// Opens a turn with the messages' events. Returns: false if every message was stale.
bool Execution::live_turn(std::vector<OrchestratorMessage> messages) {
  std::vector<HistoryEvent> events;
  for (auto& message : messages) {
    if (message.kind == MessageKind::CancelRequested &&
        (message.execution_id == 0 || message.execution_id == identity_.execution_id)) {
      // Ends the execution at this wait; the failure is committed with the message.
      if (!cancel_reason_) cancel_reason_ = std::move(message.data);
      continue;
    }
    auto event = to_event(message);
    if (!event) continue;
    const bool repeated = std::any_of(events.begin(), events.end(), [&](const auto& other) {
      return other.kind != EventKind::EventRaised && other.source_id == event->source_id;
    });
    if (!repeated) events.push_back(std::move(*event));
  }
  if (events.empty()) {
    if (cancel_reason_) throw CancelRequested{*cancel_reason_};
    return false;
  }
  turn_time_ = std::max(turn_time_, host_.now());
  HistoryEvent marker;
  marker.kind = EventKind::TurnStarted;
  marker.timestamp = turn_time_;
  add_event(std::move(marker));
  for (auto& event : events) {
    add_event(std::move(event));
    apply(output_.events.back());
  }
  if (cancel_reason_) throw CancelRequested{*cancel_reason_};
  return true;
}

// Returns: the event a message adds to history, or nothing for a stale or duplicate message.
std::optional<HistoryEvent> Execution::to_event(OrchestratorMessage& message) const {
  if (message.execution_id != 0 && message.execution_id != identity_.execution_id) {
    return std::nullopt;
  }
  HistoryEvent event;
  event.source_id = message.source_id;
  event.timestamp = message.visible_at;
  event.data = std::move(message.data);
  switch (message.kind) {
    case MessageKind::ExternalEvent:
      event.kind = EventKind::EventRaised;
      event.name = std::move(message.name);
      return event;
    case MessageKind::ActivityCompleted:
    case MessageKind::ActivityFailed:
    case MessageKind::TimerFired: {
      const OpKind want =
          message.kind == MessageKind::TimerFired ? OpKind::Timer : OpKind::Activity;
      auto it = scheduled_.find(message.source_id);
      if (it == scheduled_.end() || it->second != want) return std::nullopt;
      if (completions_.count(message.source_id) != 0) return std::nullopt;  // a re-delivery
      event.kind = message.kind == MessageKind::ActivityCompleted ? EventKind::ActivityCompleted
                   : message.kind == MessageKind::ActivityFailed  ? EventKind::ActivityFailed
                                                                  : EventKind::TimerFired;
      return event;
    }
    case MessageKind::StartOrchestration:
    case MessageKind::CancelRequested:
    case MessageKind::SubOrchestrationCompleted:
    case MessageKind::SubOrchestrationFailed:
    case MessageKind::ActivityPoisoned:
      break;
  }
  return std::nullopt;
}

void Execution::apply(const HistoryEvent& event) {
  switch (event.kind) {
    case EventKind::ActivityCompleted:
    case EventKind::ActivityFailed:
    case EventKind::TimerFired:
      completions_.emplace(
          event.source_id,
          Completion{event.event_id, event.kind != EventKind::ActivityFailed, event.data});
      break;
    case EventKind::EventRaised:
      raised_[event.name].push_back(Completion{event.event_id, true, event.data});
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
