// SPDX-License-Identifier: MIT
// The shard's thread: receives instance messages, starts fibers, parks and evicts them.
#include "engine/shard.hpp"

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include "engine/instance.hpp"

namespace duroxide::engine {

Shard::Shard(const Services& services, std::size_t max_parked)
    : services_(services),
      max_parked_(std::max<std::size_t>(max_parked, 1)),
      stacks_(services.options.fiber_stack_size),
      thread_([this] { main(); }) {}

Shard::~Shard() { stop(); }

void Shard::post(std::string instance_id, std::vector<QueuedMessage> messages) {
  // A closed channel means the shard is stopping: the messages stay leased until the runtime
  // releases its claim, and a later runtime gets them.
  (void)tasks_.push(Task{std::move(instance_id), std::move(messages)});
}

void Shard::stop() {
  tasks_.close();
  if (thread_.joinable()) thread_.join();
}

void Shard::main() {
  Task task;
  while (tasks_.pop(task) == boost::fibers::channel_op_status::success) {
    deliver(std::move(task));
  }
  stopping_ = true;
  for (auto& [id, instance] : instances_) instance->request_unwind();
  std::unique_lock lock(live_mutex_);
  all_done_.wait(lock, [this] { return live_ == 0; });
}

void Shard::deliver(Task task) {
  if (auto it = instances_.find(task.instance_id); it != instances_.end()) {
    it->second->deliver(std::move(task.messages));
    return;
  }
  auto instance = std::make_shared<Instance>(*this, services_, task.instance_id);
  instance->deliver(std::move(task.messages));
  instances_.emplace(std::move(task.instance_id), instance);
  {
    std::lock_guard lock(live_mutex_);
    ++live_;
  }
  boost::fibers::fiber(std::allocator_arg, stacks_, [instance] { instance->run(); }).detach();
}

void Shard::park(Instance& instance) {
  instance.parked_at = parked_.insert(parked_.end(), &instance);
  if (parked_.size() > max_parked_) {
    Instance* oldest = parked_.front();
    unpark(*oldest);
    oldest->request_unwind();
  }
}

void Shard::unpark(Instance& instance) {
  if (!instance.parked_at) return;
  parked_.erase(*instance.parked_at);
  instance.parked_at.reset();
}

// Runs at the very end of the instance's fiber. Messages it held but did not commit go back
// to the store's queue, from where the dispatcher hands them to a fresh instance (which
// replays what was committed).
void Shard::on_instance_done(Instance& instance) {
  unpark(instance);
  auto keys = instance.uncommitted_keys();
  auto self = instances_.find(instance.id());
  if (self != instances_.end() && self->second.get() == &instance) instances_.erase(self);
  if (!keys.empty()) services_.store->release_messages(keys);
  std::lock_guard lock(live_mutex_);
  --live_;
  all_done_.notify_all();
}

}  // namespace duroxide::engine
