// SPDX-License-Identifier: MIT
// Tests of commits: history appends, instance rows, preconditions and the group committer.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "storage/keys.hpp"
#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {

TEST_SUITE("storage.lmdb_commit") {
  TEST_CASE("commit appends history that read_history returns in event id order") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    WriteBatch batch = start_batch("a");
    batch.history = {event(3), event(1), event(2, std::string("\0\1\2", 3))};
    REQUIRE(store->commit_sync(batch));
    const auto history = store->read_history("a", 1).value();
    REQUIRE(history.size() == 3);
    CHECK(history[0] == event(1));
    CHECK(history[1] == event(2, std::string("\0\1\2", 3)));
    CHECK(history[2] == event(3));
    CHECK(store->read_instance("a").value() == row("a"));
  }

  TEST_CASE("histories of other instances and executions stay apart") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("a")));
    REQUIRE(store->commit_sync(start_batch("ab")));
    WriteBatch second = start_batch("a");
    second.precondition = WriteBatch::Precondition::InstancePresent;
    second.execution_id = 2;
    second.history = {event(1, "exec2"), event(2, "exec2")};
    REQUIRE(store->commit_sync(second));
    CHECK(store->read_history("a", 1).value().size() == 1);
    CHECK(store->read_history("a", 2).value().size() == 2);
    CHECK(store->read_history("ab", 1).value().size() == 1);
    CHECK(store->read_history("b", 1).value().empty());
    CHECK(store->read_history("a", 3).value().empty());
  }

  TEST_CASE("created_instances writes rows only where none exists") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("taken")));
    WriteBatch batch = start_batch("parent");
    InstanceRecord fresh = row("child");
    fresh.parent_id = "parent";
    fresh.parent_event_id = 7;
    InstanceRecord clash = row("taken");
    clash.name = "Other";
    clash.parent_id = "parent";
    batch.created_instances = {fresh, clash};
    REQUIRE(store->commit_sync(batch));
    CHECK(store->read_instance("child").value() == fresh);
    CHECK(store->read_instance("taken").value() == row("taken"));  // untouched
    WriteBatch bad;
    bad.created_instances = {row("")};
    auto refused = store->commit_sync(bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("read_instance of a missing id is NotFound naming it") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    auto missing = store->read_instance("nobody");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::NotFound);
    CHECK(missing.error().message == "instance 'nobody' not found");
  }

  TEST_CASE("reads of empty or overlong ids are InvalidArgument") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    CHECK(store->read_instance("").error().code == ErrorCode::InvalidArgument);
    const std::string longest(kMaxInstanceIdBytes + 1, 'x');
    CHECK(store->read_instance(longest).error().code == ErrorCode::InvalidArgument);
    CHECK(store->read_history(longest, 1).error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("a later commit replaces the instance row") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("a")));
    WriteBatch update;
    update.instance_id = "a";
    update.instance = row("a");
    update.instance->state = InstanceState::Completed;
    update.instance->output = "done";
    update.instance->custom_status = "finished";
    REQUIRE(store->commit_sync(update));
    CHECK(store->read_instance("a").value() == *update.instance);
  }

  TEST_CASE("appending an existing event id fails the batch and writes nothing of it") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("a")));
    REQUIRE(store->claim_dispatch());
    WriteBatch bad;
    bad.instance_id = "a";
    bad.execution_id = 1;
    bad.instance = row("a", "renamed");
    bad.history = {event(2), event(1, "again")};
    bad.messages = {message("a", 0)};
    bad.activities = {activity("a", 2)};
    auto result = store->commit_sync(bad);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::AlreadyExists);
    CHECK(result.error().message.find("history event 1 of instance 'a'") != std::string::npos);
    CHECK(store->read_instance("a").value().name == "orch");
    CHECK(store->read_history("a", 1).value() == std::vector<HistoryEvent>{event(1)});
    CHECK(store->fetch_messages(1000, 10).value().empty());
    CHECK(store->fetch_activities(1000, 10, std::chrono::seconds(1)).value().empty());
  }

  TEST_CASE("InstanceAbsent fails with AlreadyExists when the row exists") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("a")));
    WriteBatch again = start_batch("a");
    again.history = {event(7)};
    auto result = store->commit_sync(again);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::AlreadyExists);
    CHECK(result.error().message == "instance 'a' already exists");
    CHECK(store->read_history("a", 1).value().size() == 1);
  }

  TEST_CASE("InstancePresent fails with NotFound when the row is missing") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    WriteBatch raise;
    raise.instance_id = "ghost";
    raise.precondition = WriteBatch::Precondition::InstancePresent;
    raise.messages = {message("ghost", 0)};
    auto result = store->commit_sync(raise);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::NotFound);
    CHECK(result.error().message == "instance 'ghost' not found");
  }

  TEST_CASE("malformed batches fail with InvalidArgument") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    WriteBatch no_id = start_batch("");
    CHECK(store->commit_sync(no_id).error().code == ErrorCode::InvalidArgument);
    WriteBatch too_long = start_batch(std::string(kMaxInstanceIdBytes + 1, 'x'));
    CHECK(store->commit_sync(too_long).error().code == ErrorCode::InvalidArgument);
    WriteBatch other_row = start_batch("a");
    other_row.instance = row("b");
    CHECK(store->commit_sync(other_row).error().code == ErrorCode::InvalidArgument);
    WriteBatch bad_message;
    bad_message.messages = {message("", 0)};
    CHECK(store->commit_sync(bad_message).error().code == ErrorCode::InvalidArgument);
    CHECK(store->commit_sync(start_batch(std::string(kMaxInstanceIdBytes, 'x'))));
  }

  TEST_CASE("an empty batch succeeds") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    CHECK(store->commit_sync(WriteBatch{}));
  }

  TEST_CASE("a failing batch in a group fails alone, and later batches see earlier ones") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("taken")));
    Completions completions;
    constexpr std::size_t kBatches = 60;
    for (std::size_t i = 0; i < kBatches; ++i) {
      const std::string id = i == 20 ? "taken" : i == 40 ? "id-10" : "id-" + std::to_string(i);
      store->commit(start_batch(id), completions.callback(i));
    }
    completions.wait(kBatches);
    const auto results = completions.results();
    for (std::size_t i = 0; i < kBatches; ++i) {
      CAPTURE(i);
      if (i == 20 || i == 40) {
        REQUIRE_FALSE(results[i]);
        CHECK(results[i].error().code == ErrorCode::AlreadyExists);
      } else {
        CHECK(results[i]);
      }
    }
    CHECK(store->read_history("id-59", 1).value().size() == 1);
  }

  TEST_CASE("concurrent commits from several threads are grouped into fewer txns") {
    LmdbOptions options = test_options();
    options.sync = true;  // a real fsync per txn lets batches pile up behind it
    auto store = LmdbProvider::open_temporary(options).value();
    constexpr std::size_t kThreads = 8;
    constexpr std::size_t kPerThread = 100;
    Completions completions;
    const auto before = as_store(store).stats();
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t i = 0; i < kPerThread; ++i) {
          const std::size_t index = t * kPerThread + i;
          store->commit(start_batch("i-" + std::to_string(index)), completions.callback(index));
        }
      });
    }
    for (auto& thread : threads) thread.join();
    completions.wait(kThreads * kPerThread);
    for (const auto& result : completions.results()) CHECK(result);
    for (std::size_t index = 0; index < kThreads * kPerThread; ++index) {
      REQUIRE(store->read_history("i-" + std::to_string(index), 1).value().size() == 1);
    }
    const auto after = as_store(store).stats();
    CHECK(after.batches - before.batches == kThreads * kPerThread);
    CHECK(after.txns - before.txns < kThreads * kPerThread);
    MESSAGE("txns for " << kThreads * kPerThread << " batches: " << after.txns - before.txns);
  }

  TEST_CASE("dropping the last reference in a commit callback closes the store") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    const std::filesystem::path dir = std::filesystem::path(store->path()).parent_path();
    auto last = std::make_shared<std::shared_ptr<LmdbProvider>>(store);
    Provider* provider = store.get();
    store.reset();  // `last`, soon held only by the callback, keeps the provider alive
    provider->commit(start_batch("x"), [last](Result<void, Error>) { last->reset(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::filesystem::exists(dir) && std::chrono::steady_clock::now() < deadline) {
      // The store closes on a detached thread that signals nothing: the directory going away
      // is the only sign, so poll for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK_FALSE(std::filesystem::exists(dir));
  }

  TEST_CASE("every callback runs before the provider is destroyed") {
    Completions completions;
    constexpr std::size_t kBatches = 200;
    {
      auto store = LmdbProvider::open_temporary(test_options()).value();
      for (std::size_t i = 0; i < kBatches; ++i) {
        store->commit(start_batch("d-" + std::to_string(i)), completions.callback(i));
      }
    }
    CHECK(completions.done() == kBatches);
    for (const auto& result : completions.results()) CHECK(result);
  }
}

}  // namespace duroxide::storage::testing
