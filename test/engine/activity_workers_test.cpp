// SPDX-License-Identifier: MIT
// ActivityWorkers: an activity that runs for a whole lease runs again when the store hands it out.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include <doctest/doctest.h>

#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

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
    Harness h(activities, registry, options);
    auto status = h.run("hang", "Once", "", 30s);
    REQUIRE(status.is_completed());
    std::lock_guard lock(runs.mutex);
    CHECK(runs.count == 2);
    CHECK(runs.second_attempt >= 2);
    // Not sooner than a lease after the first run began (less the store's 1 ms resolution).
    CHECK(runs.second_start - runs.first_start >= 999ms);
  }
}
