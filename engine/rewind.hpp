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
  std::string name;                ///< the orchestration it runs
  std::string input;
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
  /// Children started by the attempt that is set aside: the client removes the finished ones
  /// and terminates the running ones, so that the code can start them again.
  std::vector<OpenChild> set_aside_children;
  /// The execution ends suspended (it failed while a runtime held it suspended).
  bool suspended = false;
};

/// Plans the rewind of `row`'s current execution with raw `history` (what the store holds).
/// Where the failed attempt is cut: for a failure of kind OrchestrationFailed (an Err from the
/// code, usually from a failed call), at the turn of the failed call (an ActivityFailed or
/// SubOrchestrationFailed) that the code failed on, so that the failed calls and whatever the
/// code did after them run again, while the successful results of calls scheduled before that
/// turn are kept (copied into a new turn). The failed calls the code failed on are those that
/// failed after its last scheduled call (all of them, the earliest first: a join that saw
/// several failures); if none did (the code scheduled more after a failure, e.g. compensation),
/// the last failed call. A failure handled earlier, after which the code went on, is kept.
/// A cut inside a suspension moves back to the suspension's turn (the held failure was only
/// seen at the resume). For any other failure, or one without a failed call, the cut is the
/// OrchestrationFailed event, so that the code runs again from its last recorded result.
/// Returns: InvalidArgument unless the row is Failed; Corruption for a history that does not
/// end with the failure.
Result<RewindPlan, Error> plan_rewind(const InstanceRecord& row,
                                      const std::vector<HistoryEvent>& history,
                                      const std::string& reason, TimestampMs now);

}  // namespace duroxide::engine
