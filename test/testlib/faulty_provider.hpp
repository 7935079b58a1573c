// SPDX-License-Identifier: MIT
// FaultyProvider: a ProviderWrapper that fails chosen commits, for fault-injection tests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include <duroxide/provider.hpp>

#include "provider_wrapper.hpp"

namespace duroxide::testlib {

/// Forwards everything to `target` (see ProviderWrapper), except that commits for which
/// `fail_if` returns true (at most `failures` of them) fail with IOError without reaching the
/// store.
/// Thread safety: as the target's.
class FaultyProvider final : public ProviderWrapper {
 public:
  FaultyProvider(std::shared_ptr<Provider> target, std::function<bool(const WriteBatch&)> fail_if,
                 int failures = 1)
      : ProviderWrapper(std::move(target)), fail_if_(std::move(fail_if)), left_(failures) {}

  int failed() const { return failed_; }

  void commit(WriteBatch batch, CommitCallback done) override {
    if (should_fail(batch)) {
      done(Err(Error{ErrorCode::IOError, "injected commit failure"}));
      return;
    }
    ProviderWrapper::commit(std::move(batch), std::move(done));
  }

 private:
  bool should_fail(const WriteBatch& batch) {
    std::lock_guard lock(mutex_);
    if (left_ == 0 || !fail_if_(batch)) return false;
    --left_;
    ++failed_;
    return true;
  }

  std::function<bool(const WriteBatch&)> fail_if_;
  std::mutex mutex_;
  int left_;
  std::atomic<int> failed_{0};
};

}  // namespace duroxide::testlib
