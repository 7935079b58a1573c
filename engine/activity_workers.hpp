// SPDX-License-Identifier: MIT
// ActivityWorkers: threads that run activities and commit their results.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "engine/services.hpp"
#include "engine/signals.hpp"

namespace duroxide::engine {

/// A pool of plain threads (activities block: they sleep, do I/O, call services). Each takes
/// one leased activity at a time, runs it, and commits {remove the item, enqueue the result}
/// without waiting: the group committer batches the completions of all workers. A failed
/// commit releases the lease, so the activity runs again (at least once).
///
/// Thread safety: construct, then stop() from the owning thread.
class ActivityWorkers {
 public:
  ActivityWorkers(const Services& services, std::shared_ptr<Signals> signals);
  ~ActivityWorkers();
  ActivityWorkers(const ActivityWorkers&) = delete;
  ActivityWorkers& operator=(const ActivityWorkers&) = delete;

  /// Lets running activities finish and joins the threads. After `grace` (if given), running
  /// activities see ActivityContext::is_cancelled() turn true.
  void stop(std::optional<std::chrono::milliseconds> grace = std::nullopt);

 private:
  void main();
  void run(QueuedActivity queued);
  Result<std::string> invoke(ActivityContext& context, const ActivityWorkItem& item);

  const Services& services_;
  std::shared_ptr<Signals> signals_;
  std::vector<std::thread> threads_;
};

}  // namespace duroxide::engine
