// SPDX-License-Identifier: MIT
// Cancellation: Client::cancel_instance ends a running instance and tells its activities.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "test/testlib/commit_watcher.hpp"
#include "test/testlib/counter.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::CommitWatcher;
using duroxide::testlib::Counter;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

OrchestrationRegistry waiting() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Wait",
                              [](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_wait("Never").into_event();
                              })
      .build();
}

}  // namespace

TEST_SUITE("engine.cancel") {
  TEST_CASE("a cancelled instance fails as Application/Cancelled with the reason") {
    Harness h(ActivityRegistry::builder().build(), waiting());
    h.client().start_orchestration("c", "Wait", "").value();
    REQUIRE(h.wait_for_events("c", EventKind::EventSubscribed));
    REQUIRE(h.client().cancel_instance("c", "user_request"));
    auto status = h.wait("c");
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Application);
    CHECK(status.details().kind() == "Cancelled");
    CHECK(status.details().display_message() == "canceled: user_request");
    auto history = h.store()->read_history("c", 1).value();
    CHECK(history.back().kind == EventKind::OrchestrationFailed);
    CHECK(history.back().name == "Cancelled");
  }

  TEST_CASE("a cancel that arrives while the code swallows exceptions still ends it") {
    auto orchestrations = OrchestrationRegistry::builder()
                              .register_orchestration("Stubborn",
                                                      [](OrchestrationContext& ctx, std::string) {
                                                        try {
                                                          ctx.schedule_wait("Never").into_event();
                                                        } catch (...) {
                                                        }
                                                        return std::string("ignored the cancel");
                                                      })
                              .build();
    Harness h(ActivityRegistry::builder().build(), orchestrations);
    h.client().start_orchestration("s", "Stubborn", "").value();
    REQUIRE(h.wait_for_events("s", EventKind::EventSubscribed));
    REQUIRE(h.client().cancel_instance("s", "stop"));
    auto status = h.wait("s");
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "Cancelled");
  }

  TEST_CASE("cancelling a finished instance does nothing; a missing one is NotFound") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Quick", [](OrchestrationContext&, std::string) { return std::string("done"); })
            .build();
    Harness h(ActivityRegistry::builder().build(), orchestrations);
    REQUIRE(h.run("q", "Quick", "").is_completed());
    CHECK(h.client().cancel_instance("q", "late"));
    REQUIRE(h.flush_messages("q"));  // had the cancel queued anything, it is taken by now
    auto status = h.client().get_orchestration_status("q").value();
    CHECK(status.is_completed());
    CHECK(status.output() == "done");
    CHECK(h.client().cancel_instance("nobody", "x").error().code == ErrorCode::NotFound);
  }

  TEST_CASE("running activities of a cancelled instance see is_cancelled turn true") {
    Counter started;
    Counter saw_cancel;
    auto activities =
        ActivityRegistry::builder()
            .register_activity("Long",
                               [&](ActivityContext& ctx, std::string) {
                                 started.add();
                                 // is_cancelled has no notification: the activity polls it.
                                 for (int i = 0; i < 1000 && !ctx.is_cancelled(); ++i) {
                                   std::this_thread::sleep_for(10ms);
                                 }
                                 if (ctx.is_cancelled()) saw_cancel.add();
                                 return std::string("late result");
                               })
            .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Work",
                [](OrchestrationContext& ctx, std::string) {
                  return ctx.schedule_activity("Long", "").into_activity().value();
                })
            .build();
    Harness h(activities, orchestrations);
    h.client().start_orchestration("w", "Work", "").value();
    REQUIRE(started.wait_for(1));
    const auto begin = std::chrono::steady_clock::now();
    REQUIRE(h.client().cancel_instance("w", "enough"));
    REQUIRE(h.wait("w").is_failed());
    CHECK(saw_cancel.wait_for(1, 5s));
    CHECK(std::chrono::steady_clock::now() - begin < 5s);
    // The late result is dropped: the instance stays cancelled. Stopping the runtime waits
    // for the activity to return and for what its result leads to.
    h.stop();
    CHECK(h.client().get_orchestration_status("w").value().details().kind() == "Cancelled");
  }
}

TEST_SUITE("engine.cancel") {
  TEST_CASE(
      "regression: a cancel queued with the start reaches an execution that continues at once") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Loop",
                [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
                  if (input == "first") return ctx.continue_as_new("second");
                  return ctx.schedule_wait("Never").into_event();
                })
            .build();
    auto store = LmdbProvider::open_temporary().value();
    Client client(store);
    client.start_orchestration("loop", "Loop", "first").value();
    client.cancel_instance("loop", "early").value();  // both queued before any runtime runs
    auto runtime = Runtime::start_with_options(store, ActivityRegistry::builder().build(),
                                               orchestrations, testlib::quiet_options());
    auto status = client.wait_for_orchestration("loop", 10s).value();
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "Cancelled");
  }

  TEST_CASE("regression: work scheduled in the step that sees the cancel does not start") {
    std::atomic<int> charged{0};
    auto activities = ActivityRegistry::builder()
                          .register_activity("Charge",
                                             [&charged](ActivityContext&, std::string) {
                                               ++charged;
                                               return std::string("charged");
                                             })
                          .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Pay",
                [](OrchestrationContext& ctx, std::string) {
                  return ctx.schedule_activity("Charge", "").into_activity().value();
                })
            .build();
    auto store = LmdbProvider::open_temporary().value();
    Client client(store);
    client.start_orchestration("pay", "Pay", "").value();
    client.cancel_instance("pay", "changed my mind").value();
    auto watcher = std::make_shared<CommitWatcher>(store);
    auto runtime =
        Runtime::start_with_options(watcher, activities, orchestrations, testlib::quiet_options());
    auto status = client.wait_for_orchestration("pay", 10s).value();
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "Cancelled");
    runtime->shutdown();  // returns once every activity it started has returned
    CHECK(charged == 0);
    for (const auto& commit : watcher->commits()) CHECK(commit.activities.empty());  // none queued
  }
}
