// SPDX-License-Identifier: MIT
// The dispatcher's loop: fetch, group by instance, post, sleep until the next due message.
#include "engine/dispatcher.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "engine/clock.hpp"

namespace duroxide::engine {
namespace {
// Without a notice or a due message, look again after this long (a store that cannot notify).
constexpr auto kLongestSleep = std::chrono::seconds(30);
// After a failed fetch, wait this long before trying again.
constexpr auto kRetryAfterError = std::chrono::seconds(1);
}  // namespace

Dispatcher::Dispatcher(const Services& services, Router& router, std::shared_ptr<Signals> signals)
    : services_(services),
      router_(router),
      signals_(std::move(signals)),
      thread_([this] { main(); }) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::stop() {
  {
    std::lock_guard lock(signals_->mutex);
    signals_->stop_dispatcher = true;
    signals_->dispatcher_wake.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::main() {
  for (;;) {
    {
      std::lock_guard lock(signals_->mutex);
      if (signals_->stop_dispatcher) return;
      signals_->messages = false;  // cleared before fetching: a later commit sets it again
    }
    if (!dispatch_once()) sleep_until_work();
  }
}

bool Dispatcher::dispatch_once() {
  const std::size_t max = services_.options.dispatch_batch;
  auto fetched = services_.store->fetch_messages(services_.now(), max);
  if (!fetched) {
    services_.logger.log(LogLevel::Error, "fetching messages failed: {}",
                         fetched.error().to_string());
    std::unique_lock lock(signals_->mutex);
    signals_->dispatcher_wake.wait_for(lock, kRetryAfterError,
                                       [this] { return signals_->stop_dispatcher; });
    return false;
  }
  // Group by instance, keeping each instance's messages in queue order.
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<QueuedMessage>> groups;
  for (auto& queued : *fetched) {
    auto [it, fresh] = groups.try_emplace(queued.message.instance_id);
    if (fresh) order.push_back(it->first);
    it->second.push_back(std::move(queued));
  }
  for (auto& id : order) router_.post_messages(id, std::move(groups[id]));
  return fetched->size() == max;
}

void Dispatcher::sleep_until_work() {
  auto deadline = std::chrono::steady_clock::now() + kLongestSleep;
  if (auto due = services_.store->next_message_due()) {
    deadline = std::min(deadline, steady_deadline(*due, services_.now(), kLongestSleep));
  }
  std::unique_lock lock(signals_->mutex);
  signals_->dispatcher_wake.wait_until(
      lock, deadline, [this] { return signals_->stop_dispatcher || signals_->messages; });
}

}  // namespace duroxide::engine
