// SPDX-License-Identifier: MIT
// Tests of commit_group on the LMDB store: one txn for the group, each batch checked alone and
// in order, and of batches that delete their own instance and write it anew.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

WriteBatch replacing_start(const std::string& id) {
  WriteBatch batch = start_batch(id);
  batch.precondition = WriteBatch::Precondition::InstanceAbsentOrFinished;
  batch.deleted_instances = {id};
  return batch;
}

WriteBatch finish(const std::string& id, InstanceState state) {
  WriteBatch batch;
  batch.instance_id = id;
  batch.instance = row(id);
  batch.instance->state = state;
  return batch;
}

}  // namespace

TEST_SUITE("storage.lmdb_group") {
  TEST_CASE("a group is one txn, each batch checked on its own, in order") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    REQUIRE(store->commit_sync(start_batch("taken")));
    const auto before = as_store(store).stats();
    std::vector<WriteBatch> batches;
    batches.push_back(start_batch("a"));
    batches.push_back(start_batch("taken"));  // fails alone
    batches.push_back(start_batch("b"));
    batches.push_back(start_batch("a"));  // meets the first batch's row
    const auto results = store->commit_group_sync(std::move(batches));
    REQUIRE(results.size() == 4);
    CHECK(results[0]);
    REQUIRE_FALSE(results[1]);
    CHECK(results[1].error().code == ErrorCode::AlreadyExists);
    CHECK(results[2]);
    REQUIRE_FALSE(results[3]);
    CHECK(results[3].error().code == ErrorCode::AlreadyExists);
    const auto after = as_store(store).stats();
    CHECK(after.txns == before.txns + 1);
    CHECK(after.batches == before.batches + 2);
    CHECK(after.failed_batches == before.failed_batches + 2);
    CHECK(store->read_instance("a").value() == row("a"));
    CHECK(store->read_instance("b").value() == row("b"));
  }

  TEST_CASE("a group larger than max_batches_per_commit is still one txn") {
    TempDir dir;
    LmdbOptions options = test_options();
    options.max_batches_per_commit = 4;
    auto store = open_store(dir.file("store.duro"), options);
    const auto before = as_store(store).stats();
    std::vector<WriteBatch> batches;
    for (int i = 0; i < 50; ++i) batches.push_back(start_batch("i-" + std::to_string(i)));
    for (const auto& result : store->commit_group_sync(std::move(batches))) CHECK(result);
    CHECK(as_store(store).stats().txns == before.txns + 1);
    CHECK(store->list_instances(InstanceQuery{{}, "", "", 0}).value().size() == 50);
  }

  TEST_CASE("an empty group calls back at once with no results") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    CHECK(store->commit_group_sync({}).empty());
  }

  TEST_CASE("a malformed batch fails alone inside its group") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    std::vector<WriteBatch> batches;
    batches.push_back(start_batch("a"));
    batches.push_back(start_batch(""));
    const auto results = store->commit_group_sync(std::move(batches));
    CHECK(results[0]);
    REQUIRE_FALSE(results[1]);
    CHECK(results[1].error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("InstanceAbsentOrFinished: absent and finished pass, Running is AlreadyExists") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    CHECK(store->commit_sync(replacing_start("fresh")));
    auto running = store->commit_sync(replacing_start("fresh"));
    REQUIRE_FALSE(running);
    CHECK(running.error().code == ErrorCode::AlreadyExists);
    for (const auto state : {InstanceState::Completed, InstanceState::Failed}) {
      CAPTURE(static_cast<int>(state));
      REQUIRE(store->commit_sync(finish("fresh", state)));
      CHECK(store->commit_sync(replacing_start("fresh")));
      CHECK(store->read_instance("fresh").value().state == InstanceState::Running);
    }
  }

  TEST_CASE("a batch that deletes its own instance replaces it whole") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    WriteBatch first = start_batch("x");
    first.history.push_back(event(2, "old"));
    first.messages = {message("x", 5, "old-event")};
    first.activities = {activity("x", 2)};
    REQUIRE(store->commit_sync(first));
    REQUIRE(store->commit_sync(finish("x", InstanceState::Completed)));

    WriteBatch again = replacing_start("x");
    again.history[0].data = "new";  // event 1 again: the old one is gone first
    again.messages = {message("x", 7, "new-event")};
    REQUIRE(store->commit_sync(again));
    const auto history = store->read_history("x", 1).value();
    REQUIRE(history.size() == 1);
    CHECK(history[0].data == "new");
    REQUIRE(store->claim_dispatch());
    const auto messages = store->fetch_messages(100, 10).value();
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].message.name == "new-event");
    CHECK(store->fetch_activities(100, 10, std::chrono::seconds(5)).value().empty());
  }

  TEST_CASE("a batch may still not write to another instance it deletes") {
    TempDir dir;
    auto store = open_store(dir.file("store.duro"));
    REQUIRE(store->commit_sync(start_batch("other")));
    WriteBatch batch = start_batch("x");
    batch.deleted_instances = {"other"};
    batch.messages = {message("other", 5)};
    auto result = store->commit_sync(batch);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::InvalidArgument);
  }
}

}  // namespace duroxide::storage::testing
