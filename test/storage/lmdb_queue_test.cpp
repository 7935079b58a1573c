// SPDX-License-Identifier: MIT
// Tests of the queues: visibility order, leases, consumption, release and activity attempts.
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<LmdbProvider> claimed_store() {
  auto store = LmdbProvider::open_temporary(test_options()).value();
  REQUIRE(store->claim_dispatch());
  return store;
}

void enqueue(Provider& store, std::vector<OrchestratorMessage> messages) {
  WriteBatch batch;
  batch.messages = std::move(messages);
  REQUIRE(store.commit_sync(batch));
}

void enqueue_activities(Provider& store, std::vector<ActivityWorkItem> items) {
  WriteBatch batch;
  batch.activities = std::move(items);
  REQUIRE(store.commit_sync(batch));
}

std::vector<std::string> names(const std::vector<QueuedMessage>& queued) {
  std::vector<std::string> out;
  for (const auto& q : queued) out.push_back(q.message.name);
  return out;
}

void consume(Provider& store, std::vector<QueueKey> messages, std::vector<QueueKey> activities) {
  WriteBatch batch;
  batch.consumed_messages = std::move(messages);
  batch.consumed_activities = std::move(activities);
  REQUIRE(store.commit_sync(batch));
}

}  // namespace

TEST_SUITE("storage.lmdb_queue") {
  TEST_CASE("messages come in visible_at order, then in enqueue order") {
    auto store = claimed_store();
    enqueue(*store, {message("a", 30, "30"), message("a", -5, "-5"), message("a", 10, "10a")});
    enqueue(*store, {message("b", 10, "10b"), message("b", 0, "0")});
    const auto fetched = store->fetch_messages(100, 10).value();
    CHECK(names(fetched) == std::vector<std::string>{"-5", "0", "10a", "10b", "30"});
    CHECK(fetched[2].key.seq < fetched[3].key.seq);
    CHECK(fetched[0].message == message("a", -5, "-5"));
    CHECK(fetched[0].key.visible_at == -5);
  }

  TEST_CASE("messages due in the future are not fetched until due") {
    auto store = claimed_store();
    enqueue(*store, {message("a", 50, "later"), message("a", 10, "now")});
    CHECK(names(store->fetch_messages(20, 10).value()) == std::vector<std::string>{"now"});
    CHECK(store->fetch_messages(49, 10).value().empty());
    CHECK(names(store->fetch_messages(50, 10).value()) == std::vector<std::string>{"later"});
  }

  TEST_CASE("fetch hands out at most max messages") {
    auto store = claimed_store();
    enqueue(*store, {message("a", 1, "1"), message("a", 2, "2"), message("a", 3, "3")});
    CHECK(names(store->fetch_messages(10, 2).value()) == std::vector<std::string>{"1", "2"});
    CHECK(names(store->fetch_messages(10, 2).value()) == std::vector<std::string>{"3"});
    CHECK(store->fetch_messages(10, 0).value().empty());
  }

  TEST_CASE("a leased message is not fetched again; consuming removes it; release re-exposes it") {
    auto store = claimed_store();
    enqueue(*store, {message("a", 1, "first"), message("a", 2, "second")});
    const auto first = store->fetch_messages(10, 1).value();
    REQUIRE(names(first) == std::vector<std::string>{"first"});
    const auto second = store->fetch_messages(10, 5).value();
    REQUIRE(names(second) == std::vector<std::string>{"second"});
    CHECK(store->fetch_messages(10, 5).value().empty());
    consume(*store, {first[0].key}, {});
    store->release_messages({second[0].key});
    CHECK(names(store->fetch_messages(10, 5).value()) == std::vector<std::string>{"second"});
  }

  TEST_CASE("fetch without claim_dispatch is Busy") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    enqueue(*store, {message("a", 1)});
    CHECK(store->fetch_messages(10, 5).error().code == ErrorCode::Busy);
    CHECK(store->fetch_activities(10, 5, milliseconds(10)).error().code == ErrorCode::Busy);
  }

  TEST_CASE("next_message_due is the earliest unleased message") {
    auto store = claimed_store();
    CHECK_FALSE(store->next_message_due().has_value());
    enqueue(*store, {message("a", 40, "b"), message("a", -3, "a")});
    CHECK(store->next_message_due() == -3);
    const auto fetched = store->fetch_messages(0, 1).value();
    REQUIRE(fetched.size() == 1);
    CHECK(store->next_message_due() == 40);
    consume(*store, {fetched[0].key}, {});
    CHECK(store->next_message_due() == 40);
  }

  TEST_CASE("release_dispatch drops every lease and the hand-out counts") {
    auto store = claimed_store();
    enqueue(*store, {message("a", 1)});
    enqueue_activities(*store, {activity("a", 1)});
    REQUIRE(store->fetch_messages(10, 5).value().size() == 1);
    REQUIRE(store->fetch_activities(10, 5, milliseconds(1000)).value().size() == 1);
    store->release_dispatch();
    REQUIRE(store->claim_dispatch());
    CHECK(store->fetch_messages(10, 5).value().size() == 1);
    const auto again = store->fetch_activities(10, 5, milliseconds(1000)).value();
    REQUIRE(again.size() == 1);
    CHECK(again[0].item.attempt == 1);  // the stored attempt: the runtime decides what counts
  }

  TEST_CASE("activities come in enqueue order with visible_at 0") {
    auto store = claimed_store();
    enqueue_activities(*store, {activity("a", 1), activity("a", 2)});
    enqueue_activities(*store, {activity("b", 3)});
    const auto fetched = store->fetch_activities(0, 10, milliseconds(100)).value();
    REQUIRE(fetched.size() == 3);
    for (std::size_t i = 0; i < fetched.size(); ++i) {
      CHECK(fetched[i].key.visible_at == 0);
      CHECK(fetched[i].item.activity_id == i + 1);
      CHECK(fetched[i].item.attempt == 1);
    }
    CHECK(fetched[0].item == activity("a", 1));
  }

  TEST_CASE("an activity whose lease expired is handed out again with attempt 2") {
    auto store = claimed_store();
    enqueue_activities(*store, {activity("a", 1)});
    const auto first = store->fetch_activities(1000, 10, milliseconds(500)).value();
    REQUIRE(first.size() == 1);
    CHECK(first[0].item.attempt == 1);
    CHECK(store->fetch_activities(1499, 10, milliseconds(500)).value().empty());
    const auto second = store->fetch_activities(1500, 10, milliseconds(500)).value();
    REQUIRE(second.size() == 1);
    CHECK(second[0].key == first[0].key);
    CHECK(second[0].item.attempt == 2);
    consume(*store, {}, {second[0].key});
    CHECK(store->fetch_activities(5000, 10, milliseconds(500)).value().empty());
  }

  TEST_CASE("a released activity is handed out again at once with the next attempt") {
    auto store = claimed_store();
    enqueue_activities(*store, {activity("a", 1)});
    const auto first = store->fetch_activities(0, 10, milliseconds(60000)).value();
    REQUIRE(first.size() == 1);
    store->release_activities({first[0].key});
    const auto second = store->fetch_activities(1, 10, milliseconds(60000)).value();
    REQUIRE(second.size() == 1);
    CHECK(second[0].item.attempt == 2);
  }

  TEST_CASE("a commit consumes messages and enqueues work in one step") {
    auto store = claimed_store();
    REQUIRE(store->commit_sync(start_batch("a")));
    enqueue(*store, {message("a", 0, "start")});
    const auto fetched = store->fetch_messages(0, 10).value();
    REQUIRE(fetched.size() == 1);
    WriteBatch step;
    step.instance_id = "a";
    step.execution_id = 1;
    step.history = {event(2)};
    step.consumed_messages = {fetched[0].key};
    step.activities = {activity("a", 2)};
    step.messages = {message("a", 500, "timer")};
    REQUIRE(store->commit_sync(step));
    CHECK(store->fetch_messages(100, 10).value().empty());
    CHECK(store->next_message_due() == 500);
    CHECK(store->fetch_activities(0, 10, milliseconds(10)).value().size() == 1);
    CHECK(as_store(store).stats().txns > 0);
  }

  TEST_CASE("consuming a record twice is not an error") {
    auto store = claimed_store();
    enqueue(*store, {message("a", 0)});
    const auto fetched = store->fetch_messages(0, 10).value();
    REQUIRE(fetched.size() == 1);
    consume(*store, {fetched[0].key}, {});
    consume(*store, {fetched[0].key}, {});
  }
}

}  // namespace duroxide::storage::testing
