// SPDX-License-Identifier: MIT
// Signals: how commits wake the dispatcher and the activity workers (no polling).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include <duroxide/provider.hpp>

namespace duroxide::engine {

/// Shared by the store's change listener (called on the store's writer thread), the dispatcher
/// and the workers. Held by shared_ptr so a listener call racing with shutdown stays safe.
///
/// Thread safety: the fields are guarded by `mutex`, except the atomic cancel_activities flag.
struct Signals {
  std::mutex mutex;
  std::condition_variable dispatcher_wake;
  std::condition_variable workers_wake;
  std::condition_variable workers_done;  // a worker thread ended
  std::size_t workers_running = 0;
  bool messages = false;               // orchestrator messages may have become visible
  std::uint64_t activity_notices = 0;  // counts notices that activities may be available
  bool stop_dispatcher = false;
  bool stop_workers = false;
  /// Set when running activities should stop (ActivityContext::is_cancelled()).
  std::shared_ptr<std::atomic<bool>> cancel_activities = std::make_shared<std::atomic<bool>>();

  void on_change(const ChangeNotice& notice) {
    std::lock_guard lock(mutex);
    if (notice.messages || notice.foreign) {
      messages = true;
      dispatcher_wake.notify_one();
    }
    if (notice.activities || notice.foreign) {
      ++activity_notices;
      workers_wake.notify_all();
    }
  }
};

}  // namespace duroxide::engine
