// SPDX-License-Identifier: MIT
// Well-formedness of one execution's history: what every history must satisfy, whatever crashed.
#pragma once

#include <string>
#include <vector>

#include <duroxide/duroxide.hpp>

namespace duroxide::crash {

/// Returns: what is wrong with `history` (empty if nothing): event ids that are not dense from
/// 1; a first event other than OrchestrationStarted, or another OrchestrationStarted later;
/// not exactly one terminal event (OrchestrationCompleted, OrchestrationFailed,
/// OrchestrationContinuedAsNew), or one that is not last or not of kind `terminal`; a
/// completion or cancellation whose source is not an earlier scheduling event of its kind;
/// more than one completion for one scheduled call. With `all_completed`, also a scheduled call
/// that has no completion.
std::vector<std::string> history_problems(const std::vector<HistoryEvent>& history,
                                          EventKind terminal, bool all_completed);

}  // namespace duroxide::crash
