// SPDX-License-Identifier: MIT
// The Provider's blocking wrappers and the defaults of its optional virtuals.
#include <duroxide/provider.hpp>

#include <future>
#include <memory>
#include <mutex>

#include <duroxide/management.hpp>

namespace duroxide {

Result<void, Error> Provider::commit_sync(WriteBatch batch) {
  std::promise<Result<void, Error>> done;
  auto result = done.get_future();
  commit(std::move(batch), [&done](Result<void, Error> r) { done.set_value(std::move(r)); });
  return result.get();
}

namespace {

/// The results of a group committed batch by batch; the last batch to finish calls `done`.
struct GroupResults {
  std::mutex mutex;
  std::vector<Result<void, Error>> results;
  std::size_t pending = 0;
  Provider::GroupCallback done;
};

}  // namespace

// Batch by batch, in order: commit() queues them in this order, and a provider applies what it
// queued in order, so a later batch sees what an earlier one wrote.
void Provider::commit_group(std::vector<WriteBatch> batches, GroupCallback done) {
  if (batches.empty()) {
    done({});
    return;
  }
  auto group = std::make_shared<GroupResults>();
  group->results.resize(batches.size());
  group->pending = batches.size();
  group->done = std::move(done);
  for (std::size_t i = 0; i < batches.size(); ++i) {
    commit(std::move(batches[i]), [group, i](Result<void, Error> result) {
      GroupCallback finished;
      {
        std::lock_guard lock(group->mutex);
        group->results[i] = std::move(result);
        if (--group->pending != 0) return;
        finished = std::move(group->done);
      }
      finished(std::move(group->results));
    });
  }
}

std::vector<Result<void, Error>> Provider::commit_group_sync(std::vector<WriteBatch> batches) {
  std::promise<std::vector<Result<void, Error>>> done;
  auto results = done.get_future();
  commit_group(std::move(batches),
               [&done](std::vector<Result<void, Error>> r) { done.set_value(std::move(r)); });
  return results.get();
}

// Rows page by page (each page one read of the provider); nothing about queues or files.
Result<StoreStats, Error> Provider::store_stats(TimestampMs /*now*/) {
  constexpr std::size_t kPageRows = 1000;
  StoreStats stats;
  InstanceQuery query;
  query.limit = kPageRows;
  for (;;) {
    auto rows = list_instances(query);
    if (!rows) return Err(rows.error());
    for (const auto& row : *rows) {
      switch (row.state) {
        case InstanceState::Running:
          ++stats.running;
          if (row.suspended) ++stats.suspended;
          break;
        case InstanceState::Completed:
          ++stats.completed;
          break;
        case InstanceState::Failed:
          ++stats.failed;
          break;
      }
    }
    if (rows->size() < kPageRows) break;
    query.start_after = rows->back().instance_id;
  }
  return stats;
}

}  // namespace duroxide
