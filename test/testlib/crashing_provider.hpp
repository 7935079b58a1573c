// SPDX-License-Identifier: MIT
// CrashingProvider: a ProviderWrapper that simulates a process crash at the k-th commit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <duroxide/provider.hpp>

#include "provider_wrapper.hpp"

namespace duroxide::testlib {

/// Forwards everything to `target` until the `crash_at`-th commit of a non-empty WriteBatch,
/// where the process "dies":
/// - Mode::Lost: that commit is not applied; its callback gets IOError.
/// - Mode::Landed: that commit is applied to `target`, but its callback gets IOError all the
///   same (the process died before it learned the outcome).
/// Every later non-empty commit fails with IOError without reaching the store, as if nothing
/// were left to write it. Reads, fetches, releases, the dispatch claim and subscriptions keep
/// being forwarded, so the "dead" runtime can be shut down normally; the surviving state is
/// whatever `target` holds.
///
/// Empty batches are neither counted nor failed: they are always forwarded. They change nothing
/// durable, so a crash cannot lose one, and Runtime::shutdown commits one as a barrier ("every
/// earlier callback has run"): failing it at once would let it overtake the callback of a
/// landed commit still queued in `target`, which would then run after the runtime is gone.
/// Counting them would also tie k to shutdown timing instead of the scenario's own writes.
///
/// Callbacks of failed commits are delivered through an empty batch committed to `target`, so
/// they come from its writer thread and in submission order, as Provider::commit promises.
///
/// Thread safety: all methods may be called from any thread.
class CrashingProvider final : public ProviderWrapper {
 public:
  enum class Mode { Lost, Landed };

  /// `crash_at`: the number (from 1) of the non-empty commit at which to crash; 0: never.
  CrashingProvider(std::shared_ptr<Provider> target, std::uint64_t crash_at, Mode mode)
      : ProviderWrapper(std::move(target)), crash_at_(crash_at), mode_(mode) {}

  /// Returns: how many non-empty commits were asked for, including failed ones.
  std::uint64_t commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
  }
  /// Returns: true once the crash commit was reached.
  bool crashed() const {
    std::lock_guard lock(mutex_);
    return crashed_;
  }
  /// Blocks up to `timeout` for the crash. Returns: crashed().
  bool wait_crashed(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return crashed_cv_.wait_for(lock, timeout, [this] { return crashed_; });
  }

  void commit(WriteBatch batch, CommitCallback done) override {
    if (batch.empty()) {
      target().commit(std::move(batch), std::move(done));
      return;
    }
    // Numbering and submission happen under one lock, so the target receives the batches in
    // their numbering order (submission only queues; it does not block on the disk).
    std::lock_guard lock(mutex_);
    const std::uint64_t number = ++commits_;
    if (crash_at_ == 0 || number < crash_at_) {
      target().commit(std::move(batch), std::move(done));
      return;
    }
    if (number == crash_at_) {
      crashed_ = true;
      crashed_cv_.notify_all();
      if (mode_ == Mode::Landed) {
        target().commit(std::move(batch), [done = std::move(done), number](Result<void, Error>) {
          done(injected(number, "it landed, but the process died before it knew"));
        });
        return;
      }
    }
    const char* what = number == crash_at_ ? "it was lost" : "the process is gone";
    target().commit(WriteBatch{}, [done = std::move(done), number, what](Result<void, Error>) {
      done(injected(number, what));
    });
  }

 private:
  static Result<void, Error> injected(std::uint64_t number, const char* what) {
    return Err(Error{ErrorCode::IOError,
                     "injected crash: commit " + std::to_string(number) + " failed, " + what});
  }

  const std::uint64_t crash_at_;
  const Mode mode_;
  mutable std::mutex mutex_;
  mutable std::condition_variable crashed_cv_;
  std::uint64_t commits_ = 0;
  bool crashed_ = false;
};

}  // namespace duroxide::testlib
