// SPDX-License-Identifier: MIT
// Tests of activity attempts: hand-outs, attempts the worker stores, restarts.
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "test/storage/raw_lmdb.hpp"
#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kLease(100);

std::shared_ptr<LmdbProvider> claimed(const std::string& path) {
  auto store = open_store(path);
  REQUIRE(store->claim_dispatch());
  return store;
}

void enqueue_activity(Provider& store, ActivityWorkItem item) {
  WriteBatch batch;
  batch.activities = {std::move(item)};
  REQUIRE(store.commit_sync(batch));
}

/// The one queued activity, handed out at `now`.
QueuedActivity fetch_one(Provider& store, TimestampMs now) {
  auto fetched = store.fetch_activities(now, 10, kLease).value();
  REQUIRE(fetched.size() == 1);
  return fetched[0];
}

/// What the activity worker does before it runs an activity: stores attempt + 1, so that a
/// crash during the run still counts.
void store_attempt(Provider& store, const QueuedActivity& queued) {
  WriteBatch batch;
  batch.activity_attempts = {{queued.key, queued.item.attempt + 1}};
  REQUIRE(store.commit_sync(batch));
}

}  // namespace

TEST_SUITE("storage.lmdb_attempts") {
  TEST_CASE("without stored attempts, re-deliveries count up and a restart starts over") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = claimed(path);
      enqueue_activity(*store, activity("a", 1));
      CHECK(fetch_one(*store, 0).item.attempt == 1);
      CHECK(fetch_one(*store, 100).item.attempt == 2);  // the lease expired
      const auto third = fetch_one(*store, 200);
      CHECK(third.item.attempt == 3);
      store->release_activities({third.key});
      CHECK(fetch_one(*store, 200).item.attempt == 4);
    }
    auto store = claimed(path);
    CHECK(fetch_one(*store, 0).item.attempt == 1);  // the stored attempt, as it is
  }

  TEST_CASE("a re-delivery after the worker stored the attempt is not counted twice") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->claim_dispatch());
    enqueue_activity(*store, activity("a", 1));
    const auto first = fetch_one(*store, 0);
    CHECK(first.item.attempt == 1);
    store_attempt(*store, first);  // stored 1 -> 2
    const auto second = fetch_one(*store, 100);
    CHECK(second.item.attempt == 2);
    store_attempt(*store, second);  // stored 2 -> 3
    store->release_activities({second.key});
    const auto third = fetch_one(*store, 100);
    CHECK(third.item.attempt == 3);
    CHECK(third.key == first.key);
  }

  TEST_CASE("activities returned unstarted spend no attempt") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->claim_dispatch());
    enqueue_activity(*store, activity("a", 1));
    for (int i = 0; i < 5; ++i) {  // e.g. its start record failed to commit, five times
      const auto handed = fetch_one(*store, 0);
      CHECK(handed.item.attempt == 1);
      store->return_activities({handed.key});
    }
    const auto started = fetch_one(*store, 0);
    store_attempt(*store, started);  // stored 1 -> 2, then it runs
    store->release_activities({started.key});
    const auto again = fetch_one(*store, 0);
    CHECK(again.item.attempt == 2);
    store->return_activities({again.key});  // a later hand-out taken back keeps the count
    CHECK(fetch_one(*store, 100).item.attempt == 2);
  }

  TEST_CASE("a restart hands out the attempt the worker stored") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = claimed(path);
      enqueue_activity(*store, activity("a", 1));
      store_attempt(*store, fetch_one(*store, 0));  // then the process "crashes"
    }
    {
      auto store = claimed(path);
      const auto again = fetch_one(*store, 0);
      CHECK(again.item.attempt == 2);
      store_attempt(*store, again);
      CHECK(fetch_one(*store, 100).item.attempt == 3);  // expired: counted once
    }
    auto store = claimed(path);
    CHECK(fetch_one(*store, 0).item.attempt == 3);
  }

  TEST_CASE("storing an attempt keeps the rest of the work item") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->claim_dispatch());
    ActivityWorkItem item = activity("a", 7);
    item.input = std::string("in\0put", 6);
    enqueue_activity(*store, item);
    const auto first = fetch_one(*store, 0);
    WriteBatch batch;
    batch.activity_attempts = {{first.key, 41}};
    REQUIRE(store->commit_sync(batch));
    store->release_dispatch();
    REQUIRE(store->claim_dispatch());  // a fresh lease table: the stored attempt as it is
    item.attempt = 41;
    CHECK(fetch_one(*store, 0).item == item);
  }

  TEST_CASE("storing the attempt of a record that is gone is skipped") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->claim_dispatch());
    enqueue_activity(*store, activity("a", 1));
    const auto queued = fetch_one(*store, 0);
    WriteBatch missing;
    missing.activity_attempts = {{QueueKey{0, 999}, 2}};
    CHECK(store->commit_sync(missing));
    // Consumed and rewritten in one batch: the record stays consumed.
    WriteBatch both;
    both.consumed_activities = {queued.key};
    both.activity_attempts = {{queued.key, 2}};
    REQUIRE(store->commit_sync(both));
    CHECK(store->fetch_activities(1000, 10, kLease).value().empty());
    CHECK(store->commit_sync(both));  // consumed before: both parts are skipped
  }

  TEST_CASE("storing the attempt of a damaged work item fails that batch with Corruption") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    open_store(path).reset();
    const QueueKeyBytes key = encode_queue_key(QueueKey{0, 5});
    raw_put(path, "worker_queue", std::string(key.data(), key.size()), "garbage");
    auto store = open_store(path);
    WriteBatch batch;
    batch.activity_attempts = {{QueueKey{0, 5}, 2}};
    auto result = store->commit_sync(batch);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::Corruption);
    CHECK(result.error().message.find("worker queue") != std::string::npos);
  }
}

}  // namespace duroxide::storage::testing
