// SPDX-License-Identifier: MIT
// Listeners: the registry of change listeners a store notifies after commits.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <duroxide/provider.hpp>

namespace duroxide::storage {

/// Thread safety: all methods may be called from any thread, also from inside a listener.
class Listeners {
 public:
  /// Returns: a token for remove(); tokens are never reused.
  std::uint64_t add(Provider::ChangeListener listener);
  /// After remove() returns the listener is not called again, and no call of it is still running
  /// unless remove() was called by that very call (a listener may remove itself).
  void remove(std::uint64_t token);
  /// Calls every listener with `notice`, outside the registry's lock. Requires: one notifying
  /// thread at a time (the store's writer). Exceptions a listener
  /// throws are swallowed: one broken listener must not stop the store's writer.
  void notify(const ChangeNotice& notice);

 private:
  using Shared = std::shared_ptr<const Provider::ChangeListener>;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::map<std::uint64_t, Shared> listeners_;
  std::uint64_t next_token_ = 1;
  std::uint64_t running_ = 0;  ///< token of the listener being called, 0 if none
  std::thread::id notifier_;   ///< thread running notify()
};

}  // namespace duroxide::storage
