// SPDX-License-Identifier: MIT
// VirtualClock: timers and back-offs fire when a test advances the clock, without waiting.
#include <atomic>
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

RuntimeOptions with_clock(const std::shared_ptr<VirtualClock>& clock) {
  RuntimeOptions options = testlib::quiet_options();
  options.clock = clock;
  return options;
}

// Advances `clock` by `step` until `id` ends or `rounds` advances were made.
OrchestrationStatus advance_until_done(Harness& h, VirtualClock& clock, const std::string& id,
                                       std::chrono::milliseconds step, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    auto status = h.client().wait_for_orchestration(id, 50ms);
    if (status) return *status;
    clock.advance(step);
  }
  return h.wait(id, 5s);
}

}  // namespace

TEST_SUITE("engine.virtual_clock") {
  TEST_CASE("VirtualClock runs with the system clock plus what was advanced") {
    VirtualClock clock;
    const auto system_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    const auto before = system_ms();
    clock.advance(1h);
    clock.advance(-5s);  // never backwards
    CHECK(clock.offset() == 1h);
    CHECK(clock.now() >= before + 3'600'000);
    CHECK(clock.now() <= system_ms() + 3'600'000);
    int woken = 0;
    const auto token = clock.subscribe([&] { ++woken; });
    clock.advance(1ms);
    clock.unsubscribe(token);
    clock.advance(1ms);
    CHECK(woken == 1);
  }

  TEST_CASE("a one-hour timer fires as soon as the clock is advanced by an hour") {
    auto clock = std::make_shared<VirtualClock>();
    auto registry =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Sleep",
                [](OrchestrationContext& ctx, std::string) {
                  const auto start = ctx.utc_now();
                  ctx.schedule_timer(1h).into_timer();
                  return std::to_string(
                      std::chrono::duration_cast<std::chrono::minutes>(ctx.utc_now() - start)
                          .count());
                })
            .build();
    Harness h(ActivityRegistry::builder().build(), registry, with_clock(clock));
    const auto began = std::chrono::steady_clock::now();
    h.client().start_orchestration("s", "Sleep", "").value();
    REQUIRE(h.wait_for_events("s", EventKind::TimerCreated));
    CHECK(h.client().get_orchestration_status("s").value().is_running());
    clock->advance(1h);
    auto status = h.wait("s", 10s);
    REQUIRE(status.is_completed());
    CHECK(std::stoi(status.output()) >= 60);
    CHECK(std::chrono::steady_clock::now() - began < 10s);
  }

  TEST_CASE("retries with ten-minute back-offs and a day-long approval timeout, without waiting") {
    static std::atomic<int> calls{0};
    calls = 0;
    auto clock = std::make_shared<VirtualClock>();
    auto activities =
        ActivityRegistry::builder()
            .register_activity("Flaky",
                               [](ActivityContext&, std::string) -> Result<std::string> {
                                 if (++calls < 3) return Err("not yet");
                                 return "ok";
                               })
            .build();
    auto registry =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "Patient",
                [](OrchestrationContext& ctx, std::string) {
                  auto fetched =
                      ctx.schedule_activity_with_retry(
                             "Flaky", "", RetryPolicy(5).with_backoff(Backoff::fixed(10min)))
                          .into_activity()
                          .value();
                  auto approval = ctx.schedule_wait("Approval");
                  auto timeout = ctx.schedule_timer(24h);
                  auto [winner, output] = ctx.select2(std::move(approval), std::move(timeout));
                  return fetched + (winner == 0 ? " approved" : " escalated");
                })
            .build();
    Harness h(activities, registry, with_clock(clock));
    const auto began = std::chrono::steady_clock::now();
    h.client().start_orchestration("p", "Patient", "").value();
    auto status = advance_until_done(h, *clock, "p", 1h, 100);
    REQUIRE(status.is_completed());
    CHECK(status.output() == "ok escalated");
    CHECK(calls == 3);
    CHECK(std::chrono::steady_clock::now() - began < 30s);
  }
}
