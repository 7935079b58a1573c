// SPDX-License-Identifier: MIT
// ActivityResult: an activity's outcome on its way from a worker back to its instance.
#pragma once

#include <cstdint>
#include <optional>

#include <duroxide/provider.hpp>

namespace duroxide::engine {

/// An activity's outcome, handed to its instance in memory (Router::deliver_result) or
/// committed as a completion message (Router::store_result). Handed over in memory, it is
/// recorded by the instance's next step, which deletes the work item in the same commit; until
/// then the item stays in the store, so a crash re-runs the activity (at least once).
struct ActivityResult {
  QueueKey activity_key;        ///< the work item in the worker queue
  OrchestratorMessage message;  ///< ActivityCompleted or ActivityFailed
  /// The stored attempt to put back if the outcome cannot be stored (see ActivityWorkers).
  std::optional<std::uint32_t> restore_attempt;
};

}  // namespace duroxide::engine
