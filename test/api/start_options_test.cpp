// SPDX-License-Identifier: MIT
// Starting with IfExists, and many starts in one commit, through the public API.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "harness.hpp"
#include "provider_wrapper.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;
using Kind = OrchestrationStatus::Kind;

namespace {

// "child:<x>" runs a sub-orchestration "<id>/c" that echoes x; anything else is echoed.
std::string tree(OrchestrationContext& ctx, std::string input) {
  if (input.rfind("child:", 0) != 0) return input;
  return ctx.schedule_sub_orchestration_with_id("Echo", ctx.instance_id() + "/c", input.substr(6))
      .into_sub_orchestration()
      .value();
}

Harness harness() {
  return Harness(
      ActivityRegistry::builder().build(),
      OrchestrationRegistry::builder()
          .register_orchestration("Echo", [](OrchestrationContext&, std::string s) { return s; })
          .register_orchestration(
              "Fail",
              [](OrchestrationContext&, std::string) -> Result<std::string> { return Err("boom"); })
          .register_orchestration("Wait",
                                  [](OrchestrationContext& ctx, std::string) {
                                    return ctx.schedule_wait("Go").into_event();
                                  })
          .register_orchestration("Tree", tree)
          .build());
}

StartOptions if_exists(IfExists choice) {
  StartOptions options;
  options.if_exists = choice;
  return options;
}

OrchestrationStatus finish(Client& client, const std::string& id) {
  auto status = client.wait_for_orchestration(id, 20s);
  REQUIRE(status);
  return *status;
}

/// Counts the commits and commit groups a client makes (forwarding them to the target).
class CountingProvider final : public testlib::ProviderWrapper {
 public:
  using ProviderWrapper::ProviderWrapper;
  void commit(WriteBatch batch, CommitCallback done) override {
    ++commits;
    ProviderWrapper::commit(std::move(batch), std::move(done));
  }
  void commit_group(std::vector<WriteBatch> batches, GroupCallback done) override {
    ++groups;
    batches_in_groups += batches.size();
    target().commit_group(std::move(batches), std::move(done));
  }
  std::atomic<int> commits{0};
  std::atomic<int> groups{0};
  std::atomic<std::size_t> batches_in_groups{0};
};

/// A row written directly, for states a runtime would take long to reach.
void put_row(Provider& store, const std::string& id, InstanceState state,
             const std::string& parent = "") {
  WriteBatch batch;
  batch.instance_id = id;
  InstanceRecord row;
  row.instance_id = id;
  row.name = "Echo";
  row.state = state;
  row.parent_id = parent;
  batch.instance = row;
  REQUIRE(store.commit_sync(std::move(batch)));
}

}  // namespace

TEST_SUITE("api.start_options") {
  TEST_CASE("Fail: a taken id is AlreadyExists, as without options") {
    auto h = harness();
    REQUIRE(h.client().start_orchestration("a", "Echo", "1"));
    auto again = h.client().start_orchestration("a", "Echo", "2", StartOptions{});
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::AlreadyExists);
    CHECK(h.client().start_orchestration("a", "Echo", "3").error().code ==
          ErrorCode::AlreadyExists);
    CHECK(finish(h.client(), "a").output() == "1");
  }

  TEST_CASE("a version in the options pins the instance to it") {
    auto h = harness();
    StartOptions options;
    options.version = "1.0.0";
    REQUIRE(h.client().start_orchestration("v", "Echo", "x", options));
    CHECK(h.client().get_instance_info("v").value().version == "1.0.0");
  }

  TEST_CASE("Ignore: a taken id succeeds and changes nothing") {
    auto h = harness();
    REQUIRE(h.client().start_orchestration("a", "Echo", "first"));
    REQUIRE(finish(h.client(), "a").output() == "first");
    const auto before = h.client().get_instance_info("a").value();
    const auto history = h.store()->read_history("a", 1).value();
    CHECK(h.client().start_orchestration("a", "Fail", "second", if_exists(IfExists::Ignore)));
    const auto after = h.client().get_instance_info("a").value();
    CHECK(after.name == "Echo");
    CHECK(after.output == before.output);
    CHECK(after.updated_at == before.updated_at);
    CHECK(h.store()->read_history("a", 1).value() == history);
    // A free id is simply started.
    CHECK(h.client().start_orchestration("b", "Echo", "b", if_exists(IfExists::Ignore)));
    CHECK(finish(h.client(), "b").output() == "b");
  }

  TEST_CASE("ReplaceFinished: a Completed or Failed instance is started anew") {
    auto h = harness();
    REQUIRE(h.client().start_orchestration("a", "Echo", "old"));
    REQUIRE(finish(h.client(), "a").output() == "old");
    const auto replace = if_exists(IfExists::ReplaceFinished);
    REQUIRE(h.client().start_orchestration("a", "Fail", "", replace));
    CHECK(finish(h.client(), "a").kind() == Kind::Failed);
    REQUIRE(h.client().start_orchestration("a", "Echo", "new", replace));
    CHECK(finish(h.client(), "a").output() == "new");
    // The history is the new run's alone.
    const auto history = h.store()->read_history("a", 1).value();
    REQUIRE_FALSE(history.empty());
    CHECK(history.front().data == "new");
    CHECK(h.client().list_executions("a").value() == std::vector<std::uint64_t>{1});
    // A free id is simply started.
    CHECK(h.client().start_orchestration("fresh", "Echo", "f", replace));
    CHECK(finish(h.client(), "fresh").output() == "f");
  }

  TEST_CASE("ReplaceFinished: a Running instance is AlreadyExists and keeps running") {
    auto h = harness();
    REQUIRE(h.client().start_orchestration("w", "Wait", ""));
    auto replaced =
        h.client().start_orchestration("w", "Echo", "x", if_exists(IfExists::ReplaceFinished));
    REQUIRE_FALSE(replaced);
    CHECK(replaced.error().code == ErrorCode::AlreadyExists);
    REQUIRE(h.client().raise_event("w", "Go", "went"));
    CHECK(finish(h.client(), "w").output() == "went");
  }

  TEST_CASE("ReplaceFinished deletes the finished sub-orchestrations with the instance") {
    auto h = harness();
    REQUIRE(h.client().start_orchestration("p", "Tree", "child:hi"));
    REQUIRE(finish(h.client(), "p").output() == "hi");
    REQUIRE(h.client().get_instance_info("p/c"));
    REQUIRE(
        h.client().start_orchestration("p", "Tree", "alone", if_exists(IfExists::ReplaceFinished)));
    CHECK(finish(h.client(), "p").output() == "alone");
    CHECK(h.client().get_instance_info("p/c").error().code == ErrorCode::NotFound);
  }

  TEST_CASE("ReplaceFinished: a finished instance with a running child is AlreadyExists") {
    auto store = LmdbProvider::open_temporary().value();
    put_row(*store, "p", InstanceState::Completed);
    put_row(*store, "p/c", InstanceState::Running, "p");
    Client client(store);
    auto replaced =
        client.start_orchestration("p", "Echo", "x", if_exists(IfExists::ReplaceFinished));
    REQUIRE_FALSE(replaced);
    CHECK(replaced.error().code == ErrorCode::AlreadyExists);
    CHECK(replaced.error().message.find("'p/c'") != std::string::npos);
    CHECK(store->read_instance("p").value().state == InstanceState::Completed);
    CHECK(store->read_instance("p/c").value().state == InstanceState::Running);
  }

  TEST_CASE("start_orchestrations checks each request in order and commits once") {
    auto lmdb = LmdbProvider::open_temporary().value();
    auto counting = std::make_shared<CountingProvider>(lmdb);
    put_row(*lmdb, "taken", InstanceState::Running);
    put_row(*lmdb, "done", InstanceState::Completed);
    Client client(counting);
    const auto ignore = if_exists(IfExists::Ignore);
    const auto replace = if_exists(IfExists::ReplaceFinished);
    std::vector<StartRequest> requests = {
        {"a", "Echo", "1", {}},
        {"", "Echo", "bad id", {}},
        {"taken", "Echo", "", {}},
        {"a", "Echo", "2", {}},      // meets the first request
        {"a", "Echo", "3", ignore},  // likewise, and ignores it
        {"taken", "Echo", "", ignore},
        {"done", "Echo", "new", replace},
        {"done", "Echo", "newer", replace},  // meets the replacement, which is Running
        {"b", "Echo", std::string(kMaxPayloadBytes + 1, 'x'), {}},
        {"c", "Echo", "c", {}},
    };
    const auto results = client.start_orchestrations(std::move(requests));
    REQUIRE(results.size() == 10);
    CHECK(results[0]);
    CHECK(results[1].error().code == ErrorCode::InvalidArgument);
    CHECK(results[2].error().code == ErrorCode::AlreadyExists);
    CHECK(results[3].error().code == ErrorCode::AlreadyExists);
    CHECK(results[4]);
    CHECK(results[5]);
    CHECK(results[6]);
    CHECK(results[7].error().code == ErrorCode::AlreadyExists);
    CHECK(results[8].error().code == ErrorCode::InvalidArgument);
    CHECK(results[9]);
    CHECK(counting->groups == 1);
    CHECK(counting->commits == 0);
    // The invalid ones never reach the store; the second "done" is refused inside the commit,
    // where the first one's row is Running.
    CHECK(counting->batches_in_groups == 8);
    // Durable when it returns: the accepted ones are there, as the first of each id wrote them.
    CHECK(lmdb->read_instance("a").value().state == InstanceState::Running);
    CHECK(lmdb->read_instance("done").value().state == InstanceState::Running);
    CHECK(lmdb->read_instance("c").value().state == InstanceState::Running);
    CHECK(lmdb->read_instance("b").error().code == ErrorCode::NotFound);
    const auto stats = Client(lmdb).get_store_stats().value();
    CHECK(stats.running == 4);  // a, taken, done, c
    CHECK(stats.queued_messages == 3);
  }

  TEST_CASE("start_orchestrations over a provider with the default commit_group") {
    auto lmdb = LmdbProvider::open_temporary().value();
    // ProviderWrapper forwards commit but not commit_group: Provider's default commits the
    // batches one by one, in order, and still gives one result per request.
    struct Plain final : testlib::ProviderWrapper {
      using ProviderWrapper::ProviderWrapper;
      void commit_group(std::vector<WriteBatch> batches, GroupCallback done) override {
        Provider::commit_group(std::move(batches), std::move(done));
      }
    };
    Client client(std::make_shared<Plain>(lmdb));
    std::vector<StartRequest> requests = {
        {"a", "Echo", "1", {}}, {"a", "Echo", "2", {}}, {"b", "Echo", "3", {}}};
    const auto results = client.start_orchestrations(std::move(requests));
    REQUIRE(results.size() == 3);
    CHECK(results[0]);
    CHECK(results[1].error().code == ErrorCode::AlreadyExists);
    CHECK(results[2]);
    CHECK(lmdb->read_instance("b").value().state == InstanceState::Running);
  }

  TEST_CASE("start_orchestrations: the started instances run, and none at all is fine") {
    auto h = harness();
    CHECK(h.client().start_orchestrations({}).empty());
    std::vector<StartRequest> requests;
    for (int i = 0; i < 50; ++i) {
      requests.push_back({"many-" + std::to_string(i), "Echo", std::to_string(i), {}});
    }
    for (const auto& result : h.client().start_orchestrations(std::move(requests))) {
      CHECK(result);
    }
    for (int i = 0; i < 50; ++i) {
      CHECK(finish(h.client(), "many-" + std::to_string(i)).output() == std::to_string(i));
    }
  }
}
