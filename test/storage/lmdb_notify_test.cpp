// SPDX-License-Identifier: MIT
// Tests of change notices: after commits, after releases, and for commits of another process.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/storage/child_process.hpp"
#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

/// Records the notices a listener receives and the threads it ran on.
class Recorder {
 public:
  Provider::ChangeListener listener() {
    return [this](const ChangeNotice& notice) {
      std::lock_guard lock(mutex_);
      notices_.push_back(notice);
      threads_.push_back(std::this_thread::get_id());
      changed_.notify_all();
    };
  }
  /// Returns: the first notice matching `match` within a few seconds.
  template <class Match>
  std::optional<ChangeNotice> wait_for(Match match) {
    std::unique_lock lock(mutex_);
    std::optional<ChangeNotice> found;
    changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& notice : notices_) {
        if (match(notice)) found = notice;
      }
      return found.has_value();
    });
    return found;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return notices_.size();
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ChangeNotice> notices_;
  std::vector<std::thread::id> threads_;
};

}  // namespace

TEST_SUITE("storage.lmdb_notify") {
  TEST_CASE("subscribers learn of new messages with their earliest visible_at") {
    Recorder recorder;  // declared first: it must outlive the store that calls it
    auto store = LmdbProvider::open_temporary(test_options()).value();
    store->subscribe(recorder.listener());
    WriteBatch batch;
    batch.messages = {message("a", 50), message("a", 20), message("a", 90)};
    REQUIRE(store->commit_sync(batch));
    const auto notice = recorder.wait_for([](const ChangeNotice& n) { return n.messages; });
    REQUIRE(notice.has_value());
    CHECK(notice->earliest_visible_at == 20);
    CHECK_FALSE(notice->activities);
    CHECK_FALSE(notice->foreign);
    CHECK(recorder.threads().front() != std::this_thread::get_id());
  }

  TEST_CASE("subscribers learn that an instance row changed (a status may have changed)") {
    Recorder recorder;  // declared first: it must outlive the store that calls it
    auto store = LmdbProvider::open_temporary(test_options()).value();
    store->subscribe(recorder.listener());
    WriteBatch batch;
    batch.instance_id = "row";
    InstanceRecord record;
    record.instance_id = "row";
    record.state = InstanceState::Completed;
    batch.instance = record;
    REQUIRE(store->commit_sync(batch));
    const auto notice = recorder.wait_for([](const ChangeNotice& n) { return n.instances; });
    REQUIRE(notice.has_value());
    CHECK_FALSE(notice->messages);
    CHECK_FALSE(notice->activities);
  }

  TEST_CASE("subscribers learn of new activities, without a visible_at") {
    Recorder recorder;  // declared first: it must outlive the store that calls it
    auto store = LmdbProvider::open_temporary(test_options()).value();
    store->subscribe(recorder.listener());
    WriteBatch batch;
    batch.activities = {activity("a", 1)};
    REQUIRE(store->commit_sync(batch));
    const auto notice = recorder.wait_for([](const ChangeNotice& n) { return n.activities; });
    REQUIRE(notice.has_value());
    CHECK_FALSE(notice->messages);
    CHECK_FALSE(notice->earliest_visible_at.has_value());
  }

  // Listeners run after the callbacks of the commit they announce: by then a callback has
  // been destroyed, so what it captured is already released (a store it held can close).
  TEST_CASE("a commit callback is destroyed once it has run, before listeners hear of it") {
    std::atomic<int> expired_when_notified{-1};  // -1: no listener call yet
    auto sentinel = std::make_shared<int>(0);
    const std::weak_ptr<int> watched = sentinel;
    auto store = LmdbProvider::open_temporary(test_options()).value();
    std::mutex mutex;
    std::condition_variable notified;
    store->subscribe([&](const ChangeNotice& notice) {
      if (!notice.messages) return;
      std::lock_guard lock(mutex);
      if (expired_when_notified.load() < 0) expired_when_notified = watched.expired() ? 1 : 0;
      notified.notify_all();
    });
    WriteBatch batch;
    batch.messages = {message("a", 10)};
    store->commit(std::move(batch), [held = std::move(sentinel)](Result<void, Error> result) {
      CHECK(result.has_value());
      CHECK(held);
    });
    std::unique_lock lock(mutex);
    REQUIRE(notified.wait_for(lock, std::chrono::seconds(10),
                              [&] { return expired_when_notified.load() >= 0; }));
    CHECK(expired_when_notified.load() == 1);
  }

  TEST_CASE("a commit that only appends history notifies nobody") {
    Recorder recorder;  // declared first: it must outlive the store that calls it
    auto store = LmdbProvider::open_temporary(test_options()).value();
    store->subscribe(recorder.listener());
    WriteBatch quiet;
    quiet.instance_id = "a";
    quiet.execution_id = 1;
    quiet.history.push_back(event(1));
    REQUIRE(store->commit_sync(quiet));
    WriteBatch loud;
    loud.messages = {message("a", 10)};
    REQUIRE(store->commit_sync(loud));
    // Listeners run in commit order: once the second notice is in, the first would be too.
    REQUIRE(recorder.wait_for([](const ChangeNotice& n) { return n.messages; }));
    CHECK(recorder.count() == 1);
  }

  TEST_CASE("an unsubscribed listener is not called") {
    Recorder kept;
    Recorder dropped;
    auto store = LmdbProvider::open_temporary(test_options()).value();
    store->subscribe(kept.listener());
    store->unsubscribe(store->subscribe(dropped.listener()));
    WriteBatch batch;
    batch.messages = {message("a", 1)};
    REQUIRE(store->commit_sync(batch));
    REQUIRE(kept.wait_for([](const ChangeNotice& n) { return n.messages; }).has_value());
    CHECK(dropped.count() == 0);
  }

  TEST_CASE("released messages and activities are announced") {
    Recorder recorder;
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->claim_dispatch());
    WriteBatch batch;
    batch.messages = {message("a", 7)};
    batch.activities = {activity("a", 1)};
    REQUIRE(store->commit_sync(batch));
    const auto messages = store->fetch_messages(10, 10).value();
    const auto activities = store->fetch_activities(10, 10, std::chrono::seconds(5)).value();
    store->subscribe(recorder.listener());
    store->release_messages({messages[0].key});
    store->release_activities({activities[0].key});
    CHECK(recorder
              .wait_for(
                  [](const ChangeNotice& n) { return n.messages && n.earliest_visible_at == 7; })
              .has_value());
    CHECK(recorder.wait_for([](const ChangeNotice& n) { return n.activities; }).has_value());
  }

  TEST_CASE("a listener may unsubscribe itself") {
    std::uint64_t token = 0;
    std::atomic<int> calls{0};
    auto store = LmdbProvider::open_temporary(test_options()).value();
    token = store->subscribe([&](const ChangeNotice&) {
      ++calls;
      store->unsubscribe(token);
    });
    for (int i = 0; i < 3; ++i) {
      WriteBatch batch;
      batch.messages = {message("a", i)};
      REQUIRE(store->commit_sync(batch));
    }
    CHECK(calls.load() == 1);
  }

  TEST_CASE("a commit by another process is announced as foreign") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    LmdbOptions options = test_options();
    options.foreign_change_poll = std::chrono::milliseconds(20);
    Recorder recorder;
    auto store = open_store(path, options);
    store->subscribe(recorder.listener());
    REQUIRE(run_in_child({"commit", path}) == 0);
    const auto notice = recorder.wait_for([](const ChangeNotice& n) { return n.foreign; });
    REQUIRE(notice.has_value());
    CHECK(notice->messages);
    CHECK(notice->activities);
    REQUIRE(store->claim_dispatch());
    CHECK(store->fetch_messages(0, 10).value().size() == 1);
  }
}

}  // namespace duroxide::storage::testing
