// SPDX-License-Identifier: MIT
// Well-formedness of one execution's history.
#include "history_check.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace duroxide::crash {

namespace {

enum class Call { None, Activity, Timer, Child, Any };

Call scheduled_call(EventKind kind) {
  switch (kind) {
    case EventKind::ActivityScheduled:
      return Call::Activity;
    case EventKind::TimerCreated:
      return Call::Timer;
    case EventKind::SubOrchestrationScheduled:
      return Call::Child;
    default:
      return Call::None;
  }
}

// The call a completion (or a cancellation: Any of activity and child) refers to.
Call completed_call(EventKind kind) {
  switch (kind) {
    case EventKind::ActivityCompleted:
    case EventKind::ActivityFailed:
      return Call::Activity;
    case EventKind::TimerFired:
      return Call::Timer;
    case EventKind::SubOrchestrationCompleted:
    case EventKind::SubOrchestrationFailed:
      return Call::Child;
    case EventKind::CancelRequested:
      return Call::Any;
    default:
      return Call::None;
  }
}

bool is_terminal(EventKind kind) {
  return kind == EventKind::OrchestrationCompleted || kind == EventKind::OrchestrationFailed ||
         kind == EventKind::OrchestrationContinuedAsNew;
}

std::string at(const HistoryEvent& event) {
  return "event " + std::to_string(event.event_id) + " (" + std::string(to_string(event.kind)) +
         ")";
}

void check_shape(const std::vector<HistoryEvent>& history, EventKind terminal,
                 std::vector<std::string>& problems) {
  int terminals = 0;
  for (std::size_t k = 0; k < history.size(); ++k) {
    const HistoryEvent& event = history[k];
    if (event.event_id != k + 1) {
      problems.push_back(at(event) + " at position " + std::to_string(k + 1) + ": ids not dense");
    }
    if ((k == 0) != (event.kind == EventKind::OrchestrationStarted)) {
      problems.push_back(at(event) + ": OrchestrationStarted must be first and only first");
    }
    if (!is_terminal(event.kind)) continue;
    ++terminals;
    if (k + 1 != history.size()) problems.push_back(at(event) + ": terminal event is not last");
    if (event.kind != terminal) {
      problems.push_back(at(event) + ": expected terminal " + std::string(to_string(terminal)));
    }
  }
  if (terminals != 1) {
    problems.push_back(std::to_string(terminals) + " terminal events instead of exactly one");
  }
}

void check_completions(const std::vector<HistoryEvent>& history, bool all_completed,
                       std::vector<std::string>& problems) {
  std::map<std::uint64_t, Call> scheduled;
  std::map<std::uint64_t, int> completions;
  for (const HistoryEvent& event : history) {
    if (const Call call = scheduled_call(event.kind); call != Call::None) {
      scheduled[event.event_id] = call;
      continue;
    }
    const Call call = completed_call(event.kind);
    if (call == Call::None) continue;
    auto source = scheduled.find(event.source_id);
    const bool matches =
        source != scheduled.end() &&
        (source->second == call || (call == Call::Any && source->second != Call::Timer));
    if (!matches) {
      problems.push_back(at(event) + ": source " + std::to_string(event.source_id) +
                         " is no earlier call of its kind");
    }
    if (call != Call::Any && ++completions[event.source_id] > 1) {
      problems.push_back(at(event) + ": second completion of event " +
                         std::to_string(event.source_id));
    }
  }
  if (!all_completed) return;
  for (const auto& [id, call] : scheduled) {
    if (completions[id] == 0) {
      problems.push_back("scheduled event " + std::to_string(id) + " never completed");
    }
  }
}

}  // namespace

std::vector<std::string> history_problems(const std::vector<HistoryEvent>& history,
                                          EventKind terminal, bool all_completed) {
  std::vector<std::string> problems;
  if (history.empty()) return {"empty history"};
  check_shape(history, terminal, problems);
  check_completions(history, all_completed, problems);
  return problems;
}

}  // namespace duroxide::crash
