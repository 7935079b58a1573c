// SPDX-License-Identifier: MIT
// The store check's rules for one execution's history (no LMDB: decoded events in, problems out).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <duroxide/provider.hpp>

#include "storage/lmdb_check.hpp"

namespace duroxide::storage {

/// The events of one execution as the check read them, in key order.
struct ExecutionHistory {
  std::string instance_id;
  std::uint64_t execution_id = 0;
  /// The event id of each key, with its event (nullopt if the record did not decode; that
  /// problem is reported by whoever read it).
  std::vector<std::pair<std::uint64_t, std::optional<HistoryEvent>>> events;
};

/// What the row checks need to know of an execution.
struct ExecutionSummary {
  /// Every event decoded: the fields below are known.
  bool decoded = true;
  /// The terminal event in effect at the end (OrchestrationCompleted, OrchestrationFailed,
  /// OrchestrationContinuedAsNew), if any.
  std::optional<HistoryEvent> terminal;
  /// The last of ExecutionSuspended and ExecutionResumed is a suspension.
  bool suspended = false;
  /// ActivityScheduled events: id -> activity name.
  std::map<std::uint64_t, std::string> activities;
};

/// Returns: `where` of an execution ("history of 'x' execution 2") or one of its events
/// ("history of 'x' execution 2, event 7").
std::string history_where(const std::string& instance_id, std::uint64_t execution_id);
std::string history_where(const std::string& instance_id, std::uint64_t execution_id,
                          std::uint64_t event_id);

/// Checks the rules of one execution (density, the first event, completions, terminal events,
/// rewinds, suspensions; see check_store) and reports what is wrong to `problems`.
ExecutionSummary check_execution(const ExecutionHistory& history, ProblemSink& problems);

}  // namespace duroxide::storage
