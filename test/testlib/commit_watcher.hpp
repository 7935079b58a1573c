// SPDX-License-Identifier: MIT
// CommitWatcher: a ProviderWrapper that lets a test wait for what the runtime's commits change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <duroxide/provider.hpp>

#include "provider_wrapper.hpp"

namespace duroxide::testlib {

/// Forwards everything to `target` (see ProviderWrapper) and records each commit once its
/// callback has run. Give it to the runtime and keep the client on `target`: then every
/// change the test did not make itself arrives through this wrapper, and wait_until can
/// re-check a condition after each one instead of sleeping.
/// Lifetime: outlives every commit made through it (a runtime's commits end with its shutdown).
/// Thread safety: all methods may be called from any thread.
class CommitWatcher final : public ProviderWrapper {
 public:
  /// What a finished commit carried (the parts tests ask about).
  struct Commit {
    std::string instance_id;
    bool ok = false;
    std::size_t consumed_messages = 0;
    std::vector<std::string> activities;  ///< names of the activities it enqueued
  };

  explicit CommitWatcher(std::shared_ptr<Provider> target) : ProviderWrapper(std::move(target)) {}

  void commit(WriteBatch batch, CommitCallback done) override {
    Commit commit{batch.instance_id, false, batch.consumed_messages.size(), {}};
    for (const auto& item : batch.activities) commit.activities.push_back(item.name);
    // Recorded before `done` runs: until then the caller (a runtime, which owns this wrapper
    // or is outlived by its owner) cannot be gone. No shared_ptr to this is captured: the
    // target may keep a callback after calling it, and that would keep the target alive.
    ProviderWrapper::commit(std::move(batch), [this, commit = std::move(commit),
                                               done = std::move(done)](Result<void, Error> result) {
      Commit finished = commit;
      finished.ok = result.has_value();
      record(std::move(finished));
      done(std::move(result));
    });
  }

  /// Blocks until `done()` is true or `timeout` passes. `done` runs on the calling thread, now
  /// and after each commit that finishes meanwhile. Returns: the last value of `done()`.
  bool wait_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    for (;;) {
      const std::size_t seen = commits_.size();
      lock.unlock();
      if (done()) return true;
      lock.lock();
      if (!changed_.wait_until(lock, deadline, [&] { return commits_.size() != seen; })) {
        lock.unlock();
        return done();
      }
    }
  }

  /// Blocks until a commit numbered `from` or later (from 0, in finishing order) matches, or
  /// `timeout` passes. Returns: whether one matched.
  bool wait_for_commit(const std::function<bool(const Commit&)>& match, std::size_t from = 0,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < commits_.size(); ++i) {
        if (match(commits_[i])) return true;
      }
      return false;
    });
  }

  /// Returns: how many commits have finished so far (the `from` of a later wait_for_commit).
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return commits_.size();
  }
  /// Returns: a copy of every finished commit, in finishing order.
  std::vector<Commit> commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
  }

 private:
  void record(Commit commit) {
    {
      std::lock_guard lock(mutex_);
      commits_.push_back(std::move(commit));
    }
    changed_.notify_all();
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Commit> commits_;
};

}  // namespace duroxide::testlib
