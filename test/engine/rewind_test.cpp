// SPDX-License-Identifier: MIT
// Rewind: a Failed instance runs again from its failure; what succeeded is not run again.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "engine/rewind.hpp"
#include "test/testlib/counter.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Counter;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

// Side effects, one counter per call, and a switch that makes "Flaky" fail.
struct World {
  Counter first, kid, flaky, last;
  std::atomic<int> failures_left{0};
  std::atomic<bool> bad_fixed{false};  // "Bad" fails until this is set
};

ActivityRegistry activities(World& w) {
  return ActivityRegistry::builder()
      .register_activity("First",
                         [&w](ActivityContext&, std::string) {
                           w.first.add();
                           return std::string("1");
                         })
      .register_activity("Kid",
                         [&w](ActivityContext&, std::string) {
                           w.kid.add();
                           return std::string("k");
                         })
      .register_activity("Flaky",
                         [&w](ActivityContext&, std::string) -> Result<std::string> {
                           w.flaky.add();
                           if (w.failures_left.fetch_sub(1) > 0) return Err("flaky is broken");
                           return std::string("f");
                         })
      .register_activity("Last",
                         [&w](ActivityContext&, std::string) {
                           w.last.add();
                           return std::string("l");
                         })
      .register_activity("Bad",
                         [&w](ActivityContext&, std::string) -> Result<std::string> {
                           if (!w.bad_fixed) return Err("bad");
                           return std::string("b");
                         })
      .build();
}

// First, a child that calls Kid, Flaky (whose error fails the orchestration), then Last.
OrchestrationRegistry chain() {
  return OrchestrationRegistry::builder()
      .register_orchestration(
          "Chain",
          [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
            auto first = ctx.schedule_activity("First", "").into_activity().value();
            auto kid =
                ctx.schedule_sub_orchestration_with_id("KidOrch", ctx.instance_id() + "-kid", "")
                    .into_sub_orchestration()
                    .value();
            auto flaky = ctx.schedule_activity("Flaky", "").into_activity();
            if (!flaky) return Err("flaky failed: " + flaky.error());
            auto last = ctx.schedule_activity("Last", "").into_activity().value();
            return first + kid + flaky.value() + last;
          })
      .register_orchestration("KidOrch",
                              [](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_activity("Kid", "").into_activity();
                              })
      // The same shape with Flaky called in the child: the child fails, then the parent.
      .register_orchestration("Parent",
                              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                                auto first =
                                    ctx.schedule_activity("First", "").into_activity().value();
                                auto child = ctx.schedule_sub_orchestration_with_id(
                                                    "FlakyChild", ctx.instance_id() + "-child", "")
                                                 .into_sub_orchestration();
                                if (!child) return Err("child failed: " + child.error());
                                return first + child.value();
                              })
      .register_orchestration("FlakyChild",
                              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                                auto kid = ctx.schedule_activity("Kid", "").into_activity();
                                auto flaky = ctx.schedule_activity("Flaky", "").into_activity();
                                if (!flaky) return Err(flaky.error());
                                return kid.value() + flaky.value();
                              })
      .build();
}

std::size_t count_kind(const std::vector<HistoryEvent>& history, EventKind kind) {
  return static_cast<std::size_t>(std::count_if(
      history.begin(), history.end(), [kind](const HistoryEvent& e) { return e.kind == kind; }));
}

}  // namespace

TEST_SUITE("engine.rewind") {
  TEST_CASE("a rewind re-runs the failed call and what follows it, nothing that succeeded") {
    World w;
    w.failures_left = 1;
    Harness h(activities(w), chain());
    auto status = h.run("r", "Chain", "");
    REQUIRE(status.is_failed());
    CHECK(status.details().message() == "flaky failed: flaky is broken");
    CHECK(w.first.value() == 1);
    CHECK(w.kid.value() == 1);
    CHECK(w.flaky.value() == 1);
    CHECK(w.last.value() == 0);

    h.stop();  // so that nothing runs it before the status is read
    REQUIRE(h.client().rewind_instance("r", "flaky fixed"));
    status = h.client().get_orchestration_status("r").value();
    CHECK(status.is_running());
    h.start();
    status = h.wait("r");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1kfl");
    CHECK(w.first.value() == 1);  // not run again
    CHECK(w.kid.value() == 1);    // the child was not run again either
    CHECK(h.client().get_orchestration_status("r-kid").value().is_completed());
    CHECK(w.flaky.value() == 2);
    CHECK(w.last.value() == 1);

    // The failed attempt stays readable, followed by the rewind with its reason.
    const auto history = h.store()->read_history("r", 1).value();
    const auto failed = std::find_if(history.begin(), history.end(), [](const auto& e) {
      return e.kind == EventKind::OrchestrationFailed;
    });
    REQUIRE(failed != history.end());
    REQUIRE(failed + 1 != history.end());
    CHECK((failed + 1)->kind == EventKind::ExecutionRewound);
    CHECK((failed + 1)->data == "flaky fixed");
    CHECK(history.back().kind == EventKind::OrchestrationCompleted);
    for (std::size_t i = 0; i < history.size(); ++i) CHECK(history[i].event_id == i + 1);
    const std::string json = h.client().read_history_json("r", 1).value();
    CHECK(json.find(R"("kind":"ExecutionRewound")") != std::string::npos);
    CHECK(json.find(R"("reason":"flaky fixed")") != std::string::npos);

    // Replayed by a new runtime, the rewound history gives the same result.
    h.restart();
    REQUIRE(h.flush_messages("r"));
    CHECK(h.client().get_orchestration_status("r").value().output() == "1kfl");
    {
      const auto report = check_store(*h.store()).value();  // the integrity check agrees
      for (const auto& problem : report.problems) MESSAGE(problem.where << ": " << problem.what);
      CHECK(report.ok());
    }
  }

  TEST_CASE("an instance can fail and be rewound more than once") {
    World w;
    w.failures_left = 2;
    Harness h(activities(w), chain());
    REQUIRE(h.run("twice", "Chain", "").is_failed());
    REQUIRE(h.client().rewind_instance("twice", "try again"));
    REQUIRE(h.wait("twice").is_failed());
    REQUIRE(h.client().rewind_instance("twice", "and again"));
    auto status = h.wait("twice");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1kfl");
    CHECK(w.first.value() == 1);
    CHECK(w.kid.value() == 1);
    CHECK(w.flaky.value() == 3);
    const auto history = h.store()->read_history("twice", 1).value();
    CHECK(count_kind(history, EventKind::ExecutionRewound) == 2);
    CHECK(count_kind(history, EventKind::OrchestrationFailed) == 2);
    {
      const auto report = check_store(*h.store()).value();  // the integrity check agrees
      for (const auto& problem : report.problems) MESSAGE(problem.where << ": " << problem.what);
      CHECK(report.ok());
    }
  }

  TEST_CASE("rewinding a parent rewinds the failed child it waits for") {
    World w;
    w.failures_left = 1;
    Harness h(activities(w), chain());
    REQUIRE(h.run("p", "Parent", "").is_failed());
    REQUIRE(h.client().get_orchestration_status("p-child").value().is_failed());
    REQUIRE(h.client().rewind_instance("p", "fixed"));
    auto status = h.wait("p");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1kf");
    CHECK(h.client().get_orchestration_status("p-child").value().is_completed());
    CHECK(w.first.value() == 1);
    CHECK(w.kid.value() == 1);  // the child's successful call is not run again
    CHECK(w.flaky.value() == 2);
  }

  TEST_CASE("rewind after a fix: an unregistered activity") {
    World w;
    RuntimeOptions options = testlib::quiet_options();
    options.unregistered_retries = 1;
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("UsesLate",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto a = ctx.schedule_activity("First", "").into_activity();
                                      auto b = ctx.schedule_activity("Late", "").into_activity();
                                      return a.value() + b.value();
                                    })
            .build();
    Harness h(activities(w), orchestrations, options);
    auto status = h.run("u", "UsesLate", "");
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "UnregisteredActivity");
    h.stop();
    // The fix: a build that registers the activity.
    auto fixed = ActivityRegistry::builder()
                     .register_activity("First",
                                        [&w](ActivityContext&, std::string) {
                                          w.first.add();
                                          return std::string("1");
                                        })
                     .register_activity(
                         "Late", [](ActivityContext&, std::string) { return std::string("late"); })
                     .build();
    auto runtime = Runtime::start_with_options(h.store(), fixed, orchestrations, options);
    REQUIRE(h.client().rewind_instance("u", "registered Late"));
    status = h.wait("u");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1late");
    CHECK(w.first.value() == 1);
  }

  TEST_CASE("rewind after a fix: a poisoned activity") {
    World w;
    Counter hung;
    auto hanging = ActivityRegistry::builder()
                       .register_activity("First",
                                          [&w](ActivityContext&, std::string) {
                                            w.first.add();
                                            return std::string("1");
                                          })
                       .register_activity("Crashy",
                                          [&hung](ActivityContext& ctx, std::string) {
                                            hung.add();
                                            while (!ctx.is_cancelled()) {
                                              std::this_thread::sleep_for(2ms);
                                            }
                                            return std::string("stopped");
                                          })
                       .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("UsesCrashy",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto a = ctx.schedule_activity("First", "").into_activity();
                                      auto b = ctx.schedule_activity("Crashy", "").into_activity();
                                      return a.value() + b.value();
                                    })
            .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_attempts = 1;
    Harness h(hanging, orchestrations, options);
    h.client().start_orchestration("poisoned", "UsesCrashy", "").value();
    REQUIRE(hung.wait_for(1));
    h.stop(0ms);  // as if the activity had crashed the process
    h.start();    // the next delivery is over max_attempts: the instance fails as Poison
    auto status = h.wait("poisoned");
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "Poison");
    h.stop();
    auto fixed = ActivityRegistry::builder()
                     .register_activity("First",
                                        [&w](ActivityContext&, std::string) {
                                          w.first.add();
                                          return std::string("1");
                                        })
                     .register_activity("Crashy", [](ActivityContext&,
                                                     std::string) { return std::string("calm"); })
                     .build();
    auto runtime = Runtime::start_with_options(h.store(), fixed, orchestrations, options);
    REQUIRE(h.client().rewind_instance("poisoned", "Crashy fixed"));
    status = h.wait("poisoned");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1calm");
    CHECK(w.first.value() == 1);
  }

  TEST_CASE("rewind after a fix: a nondeterministic code change") {
    World w;
    auto code = [](std::string second) {
      return OrchestrationRegistry::builder()
          .register_orchestration("Steps",
                                  [second](OrchestrationContext& ctx, std::string) {
                                    auto a = ctx.schedule_activity("First", "").into_activity();
                                    ctx.schedule_wait("go").into_event();
                                    auto b = ctx.schedule_activity(second, "").into_activity();
                                    return a.value() + b.value();
                                  })
          .build();
    };
    Harness h(activities(w), code("Last"));
    h.client().start_orchestration("n", "Steps", "").value();
    REQUIRE(h.wait_for_events("n", EventKind::EventSubscribed));
    h.stop();
    // A build whose code calls another activity first: replay diverges.
    auto changed = OrchestrationRegistry::builder()
                       .register_orchestration(
                           "Steps",
                           [](OrchestrationContext& ctx, std::string) {
                             auto ignored = ctx.schedule_activity("Kid", "").into_activity();
                             (void)ignored;
                             return std::string("never");
                           })
                       .build();
    {
      auto runtime =
          Runtime::start_with_options(h.store(), activities(w), changed, testlib::quiet_options());
      REQUIRE(h.client().raise_event("n", "go", ""));
      auto status = h.wait("n");
      REQUIRE(status.is_failed());
      CHECK(status.details().kind() == "Nondeterminism");
    }
    // The fix: the original code again.
    auto runtime = Runtime::start_with_options(h.store(), activities(w), code("Last"),
                                               testlib::quiet_options());
    REQUIRE(h.client().rewind_instance("n", "reverted the change"));
    auto status = h.wait("n");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1l");
    CHECK(w.first.value() == 1);
    CHECK(w.kid.value() == 0);
  }

  TEST_CASE("rewind of an instance that is not Failed is InvalidArgument; a missing one NotFound") {
    World w;
    Harness h(activities(w), chain());
    CHECK(h.client().rewind_instance("none", "x").error().code == ErrorCode::NotFound);
    REQUIRE(h.run("ok", "KidOrch", "").is_completed());
    auto refused = h.client().rewind_instance("ok", "x");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("events_in_effect sets aside each rewound attempt and its held stops") {
    auto event = [](std::uint64_t id, EventKind kind, std::uint64_t source = 0) {
      HistoryEvent e;
      e.event_id = id;
      e.kind = kind;
      e.source_id = source;
      return e;
    };
    std::vector<HistoryEvent> history = {
        event(1, EventKind::OrchestrationStarted), event(2, EventKind::ActivityScheduled),
        event(3, EventKind::ExecutionSuspended),   event(4, EventKind::CancelRequested, 0),
        event(5, EventKind::ExecutionResumed),     event(6, EventKind::TurnStarted),
        event(7, EventKind::ActivityFailed, 2),    event(8, EventKind::OrchestrationFailed),
        event(9, EventKind::ExecutionRewound, 6),  event(10, EventKind::TurnStarted),
    };
    const auto kept = engine::events_in_effect(history);
    std::vector<std::uint64_t> ids;
    for (const auto& e : kept) ids.push_back(e.event_id);
    CHECK(ids == std::vector<std::uint64_t>{1, 2, 3, 5, 10});
    history.resize(8);
    CHECK(engine::events_in_effect(history) == history);  // no rewind: unchanged
  }

  TEST_CASE(
      "a failure the code handled and went on from is kept; what succeeded after it is not run "
      "again") {
    World w;
    w.failures_left = 1;
    auto acts = activities(w);
    auto orchs = OrchestrationRegistry::builder()
                     .register_orchestration(
                         "Handled",
                         [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                           auto a = ctx.schedule_activity("Flaky", "").into_activity();  // handled
                           auto f = ctx.schedule_activity("First", "").into_activity().value();
                           auto b = ctx.schedule_activity("Bad", "").into_activity();
                           if (!b) return Err(b.error());
                           return (a ? a.value() : std::string("-")) + f + b.value();
                         })
                     .build();
    Harness h(acts, orchs);
    REQUIRE(h.run("h1", "Handled", "").is_failed());
    CHECK(w.first.value() == 1);
    w.bad_fixed = true;
    REQUIRE(h.client().rewind_instance("h1", "fixed"));
    auto status = h.wait("h1");
    REQUIRE(status.is_completed());
    CHECK(w.first.value() == 1);  // contract: completed successfully, not run again
    CHECK(w.flaky.value() == 1);  // the handled failure is not re-run either
    CHECK(status.output() == "-1b");
  }

  TEST_CASE("a rewind of a failure that arrived while suspended does not come back suspended") {
    Counter runs, release;
    std::atomic<int> left{1};
    auto acts = ActivityRegistry::builder()
                    .register_activity("SlowFlaky",
                                       [&](ActivityContext&, std::string) -> Result<std::string> {
                                         runs.add();
                                         release.wait_for(1);
                                         if (left.fetch_sub(1) > 0) return Err("broken");
                                         return std::string("ok");
                                       })
                    .build();
    auto orchs = OrchestrationRegistry::builder()
                     .register_orchestration(
                         "SF",
                         [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                           auto r = ctx.schedule_activity("SlowFlaky", "").into_activity();
                           if (!r) return Err(r.error());
                           return r.value();
                         })
                     .build();
    Harness h(acts, orchs);
    h.client().start_orchestration("s", "SF", "").value();
    REQUIRE(runs.wait_for(1));
    REQUIRE(h.client().suspend_instance("s", "hold"));
    REQUIRE(h.flush_messages("s"));
    REQUIRE(h.client().get_orchestration_status("s").value().is_suspended());
    release.add();
    REQUIRE(h.wait_for_events("s", EventKind::ActivityFailed));
    REQUIRE(h.client().resume_instance("s", "go"));
    REQUIRE(h.wait("s").is_failed());
    REQUIRE(h.client().rewind_instance("s", "fixed"));
    auto status = h.client().get_orchestration_status("s").value();
    CHECK_FALSE(status.is_suspended());
    status = h.wait("s");
    CHECK(status.is_completed());
  }

  TEST_CASE("a child the set-aside attempt started can be started again under its id") {
    Counter flaky;
    std::atomic<int> left{1};
    auto acts = ActivityRegistry::builder()
                    .register_activity("Flaky",
                                       [&](ActivityContext&, std::string) -> Result<std::string> {
                                         flaky.add();
                                         if (left.fetch_sub(1) > 0) return Err("broken");
                                         return std::string("f");
                                       })
                    .build();
    auto orchs =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "P",
                [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                  auto r = ctx.schedule_activity("Flaky", "").into_activity();
                  auto note = ctx.schedule_sub_orchestration_with_id(
                                     "Note", ctx.instance_id() + "-note", r ? "ok" : "failed")
                                  .into_sub_orchestration();
                  if (!r) return Err(r.error());
                  if (!note) return Err("note: " + note.error());
                  return r.value() + note.value();
                })
            .register_orchestration(
                "Note", [](OrchestrationContext&, std::string) { return std::string("n"); })
            .build();
    Harness h(acts, orchs);
    REQUIRE(h.run("p", "P", "").is_failed());
    REQUIRE(h.client().rewind_instance("p", "again"));
    auto status = h.wait("p");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "fn");
  }

  TEST_CASE("a child whose start the failed step abandoned is started by the rewind") {
    auto orchs =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "P2",
                [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                  ctx.schedule_wait("go").into_event();
                  auto kid = ctx.schedule_sub_orchestration("Kid2", "").into_sub_orchestration();
                  if (!kid) return Err("kid: " + kid.error());
                  return kid.value();
                })
            .register_orchestration(
                "Kid2", [](OrchestrationContext&, std::string) { return std::string("k"); })
            .build();
    Harness h(ActivityRegistry::builder().build(), orchs);
    h.client().start_orchestration("q", "P2", "").value();
    REQUIRE(h.wait_for_events("q", EventKind::EventSubscribed));
    REQUIRE(h.client().suspend_instance("q", "hold"));
    REQUIRE(h.client().raise_event("q", "go", ""));
    REQUIRE(h.client().cancel_instance("q", "stop"));
    REQUIRE(h.flush_messages("q"));
    REQUIRE(h.client().resume_instance("q", "go"));
    auto status = h.wait("q");
    REQUIRE(status.is_failed());
    CHECK(status.details().display_message() == "canceled: stop");
    auto history = h.store()->read_history("q", 1).value();
    CHECK(count_kind(history, EventKind::SubOrchestrationScheduled) == 1);
    REQUIRE(h.client().rewind_instance("q", "again"));
    status = h.wait("q");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "k");
  }

  TEST_CASE("children rewound with their parent that end before its commit reach it") {
    std::atomic<bool> fail{true};
    auto orchs = OrchestrationRegistry::builder()
                     .register_orchestration(
                         "Many",
                         [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                           std::vector<DurableFuture> kids;
                           for (int i = 0; i < 20; ++i) {
                             kids.push_back(ctx.schedule_sub_orchestration_with_id(
                                 "Once", ctx.instance_id() + "-c" + std::to_string(i), ""));
                           }
                           std::string out;
                           for (auto& k : kids) {
                             auto r = k.into_sub_orchestration();
                             if (!r) return Err("kid failed: " + r.error());
                             out += r.value();
                           }
                           return out;
                         })
                     .register_orchestration(
                         "Once",
                         [&fail](OrchestrationContext&, std::string) -> Result<std::string> {
                           if (fail) throw std::runtime_error("boom");
                           return std::string("k");
                         })
                     .build();
    Harness h(ActivityRegistry::builder().build(), orchs);
    REQUIRE(h.run("m", "Many", "").is_failed());
    for (int i = 0; i < 20; ++i) {
      REQUIRE(h.wait("m-c" + std::to_string(i)).is_failed());
    }
    fail = false;
    REQUIRE(h.client().rewind_instance("m", "again"));
    auto st = h.wait("m");
    REQUIRE(st.is_completed());
    CHECK(st.output() == std::string(20, 'k'));
  }

  TEST_CASE("a divergence found in replay keeps the pending timer for the rewind") {
    auto code = [](bool changed) {
      return OrchestrationRegistry::builder()
          .register_orchestration("TT",
                                  [changed](OrchestrationContext& ctx, std::string) {
                                    if (changed) {
                                      ctx.schedule_timer(2h).into_timer();
                                      return std::string("never");
                                    }
                                    ctx.schedule_timer(1h).into_timer();
                                    return std::string("done");
                                  })
          .build();
    };
    Harness h(ActivityRegistry::builder().build(), code(false));
    h.client().start_orchestration("d", "TT", "").value();
    REQUIRE(h.wait_for_events("d", EventKind::TimerCreated));
    h.stop();
    // The timer fires now, while no runtime runs.
    REQUIRE(testlib::queue_timer_fired(*h.store(), "d"));
    {
      auto runtime = Runtime::start_with_options(h.store(), ActivityRegistry::builder().build(),
                                                 code(true), testlib::quiet_options());
      auto status = h.wait("d");
      REQUIRE(status.is_failed());
      CHECK(status.details().kind() == "Nondeterminism");
    }
    auto history = h.store()->read_history("d", 1).value();
    CHECK(count_kind(history, EventKind::TimerFired) == 1);
    auto runtime = Runtime::start_with_options(h.store(), ActivityRegistry::builder().build(),
                                               code(false), testlib::quiet_options());
    REQUIRE(h.client().rewind_instance("d", "reverted"));
    CHECK(h.wait("d").is_completed());
  }

  TEST_CASE("a retried call that succeeded is not run again by a rewind of a later failure") {
    World w;
    w.failures_left = 1;
    auto acts = activities(w);
    auto orchs = OrchestrationRegistry::builder()
                     .register_orchestration(
                         "Retried",
                         [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                           auto a = ctx.schedule_activity_with_retry("Flaky", "", RetryPolicy(3))
                                        .into_activity()
                                        .value();
                           auto f = ctx.schedule_activity("First", "").into_activity().value();
                           auto b = ctx.schedule_activity("Bad", "").into_activity();
                           if (!b) return Err(b.error());
                           return a + f + b.value();
                         })
                     .build();
    Harness h(acts, orchs);
    REQUIRE(h.run("r9", "Retried", "").is_failed());
    CHECK(w.flaky.value() == 2);
    w.bad_fixed = true;
    REQUIRE(h.client().rewind_instance("r9", "fixed"));
    REQUIRE(h.wait("r9").is_completed());
    CHECK(w.flaky.value() == 2);
    CHECK(w.first.value() == 1);
  }
}
