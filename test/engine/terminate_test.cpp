// SPDX-License-Identifier: MIT
// Terminate: the instance ends without running its code; children and activities follow.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/testlib/counter.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Counter;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

struct Probes {
  Counter activity_started;
  Counter activity_cancelled;
  Counter code_after_wait;  // the parent's code ran past its wait
};

// The parent starts a child that waits forever and an activity that runs until cancelled,
// then waits for both.
OrchestrationRegistry family(Probes& p) {
  return OrchestrationRegistry::builder()
      .register_orchestration("Parent",
                              [&p](OrchestrationContext& ctx, std::string) {
                                auto child = ctx.schedule_sub_orchestration_with_id(
                                    "Child", "child-of-t", "");
                                auto work = ctx.schedule_activity("Work", "");
                                std::vector<DurableFuture> both;
                                both.push_back(std::move(child));
                                both.push_back(std::move(work));
                                ctx.join(std::move(both));
                                p.code_after_wait.add();
                                return std::string("parent done");
                              })
      .register_orchestration("Child",
                              [](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_wait("never").into_event();
                              })
      .build();
}

ActivityRegistry cancellable(Probes& p) {
  return ActivityRegistry::builder()
      .register_activity("Work",
                         [&p](ActivityContext& ctx, std::string) {
                           p.activity_started.add();
                           while (!ctx.is_cancelled()) std::this_thread::sleep_for(2ms);
                           p.activity_cancelled.add();
                           return std::string("stopped");
                         })
      .build();
}

}  // namespace

TEST_SUITE("engine.terminate") {
  TEST_CASE("terminate fails the instance, terminates its child and cancels its activity") {
    Probes p;
    Harness h(cancellable(p), family(p));
    h.client().start_orchestration("t", "Parent", "").value();
    REQUIRE(p.activity_started.wait_for(1));
    REQUIRE(h.wait_until([&] {
      return testlib::count_events(*h.store(), "child-of-t", EventKind::EventSubscribed) == 1;
    }));
    REQUIRE(h.client().terminate_instance("t", "operator said so"));
    auto status = h.wait("t");
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Application);
    CHECK(status.details().kind() == "Terminated");
    CHECK(status.details().display_message() == "terminated: operator said so");
    auto child = h.wait("child-of-t");
    REQUIRE(child.is_failed());
    CHECK(child.details().display_message() == "terminated: parent terminated");
    CHECK(p.activity_cancelled.wait_for(1));
    CHECK(p.code_after_wait.value() == 0);
    const auto history = h.store()->read_history("t", 1).value();
    CHECK(history.back().kind == EventKind::OrchestrationFailed);
    CHECK(history.back().name == "Terminated");
    CHECK(history.back().data == "operator said so");
  }

  TEST_CASE("terminate works on a suspended instance and on one not in memory") {
    Probes p;
    Harness h(cancellable(p), family(p));
    h.client().start_orchestration("ts", "Child", "").value();
    REQUIRE(h.wait_for_events("ts", EventKind::EventSubscribed));
    REQUIRE(h.client().suspend_instance("ts", "hold"));
    REQUIRE(h.flush_messages("ts"));
    REQUIRE(h.client().get_orchestration_status("ts").value().is_suspended());
    // Stopped runtime: the next one meets the terminate before any replay.
    h.stop();
    REQUIRE(h.client().terminate_instance("ts", "gone"));
    h.start();
    auto status = h.wait("ts");
    REQUIRE(status.is_failed());
    CHECK(status.details().display_message() == "terminated: gone");
    CHECK_FALSE(status.is_suspended());
    CHECK_FALSE(h.client().get_instance_info("ts").value().suspended);
    {
      const auto report = check_store(*h.store()).value();  // the integrity check agrees
      for (const auto& problem : report.problems) MESSAGE(problem.where << ": " << problem.what);
      CHECK(report.ok());
    }
  }

  TEST_CASE("terminating a finished instance changes nothing; a missing one is NotFound") {
    Probes p;
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Quick", [](OrchestrationContext&, std::string) { return std::string("ok"); })
            .build();
    Harness h(cancellable(p), orchestrations);
    REQUIRE(h.run("q", "Quick", "").is_completed());
    const auto before = h.store()->read_history("q", 1).value();
    CHECK(h.client().terminate_instance("q", "late"));
    REQUIRE(h.flush_messages("q"));
    CHECK(h.client().get_orchestration_status("q").value().is_completed());
    CHECK(h.store()->read_history("q", 1).value() == before);
    CHECK(h.client().terminate_instance("none", "x").error().code == ErrorCode::NotFound);
  }

  TEST_CASE("terminate of an instance not in memory keeps the results it never saw") {
    auto orchs = OrchestrationRegistry::builder()
                     .register_orchestration("T",
                                             [](OrchestrationContext& ctx, std::string) {
                                               ctx.schedule_timer(1h).into_timer();
                                               return std::string("done");
                                             })
                     .build();
    Harness h(ActivityRegistry::builder().build(), orchs);
    h.client().start_orchestration("t", "T", "").value();
    REQUIRE(h.wait_for_events("t", EventKind::TimerCreated));
    h.stop();
    // The timer fires now, while no runtime runs.
    REQUIRE(testlib::queue_timer_fired(*h.store(), "t"));
    REQUIRE(h.client().terminate_instance("t", "stop"));
    h.start();
    REQUIRE(h.wait("t").is_failed());
    auto history = h.store()->read_history("t", 1).value();
    CHECK(std::count_if(history.begin(), history.end(),
                        [](const auto& e) { return e.kind == EventKind::TimerFired; }) == 1);
    REQUIRE(h.client().rewind_instance("t", "again"));
    CHECK(h.wait("t").is_completed());
  }
}
