// SPDX-License-Identifier: MIT
// Signals: how commits wake the dispatcher and the activity workers (no polling).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include <duroxide/provider.hpp>

namespace duroxide::engine {

/// Shared by the store's change listener (called on the store's writer thread), the dispatcher
/// and the workers. Held by shared_ptr so a listener call racing with shutdown stays safe.
/// Two halves with a mutex each, so that the dispatcher and the workers do not contend.
///
/// Thread safety: each half's fields are guarded by its mutex; cancel_activities is atomic.
struct Signals {
  // The dispatcher's half, guarded by `mutex`.
  std::mutex mutex;
  std::condition_variable dispatcher_wake;
  bool messages = false;  // orchestrator messages may have become visible
  bool stop_dispatcher = false;

  // The workers' half, guarded by `workers_mutex` (which also guards ActivityWorkers' state).
  std::mutex workers_mutex;
  std::condition_variable intake_wake;   // activities may be available, room freed, or stop
  std::condition_variable workers_done;  // a worker thread ended
  std::size_t workers_running = 0;
  std::uint64_t activity_notices = 0;  // counts notices that activities may be available
  bool stop_workers = false;
  /// Set when running activities should stop (ActivityContext::is_cancelled()).
  std::shared_ptr<std::atomic<bool>> cancel_activities = std::make_shared<std::atomic<bool>>();

  void on_change(const ChangeNotice& notice) {
    if (notice.messages || notice.foreign) {
      std::lock_guard lock(mutex);
      messages = true;
      dispatcher_wake.notify_one();
    }
    if (notice.activities || notice.foreign) {
      std::lock_guard lock(workers_mutex);
      ++activity_notices;
      intake_wake.notify_one();  // only the intake waits for notices
    }
  }
};

}  // namespace duroxide::engine
