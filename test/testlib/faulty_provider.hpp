// SPDX-License-Identifier: MIT
// FaultyProvider: a Provider wrapper that fails chosen commits, for fault-injection tests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include <duroxide/provider.hpp>

namespace duroxide::testlib {

/// Forwards everything to `target`, except that commits for which `fail_if` returns true
/// (at most `failures` of them) fail with IOError without reaching the store.
/// Thread safety: as the target's.
class FaultyProvider final : public Provider {
 public:
  FaultyProvider(std::shared_ptr<Provider> target, std::function<bool(const WriteBatch&)> fail_if,
                 int failures = 1)
      : target_(std::move(target)), fail_if_(std::move(fail_if)), left_(failures) {}

  int failed() const { return failed_; }

  void commit(WriteBatch batch, CommitCallback done) override {
    if (should_fail(batch)) {
      done(Err(Error{ErrorCode::IOError, "injected commit failure"}));
      return;
    }
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

 private:
  bool should_fail(const WriteBatch& batch) {
    std::lock_guard lock(mutex_);
    if (left_ == 0 || !fail_if_(batch)) return false;
    --left_;
    ++failed_;
    return true;
  }

  std::shared_ptr<Provider> target_;
  std::function<bool(const WriteBatch&)> fail_if_;
  std::mutex mutex_;
  int left_;
  std::atomic<int> failed_{0};
};

}  // namespace duroxide::testlib
