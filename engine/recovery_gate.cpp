// SPDX-License-Identifier: MIT
// The recovery gate: recovered turns share it, suspects take it alone, lowest count first.
#include "engine/recovery_gate.hpp"

#include "engine/shard.hpp"

namespace duroxide::engine {

bool RecoveryGate::enter(Mode mode, std::uint32_t count, Shard* shard) {
  boost::fibers::future<bool> admitted;
  {
    std::lock_guard lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) return false;
    // Open unless a suspect runs or waits: one waiting keeps new shared turns out, so that
    // the running ones drain.
    const bool open = suspects_.load(std::memory_order_relaxed) == 0;
    if (mode == Mode::Alone) suspects_.fetch_add(1, std::memory_order_release);
    if (open) {
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
    closed_.store(true, std::memory_order_release);
    for (const auto& waiter : waiting_) {
      if (waiter.mode == Mode::Alone) suspects_.fetch_sub(1, std::memory_order_release);
    }
    refused.splice(refused.end(), waiting_);
  }
  tell(refused, false);
}

RecoveryGate::Waiters RecoveryGate::admit_locked() {
  Waiters admitted;
  if (closed_.load(std::memory_order_relaxed) || alone_running_) return admitted;
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
