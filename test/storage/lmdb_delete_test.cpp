// SPDX-License-Identifier: MIT
// Tests of instance deletion: what it removes, what it leaves, leases, notices and batch rules.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

using std::chrono::milliseconds;

constexpr TimestampMs kLater = 1000000;

/// Instance `id` with two executions of history, three messages and two activities queued.
void populate(Provider& store, const std::string& id) {
  REQUIRE(store.commit_sync(start_batch(id)));
  WriteBatch second;
  second.instance_id = id;
  second.execution_id = 2;
  second.history = {event(1), event(2), event(3)};
  second.messages = {message(id, 10), message(id, 500), message(id, -7)};
  second.activities = {activity(id, 1), activity(id, 2)};
  REQUIRE(store.commit_sync(second));
}

WriteBatch deletion(std::vector<std::string> ids) {
  WriteBatch batch;
  batch.deleted_instances = std::move(ids);
  return batch;
}

std::vector<std::string> queued_instances(Provider& store) {
  std::vector<std::string> ids;
  const auto messages = store.fetch_messages(kLater, 1000).value();
  const auto activities = store.fetch_activities(kLater, 1000, milliseconds(1)).value();
  for (const auto& queued : messages) ids.push_back("m:" + queued.message.instance_id);
  for (const auto& queued : activities) ids.push_back("a:" + queued.item.instance_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> expected_queue(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    out.insert(out.end(), {"m:" + id, "m:" + id, "m:" + id, "a:" + id, "a:" + id});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_SUITE("storage.lmdb_delete") {
  TEST_CASE("deleting removes the row, every execution's history and the queued work") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    for (const std::string id : {"a", "ab", "b", "\x01"}) populate(*store, id);
    REQUIRE(store->commit_sync(deletion({"a"})));
    CHECK(store->read_instance("a").error().code == ErrorCode::NotFound);
    CHECK(store->read_history("a", 1).value().empty());
    CHECK(store->read_history("a", 2).value().empty());
    CHECK(store->list_executions("a").value().empty());
    for (const std::string id : {"ab", "b", "\x01"}) {  // neighbours in key order stay whole
      CHECK(store->read_instance(id).value() == row(id));
      CHECK(store->list_executions(id).value() == std::vector<std::uint64_t>{1, 2});
      CHECK(store->read_history(id, 2).value().size() == 3);
    }
    REQUIRE(store->claim_dispatch());
    CHECK(queued_instances(*store) == expected_queue({"ab", "b", "\x01"}));
  }

  TEST_CASE("one batch deletes several instances; ids without a row are skipped") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    for (const std::string id : {"a", "b", "c"}) populate(*store, id);
    WriteBatch orphan;  // work queued for an id that has no row
    orphan.messages = {message("ghost", 1)};
    REQUIRE(store->commit_sync(orphan));
    REQUIRE(store->commit_sync(deletion({"c", "ghost", "a", "a"})));
    REQUIRE(store->commit_sync(deletion({"nobody"})));
    CHECK(store->list_instances(InstanceQuery{}).value().size() == 1);
    REQUIRE(store->claim_dispatch());
    auto expected = expected_queue({"b"});
    expected.push_back("m:ghost");
    std::sort(expected.begin(), expected.end());
    CHECK(queued_instances(*store) == expected);
  }

  TEST_CASE("a deletion lasts across a reopen") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      populate(*store, "a");
      populate(*store, "b");
      REQUIRE(store->commit_sync(deletion({"a"})));
    }
    auto store = open_store(path);
    CHECK(store->read_instance("a").error().code == ErrorCode::NotFound);
    CHECK(store->list_executions("a").value().empty());
    REQUIRE(store->claim_dispatch());
    CHECK(queued_instances(*store) == expected_queue({"b"}));
  }

  TEST_CASE("leases of deleted records are forgotten, others kept") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    populate(*store, "a");
    populate(*store, "b");
    REQUIRE(store->claim_dispatch());
    REQUIRE(store->fetch_messages(kLater, 100).value().size() == 6);
    REQUIRE(store->fetch_activities(0, 100, milliseconds(60000)).value().size() == 4);
    CHECK(as_store(store).lease_counts() == std::pair<std::size_t, std::size_t>{6, 4});
    REQUIRE(store->commit_sync(deletion({"a"})));
    CHECK(as_store(store).lease_counts() == std::pair<std::size_t, std::size_t>{3, 2});
  }

  TEST_CASE("a deletion tells listeners that instance rows changed") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    populate(*store, "a");
    std::atomic<int> instances{0};
    const auto token = store->subscribe([&](const ChangeNotice& notice) {
      if (notice.instances) ++instances;
    });
    REQUIRE(store->commit_sync(deletion({"a"})));
    // Listeners run on the writer thread after the callbacks: a second commit orders them.
    REQUIRE(store->commit_sync(WriteBatch{}));
    CHECK(instances.load() == 1);
    store->unsubscribe(token);
  }

  TEST_CASE("the precondition is checked before the deletion") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    populate(*store, "a");
    WriteBatch batch = deletion({"a"});
    batch.instance_id = "a";
    batch.precondition = WriteBatch::Precondition::InstancePresent;
    REQUIRE(store->commit_sync(batch));
    auto again = store->commit_sync(batch);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::NotFound);
  }

  TEST_CASE("a write after a deletion that requires the row fails, even in one group") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    populate(*store, "a");
    Completions completions;
    WriteBatch rewrite;
    rewrite.instance_id = "a";
    rewrite.precondition = WriteBatch::Precondition::InstancePresent;
    rewrite.instance = row("a");
    store->commit(deletion({"a"}), completions.callback(0));
    store->commit(rewrite, completions.callback(1));
    completions.wait(2);
    const auto results = completions.results();
    CHECK(results[0]);
    REQUIRE_FALSE(results[1]);
    CHECK(results[1].error().code == ErrorCode::NotFound);
    CHECK(store->read_instance("a").error().code == ErrorCode::NotFound);
  }

  // A batch that deletes its own instance_id may write it anew (lmdb_group_test.cpp).
  TEST_CASE("a batch that deletes another instance and writes to it is InvalidArgument") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    populate(*store, "a");
    std::vector<WriteBatch> batches(4, deletion({"b", "a"}));
    batches[0].instance_id = "c";
    batches[0].instance = row("c");
    batches[0].messages = {message("a", 1)};
    batches[1].instance_id = "c";
    batches[1].execution_id = 3;
    batches[1].history = {event(1)};
    batches[1].activities = {activity("a", 9)};
    batches[2].messages = {message("a", 1)};
    batches[3].activities = {activity("a", 9)};
    for (auto& batch : batches) {
      auto result = store->commit_sync(batch);
      REQUIRE_FALSE(result);
      CHECK(result.error().code == ErrorCode::InvalidArgument);
      CHECK(result.error().message.find("deletes instance 'a'") != std::string::npos);
    }
    CHECK(store->read_instance("a").value() == row("a"));
    // Work for other instances in the same batch is fine.
    WriteBatch other = deletion({"a"});
    other.messages = {message("b", 1)};
    CHECK(store->commit_sync(other));
  }

  TEST_CASE("deleting an empty or overlong id is InvalidArgument") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    CHECK(store->commit_sync(deletion({""})).error().code == ErrorCode::InvalidArgument);
    CHECK(store->commit_sync(deletion({std::string(kMaxInstanceIdBytes + 1, 'x')})).error().code ==
          ErrorCode::InvalidArgument);
  }

  TEST_CASE("consuming records in the batch that deletes them is harmless") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    populate(*store, "a");
    REQUIRE(store->claim_dispatch());
    const auto messages = store->fetch_messages(kLater, 100).value();
    const auto activities = store->fetch_activities(0, 100, milliseconds(60000)).value();
    WriteBatch batch = deletion({"a"});
    batch.consumed_messages = {messages[0].key};
    batch.consumed_activities = {activities[0].key};
    batch.activity_attempts = {{activities[1].key, 5}};
    REQUIRE(store->commit_sync(batch));
    CHECK(queued_instances(*store).empty());
    CHECK(as_store(store).lease_counts() == std::pair<std::size_t, std::size_t>{0, 0});
  }

  TEST_CASE("a long history of several executions is deleted whole") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("long")));
    for (std::uint64_t execution = 1; execution <= 3; ++execution) {
      WriteBatch batch;
      batch.instance_id = "long";
      batch.execution_id = execution;
      for (std::uint64_t id = 2; id <= 2000; ++id) batch.history.push_back(event(id));
      REQUIRE(store->commit_sync(batch));
    }
    populate(*store, "next");
    REQUIRE(store->commit_sync(deletion({"long"})));
    CHECK(store->list_executions("long").value().empty());
    CHECK(store->read_history("next", 2).value().size() == 3);
  }
}

}  // namespace duroxide::storage::testing
