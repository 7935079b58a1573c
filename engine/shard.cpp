// SPDX-License-Identifier: MIT
// The shard's thread: receives instance messages, starts fibers, parks and evicts them.
#include "engine/shard.hpp"

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include "engine/backoff.hpp"
#include "engine/instance.hpp"

namespace duroxide::engine {

Shard::Shard(const Services& services, Router& router, std::size_t max_parked)
    : services_(services),
      router_(router),
      max_parked_(std::max<std::size_t>(max_parked, 1)),
      stacks_(services.options.fiber_stack_size),
      thread_([this] { main(); }) {}

Shard::~Shard() { stop(); }

void Shard::post(std::string instance_id, std::vector<QueuedMessage> messages) {
  // A closed channel means the shard is stopping: the messages stay leased until the runtime
  // releases its claim, and a later runtime gets them.
  (void)tasks_.push(Task{std::move(instance_id), std::move(messages), std::nullopt});
}

bool Shard::post_result(ActivityResult result) {
  std::string instance_id = result.message.instance_id;
  return tasks_.push(Task{std::move(instance_id), {}, std::move(result)}) ==
         boost::fibers::channel_op_status::success;
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
  std::unique_lock lock(live_mutex_);
  stopping_ = true;
  changed_.notify_all();  // ends the back-off waits
  for (auto& [id, instance] : instances_) instance->request_unwind();
  changed_.wait(lock, [this] { return live_ == 0; });
  lock.unlock();
  // A fiber resumes as soon as its commit callback has set the promise, possibly before the
  // writer thread has returned from notifying this thread's scheduler: wait for that too.
  while (pending_callbacks_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void Shard::deliver(Task task) {
  if (task.result) {
    if (auto it = instances_.find(task.instance_id); it != instances_.end()) {
      unpark(*it->second);
      it->second->deliver_result(std::move(*task.result));
    } else {
      router_.store_result(std::move(*task.result));  // no step of it in sight
    }
    return;
  }
  if (auto it = instances_.find(task.instance_id); it != instances_.end()) {
    unpark(*it->second);  // an instance with messages to take is no candidate for eviction
    it->second->deliver(std::move(task.messages));
    return;
  }
  auto instance = std::make_shared<Instance>(*this, services_, router_, task.instance_id);
  instance->deliver(std::move(task.messages));
  instances_.emplace(std::move(task.instance_id), instance);
  {
    std::lock_guard lock(live_mutex_);
    ++live_;
  }
  boost::fibers::fiber fiber(std::allocator_arg, stacks_.allocator(),
                             [instance] { instance->run(); });
  instance->stack = stacks_.last_allocated();
  fiber.detach();
}

void Shard::park(Instance& instance) {
  // Past a few hundred parked fibers their memory is what counts: a parked fiber keeps only
  // the stack pages it waits in. Below that, a step's pages would be touched again at once.
  if (parked_.size() >= kWholeStacksParked) FiberStacks::release_below(instance.stack);
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

// Runs at the very end of the instance's fiber. Messages delivered but not taken go, in order,
// to a fresh instance (which replays what was committed). After a failure everything the
// instance held goes back to the store's queue after a back-off, so an instance that keeps
// failing (a damaged record, a full disk) does not spin.
void Shard::on_instance_done(Instance& instance) {
  unpark(instance);
  const std::string id = instance.id();
  // Outcomes handed over in memory that no durable step recorded are committed the slow way.
  for (auto& result : instance.take_unrecorded_results()) {
    router_.store_result(std::move(result));
  }
  auto inbox = instance.take_inbox();
  std::vector<QueueKey> held = instance.uncommitted_keys();
  if (auto self = instances_.find(id);
      self != instances_.end() && self->second.get() == &instance) {
    instances_.erase(self);
  }
  if (instance.failed() || !held.empty()) {
    for (const auto& message : inbox) held.push_back(message.key);
    if (instance.failed()) {
      release_later(id, std::move(held));
    } else {
      services_.store->release_messages(held);
    }
  } else {
    failures_.erase(id);
    // Once the recovery gate is closed the runtime is stopping: a fresh instance would be
    // refused at once, so the messages stay leased until the runtime releases its claim.
    if (!inbox.empty() && !stopping_ && !services_.recovery_gate->closed()) {
      deliver(Task{id, std::move(inbox), std::nullopt});
    }
  }
  fiber_done();
}

void Shard::release_later(const std::string& instance_id, std::vector<QueueKey> keys) {
  const unsigned failures = ++failures_[instance_id];
  const auto delay = kInstanceRetry.after(failures);
  services_.logger.log(LogLevel::Warn, "instance '{}' failed {} time(s) in a row; retry in {} ms",
                       instance_id, failures, delay.count());
  {
    std::lock_guard lock(live_mutex_);
    ++live_;
  }
  boost::fibers::fiber([this, keys = std::move(keys), delay] {
    std::unique_lock lock(live_mutex_);
    const bool stopping = changed_.wait_for(lock, delay, [this] { return stopping_; });
    lock.unlock();
    // When stopping, the runtime drops every lease anyway.
    if (!stopping) services_.store->release_messages(keys);
    fiber_done();
  }).detach();
}

void Shard::fiber_done() {
  std::lock_guard lock(live_mutex_);
  --live_;
  changed_.notify_all();
}

}  // namespace duroxide::engine
