// SPDX-License-Identifier: MIT
// Poison and unregistered activities: no instance stays Running forever.
#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "test/testlib/counter.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Counter;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

Counter started;

OrchestrationRegistry calling(std::string activity) {
  return OrchestrationRegistry::builder()
      .register_orchestration("Call",
                              [activity](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_activity(activity, "").into_activity();
                              })
      .build();
}

}  // namespace

TEST_SUITE("engine.poison") {
  TEST_CASE("an activity whose deliveries never finish poisons its instance, across restarts") {
    started.reset();
    // Runs until the runtime stops it: each runtime's stop is like a crash during the activity.
    // is_cancelled has no notification: the activity polls it.
    auto activities = ActivityRegistry::builder()
                          .register_activity("Hang",
                                             [](ActivityContext& ctx, std::string) {
                                               started.add();
                                               while (!ctx.is_cancelled()) {
                                                 std::this_thread::sleep_for(5ms);
                                               }
                                               return std::string("stopped");
                                             })
                          .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_attempts = 2;
    Harness h(activities, calling("Hang"), options);
    h.client().start_orchestration("p", "Call", "").value();
    for (int round = 1; round <= 2; ++round) {
      REQUIRE(started.wait_for(round));
      REQUIRE(started.value() == round);
      h.stop(0ms);  // the activity is stopped without a result, as by a crash
      h.start();
    }
    auto status = h.wait("p");
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Poison);
    CHECK(status.details().kind() == "Poison");
    CHECK(status.details().message().find("'Hang'") != std::string::npos);
    CHECK(started.value() == 2);
  }

  TEST_CASE("restarts whose messages complete a step do not add up to poison") {
    // Every round queues an event while no runtime runs, so the next runtime finds it left
    // from before its start and counts a recovery; the step it completes clears the count.
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Collect",
                                    [](OrchestrationContext& ctx, std::string) {
                                      std::string seen;
                                      for (int i = 0; i < 5; ++i) {
                                        seen += ctx.schedule_wait("next").into_event();
                                      }
                                      return seen;
                                    })
            .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_attempts = 1;
    Harness h(ActivityRegistry::builder().build(), orchestrations, options);
    h.stop();
    h.client().start_orchestration("c", "Collect", "").value();
    for (int round = 0; round < 5; ++round) {
      h.client().raise_event("c", "next", std::to_string(round)).value();
      h.start();
      // The event is taken once the instance has recorded it.
      h.wait_for_events("c", EventKind::EventRaised, static_cast<std::size_t>(round) + 1);
      if (round < 4) h.stop();
    }
    auto status = h.wait("c");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "01234");
    CHECK(h.store()->read_instance("c").value().recovery_attempts == 0);
  }

  // A message can overtake its instance's start (a client's clock ahead of the runtime's). The
  // instance waits for the start without being evictable: evicted, it would hand its messages
  // to a fresh instance at once, which would count the same left-over messages as a recovery
  // again, one more time per eviction, until the healthy instance failed as Poison.
  TEST_CASE("an instance waiting for a late start is not evicted and counted again") {
    auto orchestrations = OrchestrationRegistry::builder()
                              .register_orchestration("WaitGo",
                                                      [](OrchestrationContext& ctx, std::string) {
                                                        return ctx.schedule_wait("Go").into_event();
                                                      })
                              .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_parked_instances = 1;  // every instance that parks evicts another
    options.max_attempts = 1;
    Harness h(ActivityRegistry::builder().build(), orchestrations, options);
    h.stop();
    // Left for the next runtime: the row, an event due now, and the start 1.5 s later.
    const TimestampMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    WriteBatch batch;
    batch.instance_id = "late";
    batch.precondition = WriteBatch::Precondition::InstanceAbsent;
    InstanceRecord row;
    row.instance_id = "late";
    row.name = "WaitGo";
    row.created_at = row.updated_at = now;
    batch.instance = row;
    OrchestratorMessage go;
    go.instance_id = "late";
    go.kind = MessageKind::ExternalEvent;
    go.name = "Go";
    go.data = "went";
    go.visible_at = now;
    OrchestratorMessage start;
    start.instance_id = "late";
    start.execution_id = 1;
    start.kind = MessageKind::StartOrchestration;
    start.name = "WaitGo";
    start.visible_at = now + 1500;
    batch.messages = {go, start};
    REQUIRE(h.store()->commit_sync(std::move(batch)));
    h.start();
    // Instances that park on every shard while "late" waits for its start.
    constexpr int kOthers = 16;
    for (int i = 0; i < kOthers; ++i) {
      REQUIRE(h.client().start_orchestration("other-" + std::to_string(i), "WaitGo", ""));
    }
    for (int i = 0; i < kOthers; ++i) {
      CHECK(h.wait_for_events("other-" + std::to_string(i), EventKind::EventSubscribed));
    }
    auto status = h.wait("late");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "went");
    CHECK(h.store()->read_instance("late").value().recovery_attempts == 0);
  }

  TEST_CASE("an unregistered activity fails its instance as Configuration after a back-off") {
    RuntimeOptions options = testlib::quiet_options();
    options.unregistered_retries = 2;
    Harness h(ActivityRegistry::builder().build(), calling("Missing"), options);
    const auto begin = std::chrono::steady_clock::now();
    auto status = h.run("u", "Call", "");
    const auto waited = std::chrono::steady_clock::now() - begin;
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Configuration);
    CHECK(status.details().kind() == "UnregisteredActivity");
    CHECK(status.details().message().find("'Missing'") != std::string::npos);
    CHECK(waited >= 250ms);  // 100 ms, then 200 ms of back-off
  }

  TEST_CASE("an activity registered by a restart during the back-off runs after all") {
    RuntimeOptions options = testlib::quiet_options();
    options.unregistered_retries = 50;
    Counter missed;
    RuntimeOptions old_options = options;
    testlib::count_log_lines(old_options, "activity 'Late' is not registered", missed);
    auto registry = calling("Late");
    Harness h(ActivityRegistry::builder().build(), registry, old_options);
    h.client().start_orchestration("late", "Call", "").value();
    REQUIRE(missed.wait_for(2));  // in the back-off after a couple of tries
    h.stop();
    auto upgraded = Runtime::start_with_options(
        h.store(),
        ActivityRegistry::builder()
            .register_activity("Late", [](ActivityContext&, std::string) { return "here now"; })
            .build(),
        registry, options);
    auto status = h.wait("late");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "here now");
  }
}
