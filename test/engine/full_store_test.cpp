// SPDX-License-Identifier: MIT
// A store that cannot grow: commits fail with IOError, instances stall without losing a step,
// and a larger map lets the same instances finish with the output of an unhindered run.
#include <atomic>
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "test/testlib/commit_watcher.hpp"
#include "test/testlib/harness.hpp"
#include "test/testlib/temp_dir.hpp"

using namespace duroxide;
using namespace std::chrono_literals;

namespace {

constexpr int kInstances = 12;
constexpr int kSteps = 8;
constexpr std::size_t kBlobBytes = 48 * 1024;
constexpr std::size_t kFullMap = std::size_t{2} << 20;

// Each step's activity returns a big output, which its history keeps.
OrchestrationRegistry filler() {
  return OrchestrationRegistry::builder()
      .register_orchestration(
          "Fill",
          [](OrchestrationContext& ctx, std::string input) {
            std::size_t total = 0;
            for (int step = 0; step < kSteps; ++step) {
              total += ctx.schedule_activity("Blob", input).into_activity().value().size();
            }
            return input + ":" + std::to_string(total);
          })
      .build();
}

ActivityRegistry blobs(std::atomic<int>& runs) {
  return ActivityRegistry::builder()
      .register_activity("Blob",
                         [&runs](ActivityContext&, std::string input) {
                           ++runs;
                           return std::string(kBlobBytes, input.empty() ? '-' : input[0]);
                         })
      .build();
}

}  // namespace

TEST_SUITE("engine.full_store") {
  TEST_CASE("a full store stalls instances without loss; a larger map lets them finish") {
    const testlib::TempDir dir;
    const std::string path = dir.file("store.duro");
    // Named, not a temporary: g++ 12 at -O3 reports a false -Wrestrict for ":" + a temporary.
    const std::string total_bytes = std::to_string(kSteps * kBlobBytes);
    const std::string expected_tail = ":" + total_bytes;
    std::atomic<int> runs{0};
    {
      LmdbOptions small;
      small.map_size = kFullMap;
      small.max_map_size = kFullMap;
      auto store = LmdbProvider::open(path, small).value();
      auto watcher = std::make_shared<testlib::CommitWatcher>(store);
      auto runtime =
          Runtime::start_with_options(watcher, blobs(runs), filler(), testlib::quiet_options());
      Client client(store);
      for (int i = 0; i < kInstances; ++i) {
        client.start_orchestration("fill-" + std::to_string(i), "Fill", std::to_string(i % 10))
            .value();
      }
      // All of them need about 4.5 MiB of history: far more than the map can hold, so steps
      // begin to fail once it is full.
      REQUIRE(watcher->wait_for_commit([](const auto& commit) { return !commit.ok; }));
      runtime->shutdown();
      int running = 0;
      for (int i = 0; i < kInstances; ++i) {
        const std::string id = "fill-" + std::to_string(i);
        auto status = client.get_orchestration_status(id).value();
        if (status.is_completed()) {
          CHECK(status.output() == std::to_string(i % 10) + expected_tail);
        } else {
          CHECK_MESSAGE(status.is_running(),
                        id << " ended without room to finish: "
                           << (status.is_failed() ? status.details().display_message() : ""));
          ++running;
        }
      }
      CHECK(running > 0);  // the map was too small for all of them
    }
    LmdbOptions large;  // the default: grows as needed
    auto store = LmdbProvider::open(path, large).value();
    auto runtime =
        Runtime::start_with_options(store, blobs(runs), filler(), testlib::quiet_options());
    Client client(store);
    for (int i = 0; i < kInstances; ++i) {
      const std::string id = "fill-" + std::to_string(i);
      auto status = client.wait_for_orchestration(id, 30s).value();
      REQUIRE_MESSAGE(status.is_completed(), id);
      CHECK(status.output() == std::to_string(i % 10) + expected_tail);
      auto history = client.read_history(id, 1).value();
      for (std::size_t e = 0; e < history.size(); ++e) CHECK(history[e].event_id == e + 1);
    }
    runtime->shutdown();
    MESSAGE("activity runs: " << runs.load() << " for " << kInstances * kSteps << " calls");
    CHECK(runs.load() >= kInstances * kSteps);
  }
}
