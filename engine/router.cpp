// SPDX-License-Identifier: MIT
// Router: picks the shard of an instance and forwards to the shards and the activity workers.
#include "engine/router.hpp"

#include "engine/activity_workers.hpp"
#include "engine/shard.hpp"

namespace duroxide::engine {

void Router::attach_shards(const std::vector<std::unique_ptr<Shard>>& shards) {
  shards_.clear();
  shards_.reserve(shards.size());
  for (const auto& shard : shards) shards_.push_back(shard.get());
}

void Router::attach_workers(ActivityWorkers& workers) { workers_ = &workers; }

void Router::detach() {
  shards_.clear();
  workers_ = nullptr;
}

Shard& Router::shard_for(const std::string& instance_id) const {
  return *shards_[shard_index(instance_id, shards_.size())];
}

void Router::post_messages(std::string instance_id, std::vector<QueuedMessage> messages) {
  Shard& shard = shard_for(instance_id);
  shard.post(std::move(instance_id), std::move(messages));
}

bool Router::deliver_result(ActivityResult result) {
  return shard_for(result.message.instance_id).post_result(std::move(result));
}

void Router::store_result(ActivityResult result) { workers_->store_result(std::move(result)); }

void Router::cancel_activities_of(const std::string& instance_id) {
  workers_->cancel_instance(instance_id);
}

void Router::cancel_activity(const std::string& instance_id, std::uint64_t execution_id,
                             std::uint64_t activity_id) {
  workers_->cancel_activity(instance_id, execution_id, activity_id);
}

}  // namespace duroxide::engine
