// SPDX-License-Identifier: MIT
// ProviderWrapper: a Provider that forwards every call to another, the base of test providers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <duroxide/management.hpp>
#include <duroxide/provider.hpp>

namespace duroxide::testlib {

/// Forwards every virtual of Provider to `target`, unchanged. A test provider derives from it
/// and overrides only what it changes (fault injection, observation), as LevelDB's EnvWrapper
/// serves its fault-injecting Envs. A new virtual in Provider gets its forwarder here, once.
/// Thread safety: as the target's.
class ProviderWrapper : public Provider {
 public:
  explicit ProviderWrapper(std::shared_ptr<Provider> target) : target_(std::move(target)) {}

  /// Returns: the wrapped provider.
  Provider& target() const { return *target_; }

  void commit(WriteBatch batch, CommitCallback done) override {
    target_->commit(std::move(batch), std::move(done));
  }
  Result<InstanceRecord, Error> read_instance(const std::string& id) override {
    return target_->read_instance(id);
  }
  Result<std::vector<HistoryEvent>, Error> read_history(const std::string& id,
                                                        std::uint64_t execution) override {
    return target_->read_history(id, execution);
  }
  Result<std::vector<InstanceRecord>, Error> list_instances(const InstanceQuery& query) override {
    return target_->list_instances(query);
  }
  Result<std::vector<std::uint64_t>, Error> list_executions(const std::string& id) override {
    return target_->list_executions(id);
  }
  Result<std::vector<QueuedMessage>, Error> fetch_messages(TimestampMs now,
                                                           std::size_t max) override {
    return target_->fetch_messages(now, max);
  }
  void release_messages(const std::vector<QueueKey>& keys) override {
    target_->release_messages(keys);
  }
  std::optional<TimestampMs> next_message_due() override { return target_->next_message_due(); }
  Result<std::vector<QueuedActivity>, Error> fetch_activities(
      TimestampMs now, std::size_t max, std::chrono::milliseconds lease) override {
    return target_->fetch_activities(now, max, lease);
  }
  void release_activities(const std::vector<QueueKey>& keys) override {
    target_->release_activities(keys);
  }
  void return_activities(const std::vector<QueueKey>& keys) override {
    target_->return_activities(keys);
  }
  Result<std::uint64_t, Error> next_queue_seq() override { return target_->next_queue_seq(); }
  Result<void, Error> claim_dispatch() override { return target_->claim_dispatch(); }
  void release_dispatch() override { target_->release_dispatch(); }
  std::uint64_t subscribe(ChangeListener listener) override {
    return target_->subscribe(std::move(listener));
  }
  void unsubscribe(std::uint64_t token) override { target_->unsubscribe(token); }
  void commit_group(std::vector<WriteBatch> batches, GroupCallback done) override {
    target_->commit_group(std::move(batches), std::move(done));
  }
  Result<StoreStats, Error> store_stats(TimestampMs now) override {
    return target_->store_stats(now);
  }

 private:
  std::shared_ptr<Provider> target_;
};

}  // namespace duroxide::testlib
