// SPDX-License-Identifier: MIT
// Rewind: the events in effect after ExecutionRewound, and the plan of a rewind.
#include "engine/rewind.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace duroxide::engine {

namespace {

bool is_turn_marker(EventKind kind) {
  return kind == EventKind::OrchestrationStarted || kind == EventKind::TurnStarted;
}

// A stop that arrived while the instance was suspended and failed it once resumed.
bool is_held_stop(const HistoryEvent& event) {
  return (event.kind == EventKind::CancelRequested && event.source_id == 0) ||
         event.kind == EventKind::ActivityAbandoned;
}

bool is_failed_call(EventKind kind) {
  return kind == EventKind::ActivityFailed || kind == EventKind::SubOrchestrationFailed;
}

bool is_result(EventKind kind) {
  return kind == EventKind::ActivityCompleted || kind == EventKind::ActivityFailed ||
         kind == EventKind::TimerFired || kind == EventKind::SubOrchestrationCompleted ||
         kind == EventKind::SubOrchestrationFailed;
}

// A result worth keeping from the attempt that is set aside: the success of a call scheduled
// before the cut, or an event raised to the instance (it was delivered; the code may wait
// for it again).
bool keeps(const HistoryEvent& event, const std::unordered_set<std::uint64_t>& scheduled_before) {
  switch (event.kind) {
    case EventKind::ActivityCompleted:
    case EventKind::SubOrchestrationCompleted:
    case EventKind::TimerFired:
      return scheduled_before.contains(event.source_id);
    case EventKind::EventRaised:
      return true;
    default:
      return false;
  }
}

bool is_schedule(EventKind kind) {
  return kind == EventKind::ActivityScheduled || kind == EventKind::TimerCreated ||
         kind == EventKind::EventSubscribed || kind == EventKind::SubOrchestrationScheduled ||
         kind == EventKind::OrchestrationScheduled;
}

// The failed call the code failed on (see plan_rewind), or effect.end().
std::vector<HistoryEvent>::const_iterator failed_call(const std::vector<HistoryEvent>& effect) {
  auto last_schedule = std::find_if(effect.rbegin(), effect.rend(),
                                    [](const HistoryEvent& e) { return is_schedule(e.kind); });
  const std::uint64_t after = last_schedule == effect.rend() ? 0 : last_schedule->event_id;
  auto first_after = std::find_if(effect.begin(), effect.end(), [after](const HistoryEvent& e) {
    return is_failed_call(e.kind) && e.event_id > after;
  });
  if (first_after != effect.end()) return first_after;
  auto last = std::find_if(effect.rbegin(), effect.rend(),
                           [](const HistoryEvent& e) { return is_failed_call(e.kind); });
  return last == effect.rend() ? effect.end() : std::prev(last.base());
}

// Where the failed attempt begins: the marker of the turn of the failed call for an Err from
// the code (the turn of the suspension, if the call's failure was held), else the failure
// itself. Returns: the cut, and whether it is a turn.
std::pair<std::uint64_t, bool> find_cut(const std::vector<HistoryEvent>& effect) {
  const HistoryEvent& failure = effect.back();
  if (parse_error_kind(failure.name) != ErrorKind::OrchestrationFailed) {
    return {failure.event_id, false};
  }
  auto failed = failed_call(effect);
  if (failed == effect.end()) return {failure.event_id, false};
  auto turn = effect.begin();
  auto suspension = effect.end();  // the turn whose ExecutionSuspended is in force
  for (auto it = effect.begin(); it != failed; ++it) {
    if (is_turn_marker(it->kind)) turn = it;
    if (it->kind == EventKind::ExecutionSuspended) suspension = turn;
    if (it->kind == EventKind::ExecutionResumed) suspension = effect.end();
  }
  if (is_turn_marker(failed->kind)) turn = failed;
  if (suspension != effect.end()) turn = suspension;
  // Turn 1 holds no results, so the marker is a TurnStarted; the guard keeps the start.
  if (turn->kind != EventKind::TurnStarted) return {failure.event_id, false};
  return {turn->event_id, true};
}

}  // namespace

std::vector<HistoryEvent> events_in_effect(std::vector<HistoryEvent> history) {
  const bool rewound = std::any_of(history.begin(), history.end(), [](const HistoryEvent& e) {
    return e.kind == EventKind::ExecutionRewound;
  });
  if (!rewound) return history;
  std::vector<HistoryEvent> kept;
  kept.reserve(history.size());
  for (auto& event : history) {
    if (event.kind == EventKind::ExecutionRewound) {
      const std::uint64_t cut = event.source_id;
      std::erase_if(kept,
                    [cut](const HistoryEvent& e) { return e.event_id >= cut || is_held_stop(e); });
      continue;
    }
    kept.push_back(std::move(event));
  }
  return kept;
}

Result<RewindPlan, Error> plan_rewind(const InstanceRecord& row,
                                      const std::vector<HistoryEvent>& history,
                                      const std::string& reason, TimestampMs now) {
  if (row.state != InstanceState::Failed) {
    return Err(Error{
        ErrorCode::InvalidArgument,
        fmt::format("instance '{}' is {}: only a Failed instance can be rewound", row.instance_id,
                    row.state == InstanceState::Running ? "Running" : "Completed")});
  }
  std::vector<HistoryEvent> effect = events_in_effect(history);
  if (effect.empty() || effect.back().kind != EventKind::OrchestrationFailed) {
    return Err(Error{ErrorCode::Corruption,
                     fmt::format("instance '{}' is Failed but the history of its execution {} "
                                 "does not end with OrchestrationFailed",
                                 row.instance_id, row.execution_id)});
  }
  const auto [cut, at_turn] = find_cut(effect);
  std::uint64_t next_id = history.back().event_id + 1;

  std::vector<HistoryEvent> after;  // the events in effect once the plan is written
  std::unordered_set<std::uint64_t> scheduled_before;
  for (const auto& event : effect) {
    if (event.event_id >= cut) break;
    if (!is_result(event.kind) && event.kind != EventKind::EventRaised) {
      scheduled_before.insert(event.event_id);
    }
    after.push_back(event);
  }
  std::vector<HistoryEvent> copies;
  if (at_turn) {
    for (const auto& event : effect) {
      if (event.event_id >= cut && keeps(event, scheduled_before)) copies.push_back(event);
    }
  }

  RewindPlan plan;
  for (const auto& event : effect) {
    if (event.event_id >= cut && event.kind == EventKind::SubOrchestrationScheduled) {
      plan.set_aside_children.push_back(
          OpenChild{event.instance, event.event_id, event.name, event.data});
    }
  }
  HistoryEvent rewound;
  rewound.event_id = next_id++;
  rewound.kind = EventKind::ExecutionRewound;
  rewound.timestamp = now;
  rewound.source_id = cut;
  rewound.data = reason;
  plan.events.push_back(std::move(rewound));
  if (!copies.empty()) {
    HistoryEvent turn;
    turn.event_id = next_id++;
    turn.kind = EventKind::TurnStarted;
    turn.timestamp = now;
    plan.events.push_back(std::move(turn));
    for (auto& copy : copies) {
      copy.event_id = next_id++;
      plan.events.push_back(copy);
      after.push_back(std::move(copy));
    }
  }

  // What the execution waits for with nothing on its way: activities and timers are sent
  // again, children are settled by the client.
  std::unordered_set<std::uint64_t> settled;
  for (const auto& event : after) {
    if (is_result(event.kind) ||
        (event.kind == EventKind::CancelRequested && event.source_id != 0)) {
      settled.insert(event.source_id);
    }
  }
  for (const auto& event : after) {
    if (settled.contains(event.event_id)) continue;
    switch (event.kind) {
      case EventKind::ActivityScheduled:
        plan.activities.push_back(ActivityWorkItem{row.instance_id, row.execution_id, row.name,
                                                   event.event_id, event.name, event.data, 1});
        break;
      case EventKind::TimerCreated: {
        OrchestratorMessage fired;
        fired.instance_id = row.instance_id;
        fired.execution_id = row.execution_id;
        fired.kind = MessageKind::TimerFired;
        fired.source_id = event.event_id;
        fired.visible_at = event.timestamp;
        plan.messages.push_back(std::move(fired));
        break;
      }
      case EventKind::SubOrchestrationScheduled:
        plan.open_children.push_back(
            OpenChild{event.instance, event.event_id, event.name, event.data});
        break;
      case EventKind::ExecutionSuspended:
        plan.suspended = true;
        break;
      case EventKind::ExecutionResumed:
        plan.suspended = false;
        break;
      default:
        break;
    }
  }
  OrchestratorMessage wake;
  wake.instance_id = row.instance_id;
  wake.execution_id = row.execution_id;
  wake.kind = MessageKind::RewindRequested;
  wake.visible_at = now;
  wake.data = reason;
  plan.messages.push_back(std::move(wake));
  return plan;
}

}  // namespace duroxide::engine
