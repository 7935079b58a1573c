// SPDX-License-Identifier: MIT
// Dispatcher: takes visible orchestrator messages from the store and routes them to shards.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/router.hpp"
#include "engine/services.hpp"
#include "engine/signals.hpp"

namespace duroxide::engine {

/// One thread. Fetches the messages visible now (leasing them), groups them by instance and
/// posts each group through the router (Router::post_messages). Then sleeps until a commit
/// signals new messages or the earliest queued message (a durable timer) becomes visible
/// (docs/ENGINE.md, section 1).
///
/// Lifetime: `services`, `router` (with its shards attached) and `signals` outlive it.
/// Thread safety: construct, then stop() from the owning thread.
class Dispatcher {
 public:
  /// Starts the thread.
  Dispatcher(const Services& services, Router& router, std::shared_ptr<Signals> signals);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  /// Stops and joins the thread. Messages already posted stay with the shards.
  void stop();

 private:
  void main();
  /// Returns: true if the store may hold more visible messages right now.
  bool dispatch_once();
  void sleep_until_work();

  const Services& services_;
  Router& router_;
  std::shared_ptr<Signals> signals_;
  std::thread thread_;
};

}  // namespace duroxide::engine
