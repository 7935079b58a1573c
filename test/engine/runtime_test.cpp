// SPDX-License-Identifier: MIT
// The runtime end to end on a temporary store.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "engine/instance.hpp"
#include "test/testlib/counter.hpp"
#include "test/testlib/faulty_provider.hpp"
#include "test/testlib/harness.hpp"
#include "test/testlib/process_cpu.hpp"

using namespace duroxide;
using duroxide::testlib::count_log_lines;
using duroxide::testlib::Counter;
using duroxide::testlib::Harness;
using duroxide::testlib::process_cpu_seconds;
using duroxide::testlib::quiet_options;
using namespace std::chrono_literals;

namespace {

ActivityRegistry echo_activities() {
  return ActivityRegistry::builder()
      .register_activity("Echo", [](ActivityContext&, std::string in) { return in; })
      .register_activity("Fail",
                         [](ActivityContext&, std::string in) -> Result<std::string> {
                           return Err("failed: " + in);
                         })
      .register_activity(
          "Throw",
          [](ActivityContext&, std::string) -> std::string { throw std::runtime_error("thrown"); })
      .build();
}

// Chains `input` activities, each echoing the running text plus its index.
std::string chain(OrchestrationContext& ctx, std::string input) {
  std::string text;
  const int steps = std::stoi(input);
  for (int i = 0; i < steps; ++i) {
    text = ctx.schedule_activity("Echo", text + std::to_string(i)).into_activity().value();
  }
  return text;
}

// A runtime frees its instances before its destructor returns: none may outlive it.
void check_no_live_instances() { CHECK(engine::Instance::live_count() == 0); }

}  // namespace

TEST_SUITE("engine.runtime") {
  TEST_CASE("chained activities complete, leaving no fibers behind") {
    {
      Harness h(echo_activities(),
                OrchestrationRegistry::builder().register_orchestration("Chain", chain).build());
      std::vector<std::string> ids;
      for (int i = 0; i < 20; ++i) {
        ids.push_back("chain-" + std::to_string(i));
        h.client().start_orchestration(ids.back(), "Chain", "5").value();
      }
      for (auto& id : ids) {
        auto status = h.wait(id);
        REQUIRE(status.is_completed());
        CHECK(status.output() == "01234");
      }
    }
    check_no_live_instances();
  }

  TEST_CASE("evicted instances replay and give the same results as parked ones") {
    std::atomic<int> invocations{0};
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Count",
                                    [&invocations](OrchestrationContext& ctx, std::string in) {
                                      ++invocations;
                                      return chain(ctx, in);
                                    })
            .build();
    // Thread counts are pinned: the test compares runs at 1 and 4 threads with each other.
    auto run_all = [&](std::size_t parked, std::size_t threads) {
      invocations = 0;
      auto options = quiet_options(threads);
      options.max_parked_instances = parked;
      Harness h(echo_activities(), orchestrations, options);
      std::vector<std::string> outputs;
      for (int i = 0; i < 30; ++i) {
        h.client().start_orchestration("n-" + std::to_string(i), "Count", "6").value();
      }
      for (int i = 0; i < 30; ++i) outputs.push_back(h.wait("n-" + std::to_string(i)).output());
      return outputs;
    };
    auto parked = run_all(1000, 1);
    CHECK(invocations == 30);  // every instance ran once: each step resumed its parked fiber
    auto evicted = run_all(1, 1);
    CHECK(invocations > 30);  // evicted instances ran their function again, replaying
    CHECK(evicted == parked);
    auto evicted4 = run_all(4, 4);
    CHECK(evicted4 == parked);
    check_no_live_instances();
  }

  TEST_CASE("activity failures and exceptions reach the orchestration as errors") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Errors",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto a = ctx.schedule_activity("Fail", "x").into_activity();
                                      auto b = ctx.schedule_activity("Throw", "").into_activity();
                                      return a.error() + "|" + b.error();
                                    })
            .build();
    Harness h(echo_activities(), orchestrations);
    auto status = h.run("e", "Errors", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "failed: x|thrown");
  }

  TEST_CASE("failures of the orchestration itself are durable with category and kind") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Err",
                                    [](OrchestrationContext&, std::string) -> Result<std::string> {
                                      return Err("bad input");
                                    })
            .register_orchestration("Question",
                                    [](OrchestrationContext& ctx, std::string) {
                                      return ctx.schedule_activity("Fail", "q")
                                          .into_activity()
                                          .value();  // throws ResultError
                                    })
            .register_orchestration("Panic",
                                    [](OrchestrationContext&, std::string) -> std::string {
                                      throw std::runtime_error("boom");
                                    })
            .build();
    auto options = quiet_options();
    options.unregistered_retries = 1;  // keeps the unregistered case short
    Harness h(echo_activities(), orchestrations, options);
    auto err = h.run("err", "Err", "");
    REQUIRE(err.is_failed());
    CHECK(err.details().category() == ErrorCategory::Application);
    CHECK(err.details().kind() == "OrchestrationFailed");
    CHECK(err.details().message() == "bad input");
    auto question = h.run("q", "Question", "");
    REQUIRE(question.is_failed());
    CHECK(question.details().kind() == "OrchestrationFailed");
    CHECK(question.details().message() == "failed: q");
    auto panic = h.run("p", "Panic", "");
    REQUIRE(panic.is_failed());
    CHECK(panic.details().kind() == "Panicked");
    CHECK(panic.details().display_message() == "orchestration panicked: boom");
    auto missing = h.run("m", "NotRegistered", "");
    REQUIRE(missing.is_failed());
    CHECK(missing.details().category() == ErrorCategory::Configuration);
    CHECK(missing.details().kind() == "UnregisteredOrchestration");
  }

  TEST_CASE("a durable timer waits at least its delay") {
    auto orchestrations = OrchestrationRegistry::builder()
                              .register_orchestration("Sleep",
                                                      [](OrchestrationContext& ctx, std::string) {
                                                        ctx.schedule_timer(300ms).into_timer();
                                                        return std::string("woke");
                                                      })
                              .build();
    Harness h(echo_activities(), orchestrations);
    const auto begin = std::chrono::steady_clock::now();
    auto status = h.run("t", "Sleep", "");
    const auto took = std::chrono::steady_clock::now() - begin;
    REQUIRE(status.is_completed());
    CHECK(status.output() == "woke");
    CHECK(took >= 290ms);
    CHECK(took < 5s);
  }

  TEST_CASE("events raised before and after the wait are both received") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Two",
                                    [](OrchestrationContext& ctx, std::string) {
                                      ctx.schedule_timer(200ms).into_timer();
                                      auto early = ctx.schedule_wait("Go").into_event();
                                      auto late = ctx.schedule_wait("Go").into_event();
                                      return early + "+" + late;
                                    })
            .build();
    Harness h(echo_activities(), orchestrations);
    h.client().start_orchestration("ev", "Two", "").value();
    h.client().raise_event("ev", "Go", "early").value();  // before the first wait exists
    REQUIRE(h.wait_for_events("ev", EventKind::EventSubscribed, 2));  // both waits scheduled
    CHECK(h.client().get_orchestration_status("ev").value().is_running());
    h.client().raise_event("ev", "Go", "late").value();
    auto status = h.wait("ev");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "early+late");
  }

  TEST_CASE("restart: an instance waiting on a timer completes under a new runtime") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Nap",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto a = ctx.schedule_activity("Echo", "a").into_activity();
                                      ctx.schedule_timer(500ms).into_timer();
                                      return a.value() + "b";
                                    })
            .build();
    Harness h(echo_activities(), orchestrations);
    h.client().start_orchestration("nap", "Nap", "").value();
    REQUIRE(h.wait_for_events("nap", EventKind::TimerCreated));  // the activity is done
    h.stop();
    CHECK(h.client().get_orchestration_status("nap").value().is_running());
    h.start();
    auto status = h.wait("nap");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ab");
  }

  TEST_CASE("a second runtime on the same store is refused with Busy") {
    Harness h(echo_activities(), OrchestrationRegistry::builder().build());
    auto second =
        Runtime::try_start(h.store(), echo_activities(), OrchestrationRegistry::builder().build());
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code == ErrorCode::Busy);
    CHECK_THROWS_AS(Runtime::start_with_store(h.store(), echo_activities(),
                                              OrchestrationRegistry::builder().build()),
                    ResultError);
  }

  TEST_CASE("a nondeterministic change of code fails the instance and keeps its history") {
    std::atomic<bool> changed{false};
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Drift",
                                    [&changed](OrchestrationContext& ctx, std::string) {
                                      const char* name = changed ? "Other" : "Echo";
                                      // The call is what replay compares, not its output.
                                      (void)ctx.schedule_activity(name, "x").into_activity();
                                      ctx.schedule_wait("Next").into_event();
                                      return std::string("done");
                                    })
            .build();
    auto options = quiet_options();
    Harness h(echo_activities(), orchestrations, options);
    h.client().start_orchestration("drift", "Drift", "").value();
    REQUIRE(h.wait_for_events("drift", EventKind::EventSubscribed));
    h.stop();  // the parked fiber is gone: the next event replays
    auto before = h.store()->read_history("drift", 1).value();
    changed = true;
    h.start();
    h.client().raise_event("drift", "Next", "").value();
    auto status = h.wait("drift");
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "Nondeterminism");
    CHECK(status.details().category() == ErrorCategory::Configuration);
    CHECK(status.details().message().find("\"Other\"") != std::string::npos);
    auto after = h.store()->read_history("drift", 1).value();
    REQUIRE(after.size() > before.size());
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(after[i] == before[i]);
    CHECK(after.back().kind == EventKind::OrchestrationFailed);
  }
}

TEST_SUITE("engine.runtime") {
  TEST_CASE("an idle runtime with parked instances and a pending timer uses no CPU") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Idle",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto wake = ctx.schedule_timer(std::chrono::hours(1));
                                      auto go = ctx.schedule_wait("Go");
                                      ctx.select2(std::move(wake), std::move(go));
                                      return std::string("done");
                                    })
            .build();
    // Four threads on purpose: every one of them must sleep, whatever the matrix runs.
    Harness h(echo_activities(), orchestrations, quiet_options(4));
    for (int i = 0; i < 10; ++i) {
      h.client().start_orchestration("idle-" + std::to_string(i), "Idle", "").value();
    }
    for (int i = 0; i < 10; ++i) {  // all parked on their waits
      REQUIRE(h.wait_for_events("idle-" + std::to_string(i), EventKind::EventSubscribed));
    }
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(2s);  // real idle time is what is measured
    const double used = process_cpu_seconds() - before;
    MESSAGE("CPU used while idle for 2 s: " << used << " s");
    CHECK(used < 0.1);  // a spinning scheduler would use ~4 s here (2 cores)
    h.client().raise_event("idle-0", "Go", "").value();
    CHECK(h.wait("idle-0").output() == "done");
  }
}

TEST_SUITE("engine.runtime") {
  TEST_CASE("shutdown with a grace period asks running activities to stop") {
    std::atomic<bool> saw_cancel{false};
    Counter runs;
    auto activities =
        ActivityRegistry::builder()
            .register_activity("Patient",
                               [&](ActivityContext& ctx, std::string) -> Result<std::string> {
                                 if (runs.add() > 1) return std::string("second run");
                                 // is_cancelled has no notification: the activity polls it.
                                 for (int i = 0; i < 1000 && !ctx.is_cancelled(); ++i) {
                                   std::this_thread::sleep_for(10ms);
                                 }
                                 saw_cancel = ctx.is_cancelled();
                                 return Err("cancelled");
                               })
            .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Long",
                [](OrchestrationContext& ctx, std::string) {
                  return ctx.schedule_activity("Patient", "").into_activity().value();
                })
            .build();
    auto store = LmdbProvider::open_temporary().value();
    auto runtime = Runtime::start_with_options(store, activities, orchestrations, quiet_options());
    Client(store).start_orchestration("long", "Long", "").value();
    REQUIRE(runs.wait_for(1));
    REQUIRE(runs.value() == 1);
    const auto begin = std::chrono::steady_clock::now();
    runtime->shutdown(100ms);
    CHECK(std::chrono::steady_clock::now() - begin < 3s);
    CHECK(saw_cancel);
    // The cancelled run's error was discarded: the next runtime runs the activity again.
    runtime = Runtime::start_with_options(store, activities, orchestrations, quiet_options());
    auto status = Client(store).wait_for_orchestration("long", 10s).value();
    REQUIRE(status.is_completed());
    CHECK(status.output() == "second run");
    CHECK(runs.value() == 2);
  }
}

TEST_SUITE("engine.runtime") {
  TEST_CASE(
      "a failed step commit is retried from the store, even if the code swallows the unwind") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Stubborn",
                [](OrchestrationContext& ctx, std::string) {
                  std::string a = "lost";
                  try {
                    a = ctx.schedule_activity("Echo", "a").into_activity().value();
                  } catch (...) {
                    // Swallows everything, the engine's unwind included.
                  }
                  auto b = ctx.schedule_activity("Echo", "b").into_activity();
                  return a + b.value_or("?");
                })
            .build();
    auto store = LmdbProvider::open_temporary().value();
    auto faulty = std::make_shared<testlib::FaultyProvider>(store, [](const WriteBatch& batch) {
      return !batch.history.empty() &&
             batch.history.front().kind == EventKind::OrchestrationStarted;
    });
    auto runtime =
        Runtime::start_with_options(faulty, echo_activities(), orchestrations, quiet_options());
    Client client(store);
    client.start_orchestration("stubborn", "Stubborn", "").value();
    const double cpu_before = process_cpu_seconds();
    auto status = client.wait_for_orchestration("stubborn", 10s).value();
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ab");
    CHECK(faulty->failed() == 1);
    CHECK(process_cpu_seconds() - cpu_before < 1.0);  // the retry waited, it did not spin
    auto history = store->read_history("stubborn", 1).value();
    REQUIRE(!history.empty());
    CHECK(history.front().kind == EventKind::OrchestrationStarted);
    for (std::size_t i = 0; i < history.size(); ++i) CHECK(history[i].event_id == i + 1);
  }

  TEST_CASE("a timer of milliseconds::max() never fires and does not make the dispatcher spin") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Forever",
                [](OrchestrationContext& ctx, std::string) {
                  auto never = ctx.schedule_timer(std::chrono::milliseconds::max());
                  auto go = ctx.schedule_wait("Go");
                  auto [index, out] = ctx.select2(std::move(never), std::move(go));
                  return std::to_string(index);
                })
            .build();
    Harness h(echo_activities(), orchestrations);
    h.client().start_orchestration("forever", "Forever", "").value();
    REQUIRE(h.wait_for_events("forever", EventKind::EventSubscribed));
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(1s);  // real idle time is what is measured
    CHECK(process_cpu_seconds() - before < 0.1);
    h.client().raise_event("forever", "Go", "").value();
    CHECK(h.wait("forever").output() == "1");
    CHECK(h.client().wait_for_orchestration("forever", std::chrono::milliseconds::max()));
  }
}

TEST_SUITE("engine.runtime") {
  TEST_CASE("custom status is visible while running, after a restart and after completion") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("Steps",
                                    [](OrchestrationContext& ctx, std::string) {
                                      ctx.set_custom_status("waiting for approval");
                                      auto who = ctx.schedule_wait("Approve").into_event();
                                      ctx.set_custom_status("approved by " + who);
                                      return std::string("done");
                                    })
            .build();
    Harness h(echo_activities(), orchestrations);
    auto& client = h.client();
    client.start_orchestration("steps", "Steps", "").value();
    auto status = [&] { return client.get_orchestration_status("steps").value(); };
    h.wait_until([&] { return status().custom_status() == "waiting for approval"; });
    CHECK(status().custom_status() == "waiting for approval");
    h.restart();  // the next step replays: the status must survive it unchanged
    CHECK(status().custom_status() == "waiting for approval");
    client.raise_event("steps", "Approve", "Ada").value();
    auto done = h.wait("steps");
    REQUIRE(done.is_completed());
    CHECK(done.custom_status() == "approved by Ada");
  }
}

TEST_SUITE("engine.runtime") {
  TEST_CASE("an unregistered orchestration is retried with back-off, so an upgrade can bring it") {
    auto late =
        OrchestrationRegistry::builder()
            .register_orchestration("Late",
                                    [](OrchestrationContext& ctx, std::string) {
                                      return "ran at version " + ctx.orchestration_version();
                                    })
            .build();
    auto store = LmdbProvider::open_temporary().value();
    Counter attempts;
    auto old_options = quiet_options();
    count_log_lines(old_options, "'Late' is not registered", attempts);
    auto old_code = Runtime::start_with_options(
        store, echo_activities(), OrchestrationRegistry::builder().build(), old_options);
    Client client(store);
    client.start_orchestration("late", "Late", "").value();
    REQUIRE(attempts.wait_for(2));  // a couple of failed attempts
    CHECK(client.get_orchestration_status("late").value().is_running());
    old_code->shutdown();
    auto new_code = Runtime::start_with_options(store, echo_activities(), late, quiet_options());
    auto status = client.wait_for_orchestration("late", 10s).value();
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ran at version 1.0.0");
  }

  TEST_CASE("an orchestration that never gets registered fails after the retries") {
    auto options = quiet_options();
    options.unregistered_retries = 3;  // back-offs of 100, 200 and 400 ms
    Harness h(echo_activities(), OrchestrationRegistry::builder().build(), options);
    const auto begin = std::chrono::steady_clock::now();
    auto status = h.run("never", "Never", "");
    CHECK(std::chrono::steady_clock::now() - begin >= 600ms);
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Configuration);
    CHECK(status.details().kind() == "UnregisteredOrchestration");
  }
}
