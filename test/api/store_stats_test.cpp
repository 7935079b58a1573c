// SPDX-License-Identifier: MIT
// Client::get_store_stats through the public API: counts by state, queues, timers, file size.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "harness.hpp"
#include "provider_wrapper.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

Harness harness() {
  return Harness(
      ActivityRegistry::builder().build(),
      OrchestrationRegistry::builder()
          .register_orchestration("Echo", [](OrchestrationContext&, std::string s) { return s; })
          .register_orchestration(
              "Fail",
              [](OrchestrationContext&, std::string) -> Result<std::string> { return Err("boom"); })
          .register_orchestration("Sleep",
                                  [](OrchestrationContext& ctx, std::string) {
                                    ctx.schedule_timer(1h).into_timer();
                                    return std::string("woke");
                                  })
          .build());
}

void put_row(Provider& store, const std::string& id, InstanceState state, bool suspended) {
  WriteBatch batch;
  batch.instance_id = id;
  InstanceRecord row;
  row.instance_id = id;
  row.name = "Echo";
  row.state = state;
  row.suspended = suspended;
  batch.instance = row;
  REQUIRE(store.commit_sync(std::move(batch)));
}

}  // namespace

TEST_SUITE("api.store_stats") {
  TEST_CASE("a new store has nothing but its file") {
    auto store = LmdbProvider::open_temporary().value();
    const StoreStats stats = Client(store).get_store_stats().value();
    CHECK(stats.running == 0);
    CHECK(stats.completed == 0);
    CHECK(stats.failed == 0);
    CHECK(stats.suspended == 0);
    CHECK(stats.queued_messages == 0);
    CHECK(stats.pending_timers == 0);
    CHECK(stats.queued_activities == 0);
    CHECK(stats.file_bytes == std::filesystem::file_size(store->path()));
  }

  TEST_CASE("instances by state, and a timer in the future") {
    auto h = harness();
    auto echo_id = [](int i) {  // not "e" + std::to_string(i): a false -Wrestrict of g++ 12
      std::string id = "e";
      return id += std::to_string(i);
    };
    for (int i = 0; i < 5; ++i) REQUIRE(h.client().start_orchestration(echo_id(i), "Echo", "x"));
    REQUIRE(h.client().start_orchestration("f", "Fail", ""));
    REQUIRE(h.client().start_orchestration("s", "Sleep", ""));
    for (int i = 0; i < 5; ++i) REQUIRE(h.client().wait_for_orchestration(echo_id(i), 20s));
    REQUIRE(h.client().wait_for_orchestration("f", 20s));
    // The sleeper's timer is queued once its first step is durable.
    REQUIRE(h.wait_until([&] { return h.client().get_store_stats().value().pending_timers == 1; }));
    const StoreStats stats = h.client().get_store_stats().value();
    CHECK(stats.running == 1);
    CHECK(stats.completed == 5);
    CHECK(stats.failed == 1);
    CHECK(stats.suspended == 0);
    CHECK(stats.queued_messages == 1);
    CHECK(stats.queued_activities == 0);
    CHECK(stats.file_bytes > 0);
  }

  TEST_CASE("suspended counts Running rows with the flag, and deletion takes rows out") {
    auto store = LmdbProvider::open_temporary().value();
    put_row(*store, "r", InstanceState::Running, true);
    put_row(*store, "q", InstanceState::Running, false);
    put_row(*store, "c", InstanceState::Completed, true);  // the flag counts only when Running
    Client client(store);
    StoreStats stats = client.get_store_stats().value();
    CHECK(stats.running == 2);
    CHECK(stats.suspended == 1);
    CHECK(stats.completed == 1);
    REQUIRE(client.delete_instance("r", true));
    REQUIRE(client.delete_instance("c", false));
    stats = client.get_store_stats().value();
    CHECK(stats.running == 1);
    CHECK(stats.suspended == 0);
    CHECK(stats.completed == 0);
  }

  TEST_CASE("another provider gets counts by state from the default, which scans rows") {
    auto lmdb = LmdbProvider::open_temporary().value();
    put_row(*lmdb, "r", InstanceState::Running, true);
    put_row(*lmdb, "c", InstanceState::Completed, false);
    put_row(*lmdb, "f", InstanceState::Failed, false);
    // ProviderWrapper forwards only the virtuals it knows: store_stats is Provider's default.
    struct Plain final : testlib::ProviderWrapper {
      using ProviderWrapper::ProviderWrapper;
      Result<StoreStats, Error> store_stats(TimestampMs now) override {
        return Provider::store_stats(now);
      }
    };
    const StoreStats stats = Client(std::make_shared<Plain>(lmdb)).get_store_stats().value();
    CHECK(stats.running == 1);
    CHECK(stats.suspended == 1);
    CHECK(stats.completed == 1);
    CHECK(stats.failed == 1);
    CHECK(stats.file_bytes == 0);
  }
}
