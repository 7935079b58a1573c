// SPDX-License-Identifier: MIT
// Client::get_store_stats.
#include <duroxide/client.hpp>

#include <chrono>

namespace duroxide {

Result<StoreStats, Error> Client::get_store_stats() {
  const TimestampMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  return store_->store_stats(now);
}

}  // namespace duroxide
