// SPDX-License-Identifier: MIT
// Tests of the instance counters the LMDB store keeps as it writes, and of store_stats.
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <duroxide/management.hpp>

#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

WriteBatch set_row(const std::string& id, InstanceState state, bool suspended = false) {
  WriteBatch batch;
  batch.instance_id = id;
  batch.instance = row(id);
  batch.instance->state = state;
  batch.instance->suspended = suspended;
  return batch;
}

/// Counts what the rows hold, by reading every one: what the counters must equal.
StoreStats scanned(Provider& store) {
  StoreStats stats;
  const auto rows = store.list_instances(InstanceQuery{{}, "", "", 0}).value();
  for (const auto& r : rows) {
    if (r.state == InstanceState::Running) ++stats.running;
    if (r.state == InstanceState::Running && r.suspended) ++stats.suspended;
    if (r.state == InstanceState::Completed) ++stats.completed;
    if (r.state == InstanceState::Failed) ++stats.failed;
  }
  return stats;
}

void check_counts(const std::shared_ptr<LmdbProvider>& store) {
  const StoreStats kept = store->store_stats(0).value();
  const StoreStats counted = scanned(*store);
  CHECK(kept.running == counted.running);
  CHECK(kept.completed == counted.completed);
  CHECK(kept.failed == counted.failed);
  CHECK(kept.suspended == counted.suspended);
}

}  // namespace

TEST_SUITE("storage.lmdb_counts") {
  TEST_CASE("counters follow rows written, replaced, created and deleted") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    REQUIRE(store->commit_sync(start_batch("a")));
    REQUIRE(store->commit_sync(start_batch("b")));
    check_counts(store);
    CHECK(store->store_stats(0).value().running == 2);

    REQUIRE(store->commit_sync(set_row("a", InstanceState::Running, true)));
    check_counts(store);
    CHECK(store->store_stats(0).value().suspended == 1);
    REQUIRE(store->commit_sync(set_row("a", InstanceState::Completed, true)));  // flag ignored
    check_counts(store);
    CHECK(store->store_stats(0).value().suspended == 0);

    WriteBatch children = set_row("b", InstanceState::Running);
    children.created_instances = {row("c1"), row("c2"), row("a")};  // "a" exists: kept
    REQUIRE(store->commit_sync(children));
    check_counts(store);
    CHECK(store->store_stats(0).value().running == 3);

    REQUIRE(store->commit_sync(set_row("c1", InstanceState::Failed)));
    WriteBatch deletion;
    deletion.deleted_instances = {"a", "c1", "c1", "missing"};
    REQUIRE(store->commit_sync(deletion));
    check_counts(store);
    const StoreStats stats = store->store_stats(0).value();
    CHECK(stats.running == 2);
    CHECK(stats.completed == 0);
    CHECK(stats.failed == 0);
  }

  TEST_CASE("counters of many batches in one txn, and of failed batches, are exact") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    std::vector<WriteBatch> batches;
    for (int i = 0; i < 20; ++i) batches.push_back(start_batch("i-" + std::to_string(i)));
    batches.push_back(start_batch("i-3"));  // fails: counts nothing
    batches.push_back(set_row("i-4", InstanceState::Completed));
    batches.push_back(set_row("i-4", InstanceState::Failed));
    WriteBatch replace = start_batch("i-4");
    replace.precondition = WriteBatch::Precondition::InstanceAbsentOrFinished;
    replace.deleted_instances = {"i-4"};
    batches.push_back(std::move(replace));
    const auto results = store->commit_group_sync(std::move(batches));
    CHECK_FALSE(results[20]);
    check_counts(store);
    const StoreStats stats = store->store_stats(0).value();
    CHECK(stats.running == 20);
    CHECK(stats.failed == 0);
  }

  TEST_CASE("counters survive reopening") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      REQUIRE(store->commit_sync(start_batch("a")));
      REQUIRE(store->commit_sync(set_row("a", InstanceState::Failed)));
    }
    auto store = open_store(path);
    CHECK(store->store_stats(0).value().failed == 1);
  }

  TEST_CASE("queue figures: entries, timers in the future, the file size") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    WriteBatch batch;
    batch.messages = {message("a", 10), message("a", 20), message("a", 1000), message("b", 5000)};
    batch.activities = {activity("a", 1), activity("a", 2), activity("b", 3)};
    REQUIRE(store->commit_sync(batch));
    StoreStats stats = store->store_stats(20).value();
    CHECK(stats.queued_messages == 4);
    CHECK(stats.pending_timers == 2);
    CHECK(stats.queued_activities == 3);
    CHECK(stats.file_bytes > 0);
    CHECK(stats.file_bytes == std::filesystem::file_size(store->path()));
    CHECK(store->store_stats(0).value().pending_timers == 4);
    CHECK(store->store_stats(10'000).value().pending_timers == 0);
    // Leases do not change what is queued.
    REQUIRE(store->claim_dispatch());
    REQUIRE(store->fetch_messages(20, 10).value().size() == 2);
    stats = store->store_stats(20).value();
    CHECK(stats.queued_messages == 4);
  }
}

}  // namespace duroxide::storage::testing
