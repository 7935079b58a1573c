// SPDX-License-Identifier: MIT
// Dispatcher: takes visible orchestrator messages from the store and routes them to shards.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/services.hpp"
#include "engine/shard.hpp"
#include "engine/signals.hpp"

namespace duroxide::engine {

/// One thread. Fetches the messages visible now (leasing them), groups them by instance and
/// posts each group to the instance's shard. Then sleeps until a commit signals new messages
/// or the earliest queued message (a durable timer) becomes visible: the store's queue, ordered
/// by visibility time, is the timer structure, and the sleep ends exactly when it is due.
///
/// Thread safety: construct, then stop() from the owning thread.
class Dispatcher {
 public:
  Dispatcher(const Services& services, std::vector<std::unique_ptr<Shard>>& shards,
             std::shared_ptr<Signals> signals);
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
  Shard& shard_for(const std::string& instance_id);

  const Services& services_;
  std::vector<std::unique_ptr<Shard>>& shards_;
  std::shared_ptr<Signals> signals_;
  std::thread thread_;
};

}  // namespace duroxide::engine
