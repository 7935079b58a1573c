// SPDX-License-Identifier: MIT
// In-memory leases of queued records.
#include "storage/lease_table.hpp"

namespace duroxide::storage {

std::optional<std::uint32_t> LeaseTable::activity_available(const QueueKey& key,
                                                            TimestampMs now) const {
  const auto it = activities_.find(key);
  if (it == activities_.end()) return 0;
  // A lease running until `until` has expired at `until` itself.
  if (it->second.leased && it->second.until > now) return std::nullopt;
  return it->second.handouts;
}

void LeaseTable::lease_activity(const QueueKey& key, TimestampMs until) {
  ActivityLease& lease = activities_[key];
  if (lease.handouts != UINT32_MAX) ++lease.handouts;
  lease.leased = true;
  lease.until = until;
}

void LeaseTable::release_activity(const QueueKey& key) {
  const auto it = activities_.find(key);
  if (it != activities_.end()) it->second.leased = false;
}

void LeaseTable::forget(const std::vector<QueueKey>& messages,
                        const std::vector<QueueKey>& activities) {
  for (const auto& key : messages) messages_.erase(key);
  for (const auto& key : activities) activities_.erase(key);
}

void LeaseTable::release_all() {
  messages_.clear();
  for (auto& [key, lease] : activities_) lease.leased = false;
}

}  // namespace duroxide::storage
