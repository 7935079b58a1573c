// SPDX-License-Identifier: MIT
// The cli suite, a live store: the CLI reads while a runtime of this process runs a load.
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "fixture.hpp"

using duroxide::testlib::CliRun;
using duroxide::testlib::CliStore;
using nlohmann::json;

namespace {

constexpr int kInstances = 400;
constexpr int kClients = 8;

std::string id_of(int i) { return "load-" + std::to_string(10000 + i); }

// Starts kInstances Hello instances from kClients threads, then waits for all of them.
// Returns: how many did not complete.
int run_load(CliStore& store) {
  std::atomic<int> bad{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = c; i < kInstances; i += kClients) {
        if (!store.client().start_orchestration(id_of(i), "Hello", std::to_string(i))) ++bad;
      }
    });
  }
  for (auto& client : clients) client.join();
  for (int i = 0; i < kInstances; ++i) {
    auto status = store.client().wait_for_orchestration(id_of(i), std::chrono::seconds(60));
    if (!status || !status->is_completed()) ++bad;
  }
  return bad;
}

// Runs the CLI in a loop until `done`, checking each run. Returns: how many runs there were.
int poll(CliStore& store, const std::atomic<bool>& done, bool with_stats) {
  int runs = 0;
  int failures = 0;
  while (!done || runs < 3) {
    const int i = runs % kInstances;
    std::vector<std::pair<std::string, std::vector<std::string>>> calls = {
        {"list", {"--limit", "50"}},
        {"list", {"--json", "--status", "running"}},
        {"show", {id_of(0)}},
        {"show", {id_of(i), "--json"}}};
    if (with_stats) calls.push_back({"stats", {"--json"}});
    for (const auto& [verb, args] : calls) {
      const CliRun run = store.cli(verb, args);
      ++runs;
      // show of an instance not started yet is NotFound: exit 1 with one line, never a crash.
      const bool not_started = verb == "show" && run.exit_code == 1 &&
                               run.err.find("does not exist") != std::string::npos;
      if (run.signal != 0 || (run.exit_code != 0 && !not_started)) {
        if (++failures <= 3) {
          FAIL_CHECK(verb << " exited " << run.exit_code << " signal " << run.signal << ": "
                          << run.err);
        }
        continue;
      }
      const bool json_output = std::find(args.begin(), args.end(), "--json") != args.end();
      if (run.exit_code == 0 && json_output) {
        CHECK(json::accept(run.out));
      }
    }
  }
  CHECK(failures == 0);
  return runs;
}

void live_load(bool with_stats) {
  CliStore store;
  std::atomic<bool> done{false};
  int runs = 0;
  std::thread poller([&] { runs = poll(store, done, with_stats); });
  const int bad = run_load(store);
  done = true;
  poller.join();
  CHECK(bad == 0);
  MESSAGE("the CLI ran " << runs << " times during the load");
  CHECK(runs > 0);
}

}  // namespace

TEST_SUITE("cli.live") {
  TEST_CASE("list and show in a loop beside a runtime under load: nothing fails") {
    live_load(false);
  }

  TEST_CASE("list, show and stats in a loop beside a runtime under load") {
    live_load(true);
  }
}
