// SPDX-License-Identifier: MIT
// The recovery gate: recovered turns share it, suspects take it alone, lowest count first.
#include "engine/recovery_gate.hpp"

#include <algorithm>

#include "engine/shard.hpp"

namespace duroxide::engine {

bool RecoveryGate::enter(Mode mode, std::uint32_t count, Shard* shard) {
  boost::fibers::future<bool> admitted;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (mode == Mode::Alone) suspects_.fetch_add(1, std::memory_order_release);
    // A suspect waiting keeps new shared turns out, so that the running ones drain.
    const bool suspect_waiting = std::any_of(waiting_.begin(), waiting_.end(),
                                             [](const Waiter& w) { return w.mode == Mode::Alone; });
    if (!alone_running_ && !suspect_waiting) {
      if (mode == Mode::Shared) {
        ++shared_running_;
        return true;
      }
      if (shared_running_ == 0) {
        alone_running_ = true;
        return true;
      }
    }
    waiting_.push_back(Waiter{mode, count, shard, {}});
    admitted = waiting_.back().admitted.get_future();
  }
  return admitted.get();
}

void RecoveryGate::leave(Mode mode) {
  Waiters admitted;
  {
    std::lock_guard lock(mutex_);
    if (mode == Mode::Shared) {
      --shared_running_;
    } else {
      alone_running_ = false;
      suspects_.fetch_sub(1, std::memory_order_release);
    }
    admitted = admit_locked();
  }
  tell(admitted, true);
}

void RecoveryGate::close() {
  Waiters refused;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    closed_flag_.store(true, std::memory_order_release);
    for (const auto& waiter : waiting_) {
      if (waiter.mode == Mode::Alone) suspects_.fetch_sub(1, std::memory_order_release);
    }
    refused.splice(refused.end(), waiting_);
  }
  tell(refused, false);
}

RecoveryGate::Waiters RecoveryGate::admit_locked() {
  Waiters admitted;
  if (closed_ || alone_running_) return admitted;
  auto suspect = waiting_.end();
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->mode == Mode::Alone && (suspect == waiting_.end() || it->count < suspect->count)) {
      suspect = it;
    }
  }
  if (suspect != waiting_.end()) {
    if (shared_running_ == 0) {
      alone_running_ = true;
      admitted.splice(admitted.end(), waiting_, suspect);
    }
    return admitted;  // shared turns wait until the suspects have run
  }
  shared_running_ += waiting_.size();
  admitted.splice(admitted.end(), waiting_);
  return admitted;
}

void RecoveryGate::tell(Waiters& waiters, bool admitted) {
  for (auto& waiter : waiters) {
    if (waiter.shard != nullptr) waiter.shard->callback_begins();
    waiter.admitted.set_value(admitted);
    if (waiter.shard != nullptr) waiter.shard->callback_ends();
  }
}

}  // namespace duroxide::engine
