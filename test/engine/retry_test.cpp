// SPDX-License-Identifier: MIT
// schedule_activity_with_retry: attempts, back-off, per-attempt timeout, restarts; Backoff.
#include <atomic>
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

Counter calls;

// Fails until it has been called `input` times in all.
ActivityRegistry flaky() {
  return ActivityRegistry::builder()
      .register_activity("Flaky",
                         [](ActivityContext&, std::string input) -> Result<std::string> {
                           const int call = calls.add();
                           if (call < std::stoi(input)) return Err("flake " + std::to_string(call));
                           return "ok after " + std::to_string(call);
                         })
      .register_activity("Slow",
                         [](ActivityContext& ctx, std::string) {
                           calls.add();
                           // is_cancelled has no notification: the activity polls it.
                           for (int i = 0; i < 500 && !ctx.is_cancelled(); ++i) {
                             std::this_thread::sleep_for(10ms);
                           }
                           return std::string(ctx.is_cancelled() ? "cancelled" : "finished");
                         })
      .build();
}

OrchestrationRegistry retrying(RetryPolicy policy, std::string activity = "Flaky") {
  return OrchestrationRegistry::builder()
      .register_orchestration(
          "Retry",
          [policy, activity](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
            auto result = ctx.schedule_activity_with_retry(activity, input, policy).into_activity();
            if (!result) return "error: " + result.error();
            return result;
          })
      .build();
}

std::size_t count(const std::vector<HistoryEvent>& history, EventKind kind) {
  std::size_t n = 0;
  for (const auto& event : history) n += event.kind == kind ? 1 : 0;
  return n;
}

}  // namespace

TEST_SUITE("engine.retry") {
  TEST_CASE("Backoff waits: none, fixed, linear and exponential with their caps") {
    CHECK(Backoff::none().delay_after(3) == 0ms);
    CHECK(Backoff::fixed(70ms).delay_after(1) == 70ms);
    CHECK(Backoff::fixed(70ms).delay_after(9) == 70ms);
    CHECK(Backoff::linear(100ms, 250ms).delay_after(1) == 100ms);
    CHECK(Backoff::linear(100ms, 250ms).delay_after(2) == 200ms);
    CHECK(Backoff::linear(100ms, 250ms).delay_after(3) == 250ms);
    CHECK(Backoff::exponential(10ms, 3.0, 1000ms).delay_after(1) == 10ms);
    CHECK(Backoff::exponential(10ms, 3.0, 1000ms).delay_after(3) == 90ms);
    CHECK(Backoff::exponential(10ms, 3.0, 1000ms).delay_after(60) == 1000ms);
  }

  TEST_CASE("failed attempts are retried after durable timers until one succeeds") {
    calls.reset();
    Harness h(flaky(), retrying(RetryPolicy(5).with_backoff(Backoff::fixed(20ms))));
    auto status = h.run("r", "Retry", "3");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ok after 3");
    auto history = h.store()->read_history("r", 1).value();
    CHECK(count(history, EventKind::ActivityScheduled) == 3);
    CHECK(count(history, EventKind::ActivityFailed) == 2);
    CHECK(count(history, EventKind::TimerCreated) == 2);  // one back-off after each failure
  }

  TEST_CASE("after the last attempt the last error is returned") {
    calls.reset();
    Harness h(flaky(), retrying(RetryPolicy(3).with_backoff(Backoff::none())));
    auto status = h.run("r", "Retry", "100");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "error: flake 3");
    CHECK(calls.value() == 3);
  }

  TEST_CASE("a timed-out attempt fails with 'timeout', is not retried, and is cancelled") {
    calls.reset();
    Harness h(flaky(), retrying(RetryPolicy(4).with_timeout(100ms), "Slow"));
    auto status = h.run("r", "Retry", "");
    REQUIRE(status.is_completed());
    CHECK(status.output().find("timeout") != std::string::npos);
    CHECK(status.output().find("attempt 1") != std::string::npos);
    auto history = h.store()->read_history("r", 1).value();
    CHECK(count(history, EventKind::ActivityScheduled) == 1);
    CHECK(count(history, EventKind::CancelRequested) == 1);
    // The running attempt was told to stop, and its late result was dropped. Stopping the
    // runtime waits for the attempt to return and for what its result leads to.
    h.stop();
    CHECK(calls.value() == 1);
    history = h.store()->read_history("r", 1).value();
    CHECK(count(history, EventKind::ActivityCompleted) == 0);
  }

  TEST_CASE("a back-off wait survives a restart and the retries go on") {
    calls.reset();
    Harness h(flaky(), retrying(RetryPolicy(4).with_backoff(Backoff::fixed(400ms))));
    h.client().start_orchestration("r", "Retry", "3").value();
    REQUIRE(calls.wait_for(1));
    h.restart();  // during the first back-off
    auto status = h.wait("r");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ok after 3");
    CHECK(calls.value() == 3);
  }

  TEST_CASE("retried activities in a join all advance, and replay gives the same result") {
    calls.reset();
    auto registry =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Two",
                [](OrchestrationContext& ctx, std::string) {
                  auto policy = RetryPolicy(6).with_backoff(Backoff::fixed(10ms));
                  std::vector<DurableFuture> futures;
                  futures.push_back(ctx.schedule_activity_with_retry("Flaky", "4", policy));
                  futures.push_back(ctx.schedule_activity_with_retry("Flaky", "4", policy));
                  std::string out;
                  for (auto& o : ctx.join(std::move(futures))) {
                    out += o.result ? "ok;" : "err;";
                  }
                  return out;
                })
            .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_parked_instances = 1;  // each step replays from history
    Harness h(flaky(), registry, options);
    auto status = h.run("j", "Two", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ok;ok;");
  }

  TEST_CASE("a retry that loses a select launches no further attempt") {
    auto activities =
        ActivityRegistry::builder()
            .register_activity("SlowFail",
                               [](ActivityContext&, std::string) -> Result<std::string> {
                                 // Slow on purpose: it must end after the 50 ms timer fires.
                                 std::this_thread::sleep_for(150ms);
                                 return Err("no");
                               })
            .register_activity("Sleep",
                               [](ActivityContext&, std::string) {
                                 // Slow on purpose: it must end after the other two.
                                 std::this_thread::sleep_for(400ms);
                                 return std::string("slept");
                               })
            .build();
    auto registry = OrchestrationRegistry::builder()
                        .register_orchestration(
                            "Race",
                            [](OrchestrationContext& ctx, std::string) {
                              auto retried = ctx.schedule_activity_with_retry(
                                  "SlowFail", "", RetryPolicy(5).with_backoff(Backoff::none()));
                              auto timer = ctx.schedule_timer(50ms);
                              // Both complete (the timer first) while the code waits here.
                              ctx.schedule_activity("Sleep", "").into_activity().value();
                              auto [winner, output] =
                                  ctx.select2(std::move(retried), std::move(timer));
                              return std::to_string(winner);
                            })
                        .build();
    Harness h(activities, registry);
    auto status = h.run("race", "Race", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1");
    const auto history = h.store()->read_history("race", 1).value();
    std::size_t attempts = 0;
    for (const auto& event : history) {
      attempts += event.kind == EventKind::ActivityScheduled && event.name == "SlowFail";
    }
    CHECK(attempts == 1);
  }

  TEST_CASE("activities waiting behind others are not delivered twice when the lease runs") {
    static std::atomic<int> runs{0};
    static std::atomic<int> later_attempts{0};
    runs = 0;
    later_attempts = 0;
    auto activities = ActivityRegistry::builder()
                          .register_activity("Work",
                                             [](ActivityContext& ctx, std::string) {
                                               ++runs;
                                               if (ctx.attempt() > 1) ++later_attempts;
                                               // Slow on purpose: three runs in a row
                                               // outlast the 1 s lease of those waiting.
                                               std::this_thread::sleep_for(700ms);
                                               return std::string("done");
                                             })
                          .build();
    auto registry = OrchestrationRegistry::builder()
                        .register_orchestration(
                            "Three",
                            [](OrchestrationContext& ctx, std::string) {
                              std::vector<DurableFuture> work;
                              for (int i = 0; i < 3; ++i) {
                                work.push_back(ctx.schedule_activity("Work", std::to_string(i)));
                              }
                              ctx.join(std::move(work));
                              return std::string("ok");
                            })
                        .build();
    RuntimeOptions options = testlib::quiet_options();
    options.activity_workers = 1;
    options.activity_lease = 1000ms;
    Harness h(activities, registry, options);
    REQUIRE(h.run("three", "Three", "").is_completed());
    CHECK(runs == 3);
    CHECK(later_attempts == 0);
  }
}
