// SPDX-License-Identifier: MIT
// In-memory leases of queued records.
#include "storage/lease_table.hpp"

#include <algorithm>

namespace duroxide::storage {

bool LeaseTable::activity_leased(const QueueKey& key, TimestampMs now) const {
  const auto it = activities_.find(key);
  // A lease running until `until` has expired at `until` itself.
  return it != activities_.end() && it->second.leased && it->second.until > now;
}

std::uint32_t LeaseTable::next_attempt(const QueueKey& key, std::uint32_t stored) const {
  const auto it = activities_.find(key);
  if (it == activities_.end()) return stored;
  const std::uint64_t counted = std::uint64_t{it->second.first} + it->second.handouts;
  return std::max(stored, static_cast<std::uint32_t>(std::min<std::uint64_t>(counted, UINT32_MAX)));
}

void LeaseTable::lease_activity(const QueueKey& key, std::uint32_t attempt, TimestampMs until) {
  const auto [it, first] = activities_.try_emplace(key);
  ActivityLease& lease = it->second;
  if (first) lease.first = attempt;
  if (lease.handouts != UINT32_MAX) ++lease.handouts;
  lease.leased = true;
  lease.until = until;
}

void LeaseTable::release_activity(const QueueKey& key) {
  const auto it = activities_.find(key);
  if (it != activities_.end()) it->second.leased = false;
}

void LeaseTable::unlease_activity(const QueueKey& key) {
  const auto it = activities_.find(key);
  if (it == activities_.end()) return;
  ActivityLease& lease = it->second;
  if (lease.handouts <= 1) {
    activities_.erase(it);  // the next hand-out is a first one again, with the stored attempt
    return;
  }
  if (lease.handouts != UINT32_MAX) --lease.handouts;
  lease.leased = false;
}

void LeaseTable::forget(const std::vector<QueueKey>& messages,
                        const std::vector<QueueKey>& activities) {
  for (const auto& key : messages) messages_.erase(key);
  for (const auto& key : activities) activities_.erase(key);
}

void LeaseTable::release_all() {
  messages_.clear();
  activities_.clear();
}

}  // namespace duroxide::storage
