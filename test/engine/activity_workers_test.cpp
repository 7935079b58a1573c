// SPDX-License-Identifier: MIT
// ActivityWorkers: an activity that runs for a whole lease runs again when the store hands it out.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {
// A runtime whose orchestration "Once" calls the activity "Hang" once, with a 1 s lease.
Harness calling_hang_once(const ActivityRegistry& activities) {
  auto registry = OrchestrationRegistry::builder()
                      .register_orchestration("Once",
                                              [](OrchestrationContext& ctx, std::string) {
                                                return ctx.schedule_activity("Hang", "")
                                                    .into_activity()
                                                    .value();
                                              })
                      .build();
  RuntimeOptions options = testlib::quiet_options();
  options.activity_lease = 1000ms;
  return Harness(activities, registry, options);
}
}  // namespace

TEST_SUITE("engine.activity_workers") {
  TEST_CASE("an activity that hangs for a whole lease runs again beside the first run") {
    struct Runs {
      std::mutex mutex;
      std::condition_variable changed;
      int count = 0;
      std::uint32_t second_attempt = 0;
      std::chrono::steady_clock::time_point first_start;
      std::chrono::steady_clock::time_point second_start;
    };
    static Runs runs;
    runs.count = 0;
    auto activities =
        ActivityRegistry::builder()
            .register_activity("Hang",
                               [](ActivityContext& ctx, std::string) {
                                 std::unique_lock lock(runs.mutex);
                                 if (++runs.count > 1) {
                                   runs.second_attempt = ctx.attempt();
                                   runs.second_start = std::chrono::steady_clock::now();
                                   runs.changed.notify_all();
                                   return std::string("second");
                                 }
                                 runs.first_start = std::chrono::steady_clock::now();
                                 // Hangs until it is delivered again (the bound only ends a
                                 // broken run).
                                 runs.changed.wait_for(lock, 20s, [] { return runs.count > 1; });
                                 return std::string("first");
                               })
            .build();
    Harness h = calling_hang_once(activities);
    auto status = h.run("hang", "Once", "", 30s);
    REQUIRE(status.is_completed());
    std::lock_guard lock(runs.mutex);
    CHECK(runs.count == 2);
    CHECK(runs.second_attempt >= 2);
    // Not sooner than a lease after the first run began (less the store's 1 ms resolution).
    CHECK(runs.second_start - runs.first_start >= 999ms);
  }

  // Both runs share the call's cancel flag, and the first must still see it once the second
  // has ended and its outcome is durable: else stop(grace) would wait for it forever.
  TEST_CASE("a run that outlived its lease still sees cancellation after the second run ends") {
    struct Runs {
      std::mutex mutex;
      int count = 0;
      bool first_saw_cancel = false;
      bool first_ended = false;
    };
    static Runs runs;
    runs.count = 0;
    runs.first_saw_cancel = runs.first_ended = false;
    auto activities =
        ActivityRegistry::builder()
            .register_activity("Hang",
                               [](ActivityContext& ctx, std::string) {
                                 {
                                   std::lock_guard lock(runs.mutex);
                                   if (++runs.count > 1) return std::string("second");
                                 }
                                 // is_cancelled has no notification: the run polls it (the
                                 // bound only ends a broken run).
                                 const auto give_up = std::chrono::steady_clock::now() + 20s;
                                 while (!ctx.is_cancelled() &&
                                        std::chrono::steady_clock::now() < give_up) {
                                   std::this_thread::sleep_for(10ms);
                                 }
                                 std::lock_guard lock(runs.mutex);
                                 runs.first_saw_cancel = ctx.is_cancelled();
                                 runs.first_ended = true;
                                 return std::string("first");
                               })
            .build();
    Harness h = calling_hang_once(activities);
    auto status = h.run("hang", "Once", "", 30s);
    REQUIRE(status.is_completed());
    CHECK(status.output() == "second");
    const auto stop_began = std::chrono::steady_clock::now();
    h.stop(100ms);  // the first run is still polling: after the grace it must see the flag
    CHECK(std::chrono::steady_clock::now() - stop_began < 10s);
    std::lock_guard lock(runs.mutex);
    CHECK(runs.first_ended);
    CHECK(runs.first_saw_cancel);
  }
}
