// SPDX-License-Identifier: MIT
// Suspend and resume: a suspended instance runs no code; what arrives meanwhile waits, in order.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "test/testlib/counter.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Counter;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

// Waits for "a" and "b" (in that order), records each step in the custom status, then calls
// an activity with what it received and returns the activity's output with utc_now's order.
OrchestrationRegistry two_events(Counter& steps) {
  return OrchestrationRegistry::builder()
      .register_orchestration(
          "TwoEvents",
          [&steps](OrchestrationContext& ctx, std::string) -> Result<std::string> {
            auto a = ctx.schedule_wait("a").into_event();
            steps.add();
            ctx.set_custom_status("got a");
            auto b = ctx.schedule_wait("b").into_event();
            steps.add();
            ctx.set_custom_status("got b");
            auto echoed = ctx.schedule_activity("Echo", a + "+" + b).into_activity();
            if (!echoed) return Err(echoed.error());
            return echoed.value();
          })
      .build();
}

ActivityRegistry echo(Counter& runs) {
  return ActivityRegistry::builder()
      .register_activity("Echo",
                         [&runs](ActivityContext&, std::string input) {
                           runs.add();
                           return "echo:" + input;
                         })
      .build();
}

std::vector<EventKind> kinds_of(const std::vector<HistoryEvent>& history) {
  std::vector<EventKind> kinds;
  for (const auto& e : history) kinds.push_back(e.kind);
  return kinds;
}

}  // namespace

TEST_SUITE("engine.suspend") {
  TEST_CASE("a suspended instance holds its events until resumed, then runs them in order") {
    Counter steps, runs;
    Harness h(echo(runs), two_events(steps));
    h.client().start_orchestration("s", "TwoEvents", "").value();
    REQUIRE(h.wait_for_events("s", EventKind::EventSubscribed));
    CHECK_FALSE(h.client().get_orchestration_status("s").value().is_suspended());

    REQUIRE(h.client().suspend_instance("s", "maintenance"));
    // Raised after suspend_instance returned: held, whether or not a runtime took the request.
    REQUIRE(h.client().raise_event("s", "a", "1"));
    REQUIRE(h.client().raise_event("s", "b", "2"));
    REQUIRE(h.flush_messages("s"));  // every message above has been taken
    auto status = h.client().get_orchestration_status("s").value();
    CHECK(status.is_running());
    CHECK(status.is_suspended());
    CHECK(steps.value() == 0);  // no code ran on the events
    CHECK_FALSE(status.custom_status().has_value());
    auto info = h.client().get_instance_info("s").value();
    CHECK(info.suspended);

    REQUIRE(h.client().resume_instance("s", "done"));
    status = h.wait("s");
    REQUIRE(status.is_completed());
    CHECK_FALSE(status.is_suspended());
    CHECK(status.output() == "echo:1+2");
    CHECK(runs.value() == 1);

    const auto history = h.store()->read_history("s", 1).value();
    const auto suspended = std::find_if(history.begin(), history.end(), [](const auto& e) {
      return e.kind == EventKind::ExecutionSuspended;
    });
    REQUIRE(suspended != history.end());
    CHECK(suspended->data == "maintenance");
    const auto resumed = std::find_if(suspended, history.end(), [](const auto& e) {
      return e.kind == EventKind::ExecutionResumed;
    });
    REQUIRE(resumed != history.end());
    CHECK(resumed->data == "done");
    // Both events are recorded while suspended, between the two, in the order raised.
    std::vector<std::string> raised;
    for (auto it = suspended; it != resumed; ++it) {
      if (it->kind == EventKind::EventRaised && it->name != "testlib.flush") {
        raised.push_back(it->name);
      }
    }
    CHECK(raised == std::vector<std::string>{"a", "b"});
    const std::string json = h.client().read_history_json("s", 1).value();
    CHECK(json.find(R"("kind":"ExecutionSuspended","timestamp":)") != std::string::npos);
    CHECK(json.find(R"("reason":"maintenance")") != std::string::npos);
    CHECK(json.find(R"("reason":"done")") != std::string::npos);
    {
      const auto report = check_store(*h.store()).value();  // the integrity check agrees
      for (const auto& problem : report.problems) MESSAGE(problem.where << ": " << problem.what);
      CHECK(report.ok());
    }
  }

  TEST_CASE("replay through a suspension sees what the live run saw") {
    Counter steps, runs;
    Harness h(echo(runs), two_events(steps));
    h.client().start_orchestration("r", "TwoEvents", "").value();
    REQUIRE(h.wait_for_events("r", EventKind::EventSubscribed));
    REQUIRE(h.client().raise_event("r", "a", "x"));
    REQUIRE(h.wait_until([&] { return steps.value() == 1; }));
    REQUIRE(h.client().suspend_instance("r", "hold"));
    REQUIRE(h.client().raise_event("r", "b", "y"));
    REQUIRE(h.flush_messages("r"));
    REQUIRE(h.client().get_orchestration_status("r").value().is_suspended());
    CHECK(steps.value() == 1);
    // A new runtime replays the history, suspension included, and stays suspended.
    h.restart();
    REQUIRE(h.flush_messages("r"));
    CHECK(h.client().get_orchestration_status("r").value().is_suspended());
    CHECK(steps.value() == 2);  // replay re-ran the step on "a" only: "b" is still held
    REQUIRE(h.client().resume_instance("r", "go"));
    auto status = h.wait("r");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "echo:x+y");
    // A replay of the finished history makes the same calls: nothing diverges.
    const auto before = h.store()->read_history("r", 1).value();
    h.restart();
    REQUIRE(h.flush_messages("r"));
    CHECK(h.store()->read_history("r", 1).value() == before);
  }

  TEST_CASE("an activity result and a cancel that arrive while suspended wait for the resume") {
    Counter steps, runs;
    Counter release;
    auto activities = ActivityRegistry::builder()
                          .register_activity("Slow",
                                             [&](ActivityContext&, std::string) {
                                               runs.add();
                                               release.wait_for(1);
                                               return std::string("slow done");
                                             })
                          .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("CallSlow",
                                    [&](OrchestrationContext& ctx, std::string) {
                                      auto r = ctx.schedule_activity("Slow", "").into_activity();
                                      steps.add();
                                      ctx.schedule_wait("never").into_event();
                                      return r.value();
                                    })
            .build();
    Harness h(activities, orchestrations);
    h.client().start_orchestration("c", "CallSlow", "").value();
    REQUIRE(runs.wait_for(1));
    REQUIRE(h.client().suspend_instance("c", "hold"));
    REQUIRE(h.flush_messages("c"));
    REQUIRE(h.client().get_orchestration_status("c").value().is_suspended());
    release.add();  // the activity finishes while the instance is suspended
    REQUIRE(h.wait_for_events("c", EventKind::ActivityCompleted));
    REQUIRE(h.client().cancel_instance("c", "no longer needed"));
    REQUIRE(h.flush_messages("c"));
    CHECK(steps.value() == 0);
    CHECK(h.client().get_orchestration_status("c").value().is_running());

    REQUIRE(h.client().resume_instance("c", "go"));
    auto status = h.wait("c");
    REQUIRE(status.is_failed());
    CHECK(status.details().display_message() == "canceled: no longer needed");
    CHECK(steps.value() == 1);  // the held result reached the code before the held cancel
    CHECK(runs.value() == 1);
  }

  TEST_CASE("suspend and resume of finished or missing instances") {
    Counter steps, runs;
    Harness h(echo(runs), two_events(steps));
    CHECK(h.client().suspend_instance("nobody", "x").error().code == ErrorCode::NotFound);
    CHECK(h.client().resume_instance("nobody", "x").error().code == ErrorCode::NotFound);
    h.client().start_orchestration("f", "TwoEvents", "").value();
    REQUIRE(h.client().raise_event("f", "a", "1"));
    REQUIRE(h.client().raise_event("f", "b", "2"));
    REQUIRE(h.wait("f").is_completed());
    const auto before = h.store()->read_history("f", 1).value();
    CHECK(h.client().suspend_instance("f", "late"));
    CHECK(h.client().resume_instance("f", "late"));
    CHECK(h.store()->read_history("f", 1).value() == before);
    CHECK_FALSE(h.client().get_orchestration_status("f").value().is_suspended());
  }

  TEST_CASE("a second suspend and a resume without a suspension record nothing") {
    Counter steps, runs;
    Harness h(echo(runs), two_events(steps));
    h.client().start_orchestration("d", "TwoEvents", "").value();
    REQUIRE(h.wait_for_events("d", EventKind::EventSubscribed));
    REQUIRE(h.client().resume_instance("d", "not suspended"));
    REQUIRE(h.client().suspend_instance("d", "one"));
    REQUIRE(h.client().suspend_instance("d", "two"));
    REQUIRE(h.flush_messages("d"));
    const auto kinds = kinds_of(h.store()->read_history("d", 1).value());
    CHECK(std::count(kinds.begin(), kinds.end(), EventKind::ExecutionSuspended) == 1);
    CHECK(std::count(kinds.begin(), kinds.end(), EventKind::ExecutionResumed) == 0);
    CHECK(h.client().get_orchestration_status("d").value().is_suspended());
  }

  TEST_CASE(
      "a suspend queued behind an event waits for that turn; the next execution is suspended") {
    Counter steps;
    auto orchs = OrchestrationRegistry::builder()
                     .register_orchestration(
                         "Loop",
                         [&](OrchestrationContext& ctx, std::string n) -> Result<std::string> {
                           ctx.schedule_wait("tick").into_event();
                           steps.add();
                           if (n.size() < 3) return ctx.continue_as_new(n + "x");
                           return n;
                         })
                     .build();
    Harness h(ActivityRegistry::builder().build(), orchs);
    h.client().start_orchestration("l", "Loop", "").value();
    REQUIRE(h.wait_for_events("l", EventKind::EventSubscribed));
    h.stop();
    REQUIRE(h.client().raise_event("l", "tick", ""));
    REQUIRE(h.client().suspend_instance("l", "hold"));
    h.start();
    REQUIRE(h.wait_until(
        [&] { return h.client().get_orchestration_status("l").value().is_suspended(); }));
    CHECK(steps.value() == 1);  // the tick queued before the suspend ran; nothing after it
    CHECK(h.client().get_instance_info("l").value().execution_id == 2);
    // Raised after suspend_instance returned: held by the next execution.
    REQUIRE(h.client().raise_event("l", "tick", ""));
    REQUIRE(h.flush_messages("l"));
    CHECK(h.client().get_orchestration_status("l").value().is_suspended());
    CHECK(steps.value() == 1);
    REQUIRE(h.client().resume_instance("l", "go"));
    REQUIRE(h.wait_until([&] { return steps.value() == 2; }));
  }
}
