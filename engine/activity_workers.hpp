// SPDX-License-Identifier: MIT
// ActivityWorkers: threads that run activities and commit their results.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
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

  /// Sets ActivityContext::is_cancelled() for the activities running for `instance_id`.
  /// Thread-safe.
  void cancel_instance(const std::string& instance_id);

  /// Lets running activities finish and joins the threads. After `grace` (if given), running
  /// activities see ActivityContext::is_cancelled() turn true.
  void stop(std::optional<std::chrono::milliseconds> grace = std::nullopt);

 private:
  void main();
  void run(QueuedActivity queued);
  Result<std::string> invoke(ActivityContext& context, const ActivityWorkItem& item);

  using Flag = std::shared_ptr<std::atomic<bool>>;
  Flag track(const std::string& instance_id);
  void untrack(const std::string& instance_id, const Flag& flag);

  const Services& services_;
  std::shared_ptr<Signals> signals_;
  std::vector<std::thread> threads_;
  std::mutex running_mutex_;
  std::unordered_multimap<std::string, Flag> running_;  // cancel flags by instance
};

}  // namespace duroxide::engine
