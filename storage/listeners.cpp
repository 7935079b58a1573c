// SPDX-License-Identifier: MIT
// The registry of change listeners.
#include "storage/listeners.hpp"

#include <vector>

namespace duroxide::storage {

std::uint64_t Listeners::add(Provider::ChangeListener listener) {
  auto shared = std::make_shared<const Provider::ChangeListener>(std::move(listener));
  std::lock_guard lock(mutex_);
  const std::uint64_t token = next_token_++;
  listeners_.emplace(token, std::move(shared));
  return token;
}

void Listeners::remove(std::uint64_t token) {
  std::unique_lock lock(mutex_);
  listeners_.erase(token);
  // Waiting only for the one call of this listener keeps remove() from deadlocking when another
  // listener, running now, waits for the caller.
  if (notifier_ == std::this_thread::get_id()) return;
  idle_.wait(lock, [&] { return running_ != token; });
}

void Listeners::notify(const ChangeNotice& notice) {
  std::vector<std::pair<std::uint64_t, Shared>> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot.assign(listeners_.begin(), listeners_.end());
    notifier_ = std::this_thread::get_id();
  }
  for (const auto& [token, listener] : snapshot) {
    {
      std::lock_guard lock(mutex_);
      if (!listeners_.contains(token)) continue;  // removed since the snapshot
      running_ = token;
    }
    try {
      (*listener)(notice);
    } catch (...) {  // NOLINT(bugprone-empty-catch): see the contract in the header
    }
    std::lock_guard lock(mutex_);
    running_ = 0;
    idle_.notify_all();
  }
  std::lock_guard lock(mutex_);
  notifier_ = std::thread::id();
}

}  // namespace duroxide::storage
