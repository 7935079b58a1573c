// SPDX-License-Identifier: MIT
// Rewind: which events of a history count after ExecutionRewound, and what a rewind writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide::engine {

/// Returns: the events of `history` that count, in order. Each ExecutionRewound(source_id c)
/// sets aside every event before it whose id is c or more, and itself; it also sets aside the
/// held stops before it (a CancelRequested of the instance, an ActivityAbandoned), which
/// failed the attempt it undoes. Event ids stay as recorded (no longer dense past a rewind).
/// A history without ExecutionRewound is returned as it is.
std::vector<HistoryEvent> events_in_effect(std::vector<HistoryEvent> history);

/// A child that the rewound execution still waits for: the client settles it before it
/// commits the plan (rewinds it if Failed, re-sends its output if Completed).
struct OpenChild {
  std::string instance_id;
  std::uint64_t scheduled_by = 0;  ///< the SubOrchestrationScheduled event id
};

/// What Client::rewind_instance writes for one Failed instance (docs/ENGINE.md, "Rewind").
struct RewindPlan {
  /// Appended to the current execution: ExecutionRewound, then (when the failed attempt is cut
  /// at a turn) a TurnStarted with the results of that turn and later ones that are kept.
  std::vector<HistoryEvent> events;
  /// Work items of the activities scheduled before the cut without a result in effect.
  std::vector<ActivityWorkItem> activities;
  /// TimerFired of the timers without one in effect (at their own time), and the wake-up
  /// (RewindRequested) that makes a runtime run the code.
  std::vector<OrchestratorMessage> messages;
  std::vector<OpenChild> open_children;
  /// The execution ends suspended (it failed while a runtime held it suspended).
  bool suspended = false;
};

/// Plans the rewind of `row`'s current execution with raw `history` (what the store holds).
/// Where the failed attempt is cut: for a failure of kind OrchestrationFailed (an Err from the
/// code, usually from a failed call), at the turn of the first failed call in effect (an
/// ActivityFailed or SubOrchestrationFailed), so that the failed calls and whatever the code
/// did after them run again, while the successful results of calls scheduled before that turn
/// are kept (copied into a new turn); for any other failure, or one without a failed call, at
/// the OrchestrationFailed event, so that the code runs again from its last recorded result.
/// Returns: InvalidArgument unless the row is Failed; Corruption for a history that does not
/// end with the failure.
Result<RewindPlan, Error> plan_rewind(const InstanceRecord& row,
                                      const std::vector<HistoryEvent>& history,
                                      const std::string& reason, TimestampMs now);

}  // namespace duroxide::engine
