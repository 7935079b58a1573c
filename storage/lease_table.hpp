// SPDX-License-Identifier: MIT
// LeaseTable: the in-memory leases of queued records handed out by fetch_messages/fetch_activities.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <duroxide/provider.hpp>

namespace duroxide::storage {

/// Which queued records are leased, and how often (and with which attempt first) each activity
/// was handed out. Leases live in
/// memory only: a single dispatching runtime per store (claim_dispatch) makes that sufficient,
/// and a restart hands every record out again.
///
/// Thread safety: none; the owner guards it with one mutex.
class LeaseTable {
 public:
  bool message_leased(const QueueKey& key) const { return messages_.contains(key); }
  void lease_message(const QueueKey& key) { messages_.insert(key); }
  void release_message(const QueueKey& key) { messages_.erase(key); }

  /// Returns: true while the activity is leased until after `now`.
  bool activity_leased(const QueueKey& key, TimestampMs now) const;
  /// Returns: the attempt to hand the activity out with, given the attempt `stored` in its
  /// record: `stored` at its first hand-out, later max(stored, first + hand-outs so far), where
  /// `first` is the attempt of the first hand-out. Without rewrites of the stored attempt each
  /// re-delivery counts one up; when the worker stores attempt + 1 before it runs the activity,
  /// a re-delivery in this process is not counted twice.
  std::uint32_t next_attempt(const QueueKey& key, std::uint32_t stored) const;
  /// Leases the activity until `until` and counts one more hand-out, made with `attempt` (the
  /// value next_attempt returned).
  void lease_activity(const QueueKey& key, std::uint32_t attempt, TimestampMs until);
  /// Ends the lease; the hand-out count stays, so the next hand-out is a new attempt.
  void release_activity(const QueueKey& key);
  /// Ends the lease and takes back the hand-out it counted: the holder did not start it.
  void unlease_activity(const QueueKey& key);

  /// Forgets records consumed by a commit (they are gone from the store).
  void forget(const std::vector<QueueKey>& messages, const std::vector<QueueKey>& activities);
  /// Ends every lease and forgets the hand-out counts: the next claimant starts from the
  /// stored attempts, as a runtime of a new process would.
  void release_all();

  std::size_t leased_messages() const { return messages_.size(); }
  std::size_t tracked_activities() const { return activities_.size(); }

 private:
  struct ActivityLease {
    std::uint32_t first = 0;  ///< attempt of the first hand-out
    std::uint32_t handouts = 0;
    bool leased = false;
    TimestampMs until = 0;
  };
  std::set<QueueKey> messages_;
  std::map<QueueKey, ActivityLease> activities_;
};

}  // namespace duroxide::storage
