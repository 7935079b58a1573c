// SPDX-License-Identifier: MIT
// Continue-as-new: executions chain, events carry over, the latest version takes over.
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

ActivityRegistry no_activities() { return ActivityRegistry::builder().build(); }

// Counts up to 4, one execution per step, napping a little in each.
Result<std::string> counter(OrchestrationContext& ctx, std::string input) {
  const int n = std::stoi(input);
  ctx.schedule_timer(40ms).into_timer();
  if (n < 4) return ctx.continue_as_new(std::to_string(n + 1));
  return "done " + input + " in execution " + std::to_string(ctx.execution_id());
}

}  // namespace

TEST_SUITE("engine.continue_as_new") {
  TEST_CASE("each execution starts the next with fresh history; old ones stay readable") {
    Harness h(no_activities(),
              OrchestrationRegistry::builder().register_orchestration("Counter", counter).build());
    auto status = h.run("counter", "Counter", "0");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "done 4 in execution 5");
    for (std::uint64_t execution = 1; execution <= 5; ++execution) {
      CAPTURE(execution);
      auto history = h.store()->read_history("counter", execution).value();
      REQUIRE(history.size() >= 2);
      CHECK(history.front().kind == EventKind::OrchestrationStarted);
      CHECK(history.front().data == std::to_string(execution - 1));
      CHECK(history.front().event_id == 1);
      const auto last = execution < 5 ? EventKind::OrchestrationContinuedAsNew
                                      : EventKind::OrchestrationCompleted;
      CHECK(history.back().kind == last);
    }
    CHECK(h.store()->read_instance("counter").value().execution_id == 5);
  }

  TEST_CASE("a restart between executions continues the chain") {
    Harness h(no_activities(),
              OrchestrationRegistry::builder().register_orchestration("Counter", counter).build());
    h.client().start_orchestration("restarted", "Counter", "0").value();
    REQUIRE(h.wait_until([&] {  // between executions: the first has continued as new
      auto row = h.store()->read_instance("restarted");
      return row && row->execution_id >= 2;
    }));
    h.restart();
    auto status = h.wait("restarted");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "done 4 in execution 5");
  }

  TEST_CASE("events raised but not received carry over to the next execution") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Carry",
                [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
                  auto data = ctx.schedule_wait("A").into_event();
                  if (input.empty()) return ctx.continue_as_new("first " + data);
                  return input + ", then " + data;
                })
            .build();
    Harness h(no_activities(), orchestrations);
    h.client().start_orchestration("carry", "Carry", "").value();
    h.client().raise_event("carry", "A", "1").value();
    h.client().raise_event("carry", "A", "2").value();
    auto status = h.wait("carry");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "first 1, then 2");
  }

  TEST_CASE("the next execution runs the latest registered version") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_versioned("Upgrade", "1.0.0",
                                [](OrchestrationContext& ctx, std::string) {
                                  return ctx.continue_as_new("from " + ctx.orchestration_version());
                                })
            .register_versioned("Upgrade", "2.0.0",
                                [](OrchestrationContext& ctx, std::string input) {
                                  return input + " to " + ctx.orchestration_version();
                                })
            .build();
    Harness h(no_activities(), orchestrations);
    h.client().start_orchestration_versioned("upgrade", "Upgrade", "1.0.0", "").value();
    auto status = h.wait("upgrade");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "from 1.0.0 to 2.0.0");
  }
}

TEST_SUITE("engine.continue_as_new") {
  TEST_CASE(
      "regression: an event queued with the start carries over when execution 1 continues at "
      "once") {
    auto orchestrations = OrchestrationRegistry::builder()
                              .register_orchestration("Hop",
                                                      [](OrchestrationContext& ctx,
                                                         std::string input) -> Result<std::string> {
                                                        if (input == "first")
                                                          return ctx.continue_as_new("second");
                                                        return ctx.schedule_wait("A").into_event();
                                                      })
                              .build();
    auto store = LmdbProvider::open_temporary().value();
    Client client(store);
    client.start_orchestration("hop", "Hop", "first").value();
    client.raise_event("hop", "A", "kept").value();
    auto runtime = Runtime::start_with_options(store, no_activities(), orchestrations,
                                               testlib::quiet_options());
    auto status = client.wait_for_orchestration("hop", 10s).value();
    REQUIRE(status.is_completed());
    CHECK(status.output() == "kept");
  }

  TEST_CASE("a loop without continue_as_new stops at the history limit; with it, it runs on") {
    auto registry =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Forever",
                [](OrchestrationContext& ctx, std::string) {
                  for (int i = 0;; ++i) {  // the outputs do not matter, only the growing history
                    (void)ctx.schedule_activity("Echo", std::to_string(i)).into_activity();
                  }
                  return std::string("unreachable");
                })
            .register_orchestration(
                "Chunked",
                [](OrchestrationContext& ctx, std::string round) {
                  for (int i = 0; i < 10; ++i) {  // only the history counts
                    (void)ctx.schedule_activity("Echo", round).into_activity();
                  }
                  if (round == "5") return std::string("done");
                  // The execution ends as continued whatever is returned: no use for the Result.
                  (void)ctx.continue_as_new(std::to_string(std::stoi(round) + 1));
                  return std::string();
                })
            .build();
    auto activities =
        ActivityRegistry::builder()
            .register_activity("Echo", [](ActivityContext&, std::string in) { return in; })
            .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_history_events = 40;
    Harness h(activities, registry, options);
    auto forever = h.run("forever", "Forever", "");
    REQUIRE(forever.is_failed());
    CHECK(forever.details().category() == ErrorCategory::Application);
    CHECK(forever.details().kind() == "HistoryLimitExceeded");
    CHECK(forever.details().message().find("continue_as_new") != std::string::npos);
    const auto history = h.store()->read_history("forever", 1).value();
    CHECK(history.size() <= 44);  // the limit, the call that hit it, and the failure
    CHECK(history.back().kind == EventKind::OrchestrationFailed);
    auto chunked = h.run("chunked", "Chunked", "1");
    REQUIRE(chunked.is_completed());
    CHECK(chunked.output() == "done");
  }
}
