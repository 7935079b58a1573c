// SPDX-License-Identifier: MIT
// The recovery gate: first recoveries share it, suspects run alone and lowest count first.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include "engine/recovery_gate.hpp"
#include "engine/shard.hpp"
#include "test/testlib/counter.hpp"
#include "test/testlib/harness.hpp"
#include "test/testlib/process_cpu.hpp"

using namespace duroxide;
using duroxide::engine::RecoveryGate;
using Mode = RecoveryGate::Mode;
using duroxide::testlib::process_cpu_seconds;
using namespace std::chrono_literals;

namespace {

// Lets every other fiber of this thread run until it waits.
void let_others_run() {
  for (int i = 0; i < 10; ++i) boost::this_fiber::yield();
}

}  // namespace

TEST_SUITE("engine.recovery_gate") {
  TEST_CASE("first recoveries run together; a suspect waits for them and runs alone") {
    RecoveryGate gate;
    std::vector<std::string> log;
    REQUIRE(gate.enter(Mode::Shared, 0, nullptr));
    REQUIRE(gate.enter(Mode::Shared, 0, nullptr));  // a second shared turn is not held up
    boost::fibers::fiber suspect([&] {
      REQUIRE(gate.enter(Mode::Alone, 1, nullptr));
      log.push_back("suspect runs");
      let_others_run();
      log.push_back("suspect done");
      gate.leave(Mode::Alone);
    });
    let_others_run();
    CHECK(log.empty());  // two shared turns still run
    // A shared turn arriving now waits behind the suspect, so that the running ones drain.
    boost::fibers::fiber late([&] {
      REQUIRE(gate.enter(Mode::Shared, 0, nullptr));
      log.push_back("late shared runs");
      gate.leave(Mode::Shared);
    });
    let_others_run();
    gate.leave(Mode::Shared);
    let_others_run();
    CHECK(log.empty());  // one shared turn is still running
    gate.leave(Mode::Shared);
    suspect.join();
    late.join();
    CHECK(log == std::vector<std::string>{"suspect runs", "suspect done", "late shared runs"});
  }

  TEST_CASE("suspects run one at a time, lowest count first") {
    RecoveryGate gate;
    std::vector<int> order;
    REQUIRE(gate.enter(Mode::Shared, 0, nullptr));
    std::vector<boost::fibers::fiber> suspects;
    for (std::uint32_t count : {3u, 1u, 2u, 1u}) {
      suspects.emplace_back([&gate, &order, count] {
        REQUIRE(gate.enter(Mode::Alone, count, nullptr));
        order.push_back(static_cast<int>(count));
        let_others_run();  // nobody else gets in meanwhile
        order.push_back(-static_cast<int>(count));
        gate.leave(Mode::Alone);
      });
    }
    let_others_run();
    CHECK(order.empty());
    gate.leave(Mode::Shared);
    for (auto& fiber : suspects) fiber.join();
    CHECK(order == std::vector<int>{1, -1, 1, -1, 2, -2, 3, -3});
  }

  TEST_CASE("a closed gate refuses the waiting turns and every later one") {
    RecoveryGate gate;
    REQUIRE(gate.enter(Mode::Alone, 1, nullptr));
    int refused = 0;
    boost::fibers::fiber waiting([&] { refused += gate.enter(Mode::Shared, 0, nullptr) ? 0 : 1; });
    let_others_run();
    CHECK(refused == 0);
    gate.close();
    waiting.join();
    CHECK(refused == 1);
    CHECK_FALSE(gate.enter(Mode::Shared, 0, nullptr));
    gate.leave(Mode::Alone);  // the turn that ran ends normally
  }

  TEST_CASE("suspects are present from their arrival until they leave or the gate closes") {
    RecoveryGate gate;
    CHECK_FALSE(gate.suspects_present());
    REQUIRE(gate.enter(Mode::Shared, 0, nullptr));
    CHECK_FALSE(gate.suspects_present());  // shared turns are no suspects
    bool admitted = false;
    boost::fibers::fiber suspect([&] { admitted = gate.enter(Mode::Alone, 2, nullptr); });
    let_others_run();
    CHECK(gate.suspects_present());  // waiting counts: other turns must now wait too
    gate.leave(Mode::Shared);
    suspect.join();
    REQUIRE(admitted);
    CHECK(gate.suspects_present());  // running
    gate.leave(Mode::Alone);
    CHECK_FALSE(gate.suspects_present());
    // A suspect refused by close() is no longer present.
    REQUIRE(gate.enter(Mode::Shared, 0, nullptr));
    boost::fibers::fiber refused([&] { admitted = gate.enter(Mode::Alone, 1, nullptr); });
    let_others_run();
    CHECK(gate.suspects_present());
    CHECK_FALSE(gate.closed());
    gate.close();
    refused.join();
    CHECK_FALSE(admitted);
    CHECK(gate.closed());
    CHECK_FALSE(gate.suspects_present());
  }

  // The gate closes before the shards stop; the suspects it refuses must not be handed to fresh
  // instances over and over (each of which the closed gate refuses again) until their shard
  // stops.
  TEST_CASE("a runtime stopping while suspects wait at the gate neither spins nor counts them") {
    constexpr std::size_t kThreads = 4;  // pinned: the suspects wait on threads of their own
    auto store = LmdbProvider::open_temporary().value();
    Client client(store);
    // One instance per shard, each counted once by an earlier runtime: four suspects.
    std::vector<std::string> ids;
    std::vector<bool> taken(kThreads, false);
    for (int i = 0; ids.size() < kThreads; ++i) {
      std::string id = "suspect-" + std::to_string(i);
      const std::size_t shard = engine::shard_index(id, kThreads);
      if (taken[shard]) continue;
      taken[shard] = true;
      client.start_orchestration(id, "Slow", "").value();
      InstanceRecord row = store->read_instance(id).value();
      row.recovery_attempts = 1;
      WriteBatch batch;
      batch.instance_id = id;
      batch.execution_id = row.execution_id;
      batch.instance = row;
      store->commit_sync(std::move(batch)).value();
      ids.push_back(std::move(id));
    }
    testlib::Counter entered;
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Slow",
                                    [&entered](OrchestrationContext& ctx, std::string) {
                                      entered.add();
                                      // A slow turn on purpose: it holds the gate (and its
                                      // thread) while the other suspects wait.
                                      std::this_thread::sleep_for(600ms);
                                      return ctx.schedule_wait("go").into_event();
                                    })
            .build();
    auto runtime = Runtime::start_with_options(store, ActivityRegistry::builder().build(),
                                               orchestrations, testlib::quiet_options(kThreads));
    // One suspect runs its turn; the three others, dispatched with it to their own threads,
    // reach the gate during its 600 ms and wait there.
    REQUIRE(entered.wait_for(1));
    const double cpu_before = process_cpu_seconds();
    runtime->shutdown();  // waits for the running turn's 600 ms
    const double cpu = process_cpu_seconds() - cpu_before;
    CHECK(cpu < 0.3);
    // The one that ran completed its step (count cleared); the refused ones were not counted.
    int ran = 0;
    int refused = 0;
    for (const auto& id : ids) {
      const auto count = client.get_instance_info(id).value().recovery_attempts;
      ran += count == 0;
      refused += count == 1;
    }
    CHECK(ran == 1);
    CHECK(refused == 3);
  }
}
