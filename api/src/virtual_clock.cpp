// SPDX-License-Identifier: MIT
// The time of a VirtualClock and the runtimes it wakes.
#include <duroxide/virtual_clock.hpp>

#include <algorithm>
#include <vector>

namespace duroxide {

TimestampMs VirtualClock::now() const {
  const auto system = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return system + offset_ms_.load(std::memory_order_acquire);
}

void VirtualClock::advance(std::chrono::milliseconds by) {
  offset_ms_.fetch_add(std::max<std::int64_t>(by.count(), 0), std::memory_order_acq_rel);
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [token, listener] : listeners_) listeners.push_back(listener);
  }
  for (const auto& listener : listeners) listener();
}

std::uint64_t VirtualClock::subscribe(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  const std::uint64_t token = next_token_++;
  listeners_.emplace(token, std::move(listener));
  return token;
}

void VirtualClock::unsubscribe(std::uint64_t token) {
  std::lock_guard lock(mutex_);
  listeners_.erase(token);
}

}  // namespace duroxide
