// SPDX-License-Identifier: MIT
// Tests of map growth: a full map grows, and at its limit a commit fails without damage.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

constexpr std::size_t kTinyMap = std::size_t{64} << 10;

WriteBatch big_batch(const std::string& id, std::size_t bytes) {
  WriteBatch batch = start_batch(id);
  batch.history[0].data = std::string(bytes, 'g');
  return batch;
}

}  // namespace

TEST_SUITE("storage.lmdb_growth") {
  TEST_CASE("a tiny map grows to hold many large commits") {
    LmdbOptions options = test_options();
    options.map_size = kTinyMap;
    options.max_map_size = std::size_t{256} << 20;
    auto store = LmdbProvider::open_temporary(options).value();
    Completions completions;
    constexpr std::size_t kBatches = 300;
    for (std::size_t i = 0; i < kBatches; ++i) {
      store->commit(big_batch("g-" + std::to_string(i), 6000 + i), completions.callback(i));
    }
    completions.wait(kBatches);
    for (const auto& result : completions.results()) CHECK(result);
    for (std::size_t i = 0; i < kBatches; ++i) {
      const auto history = store->read_history("g-" + std::to_string(i), 1).value();
      REQUIRE(history.size() == 1);
      CHECK(history[0].data.size() == 6000 + i);
    }
    CHECK(as_store(store).stats().grows > 0);
    CHECK(as_store(store).map_size() > kTinyMap);
  }

  TEST_CASE("readers on other threads keep working while the map grows") {
    LmdbOptions options = test_options();
    options.map_size = kTinyMap;
    auto store = LmdbProvider::open_temporary(options).value();
    REQUIRE(store->claim_dispatch());
    REQUIRE(store->commit_sync(start_batch("seed")));
    std::atomic<bool> stop{false};
    std::atomic<int> read_errors{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
      readers.emplace_back([&] {
        while (!stop) {
          if (!store->read_history("seed", 1)) ++read_errors;
          if (!store->read_instance("seed")) ++read_errors;
          if (!store->fetch_messages(0, 4)) ++read_errors;
          store->next_message_due();
        }
      });
    }
    for (int i = 0; i < 200; ++i) {
      WriteBatch batch = big_batch("r-" + std::to_string(i), 5000);
      batch.messages = {message(batch.instance_id, 1000000)};
      REQUIRE(store->commit_sync(batch));
    }
    stop = true;
    for (auto& reader : readers) reader.join();
    CHECK(read_errors.load() == 0);
    CHECK(as_store(store).stats().grows > 0);
  }

  TEST_CASE("a commit that does not fit max_map_size fails with IOError and harms nothing") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    LmdbOptions options = test_options();
    options.map_size = kTinyMap;
    options.max_map_size = kTinyMap;
    {
      auto store = open_store(path, options);
      REQUIRE(store->commit_sync(big_batch("small", 1000)));
      auto full = store->commit_sync(big_batch("huge", 200000));
      REQUIRE_FALSE(full);
      CHECK(full.error().code == ErrorCode::IOError);
      CHECK(full.error().message.find("is full") != std::string::npos);
      CHECK(store->read_instance("huge").error().code == ErrorCode::NotFound);
      REQUIRE(store->commit_sync(big_batch("after", 1000)));
    }
    auto reopened = open_store(path);
    CHECK(reopened->read_history("small", 1).value().size() == 1);
    CHECK(reopened->read_history("after", 1).value().size() == 1);
    CHECK(reopened->read_instance("huge").error().code == ErrorCode::NotFound);
    CHECK(reopened->commit_sync(big_batch("huge", 200000)));
  }

  TEST_CASE("in a full group only the batches that do not fit fail") {
    LmdbOptions options = test_options();
    options.map_size = kTinyMap;
    options.max_map_size = kTinyMap;
    auto store = LmdbProvider::open_temporary(options).value();
    Completions completions;
    store->commit(big_batch("a", 100), completions.callback(0));
    store->commit(big_batch("b", 300000), completions.callback(1));
    store->commit(big_batch("c", 100), completions.callback(2));
    completions.wait(3);
    const auto results = completions.results();
    CHECK(results[0]);
    CHECK_FALSE(results[1]);
    CHECK(results[2]);
    CHECK(store->read_history("c", 1).value().size() == 1);
  }
}

}  // namespace duroxide::storage::testing
