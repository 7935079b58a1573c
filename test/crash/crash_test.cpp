// SPDX-License-Identifier: MIT
// SIGKILL a process running orchestrations mid-flight; the survivor state completes them all.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "scenario.hpp"

using namespace duroxide;
namespace fs = std::filesystem;

namespace {

constexpr int kInstances = 200;

pid_t spawn_worker(const std::string& store) {
  const char* worker = std::getenv("DUROXIDE_CRASH_WORKER");
  REQUIRE_MESSAGE(worker != nullptr, "DUROXIDE_CRASH_WORKER is not set");
  const std::string count = std::to_string(kInstances);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(worker, worker, store.c_str(), count.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int count_completed(const std::string& path) {
  auto store = LmdbProvider::open(path).value();
  int completed = 0;
  for (int i = 0; i < kInstances; ++i) {
    auto row = store->read_instance(crash::instance_name(i));
    completed += row && row->state == InstanceState::Completed;
  }
  return completed;
}

}  // namespace

TEST_SUITE("crash") {
  TEST_CASE("SIGKILL mid-flight loses nothing: every instance completes with its output") {
    const fs::path dir = fs::temp_directory_path() / ("duroxide-crash-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "store.duro").string();
    {
      auto store = LmdbProvider::open(path).value();
      Client client(store);
      for (int i = 0; i < kInstances; ++i) {
        client.start_orchestration(crash::instance_name(i), "Scenario", std::to_string(i)).value();
      }
    }

    // DUROXIDE_CRASH_SEED=N repeats the kill timings of an earlier run.
    const char* fixed_seed = std::getenv("DUROXIDE_CRASH_SEED");
    const unsigned seed = fixed_seed ? static_cast<unsigned>(std::strtoul(fixed_seed, nullptr, 10))
                                     : std::random_device{}();
    std::printf("crash test seed %u (DUROXIDE_CRASH_SEED)\n", seed);
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> delay_ms(5, 40);
    int killed_mid_flight = 0;
    for (int round = 0; round < 6; ++round) {
      const pid_t pid = spawn_worker(path);
      const int delay = delay_ms(random);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      kill(pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
      INFO("round " << round << " killed after " << delay << " ms");
      CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
      const int completed = count_completed(path);
      std::printf("round %d: killed after %d ms, %d of %d instances completed\n", round, delay,
                  completed, kInstances);
      killed_mid_flight += WIFSIGNALED(status) && completed < kInstances;
    }
    CHECK(killed_mid_flight > 0);  // the kills did interrupt work in flight

    auto store = LmdbProvider::open(path).value();
    RuntimeOptions options;
    options.log_level = LogLevel::Error;
    auto runtime = Runtime::start_with_options(store, crash::scenario_activities(),
                                               crash::scenario_orchestrations(), options);
    Client client(store);
    for (int i = 0; i < kInstances; ++i) {
      auto status =
          client.wait_for_orchestration(crash::instance_name(i), std::chrono::seconds(60));
      REQUIRE(status.has_value());
      REQUIRE(status->is_completed());
      CHECK(status->output() == crash::expected_output(std::to_string(i)));
      // History is append-only and dense: ids 1..n, one terminal event, at the end.
      auto history = store->read_history(crash::instance_name(i), 1).value();
      for (std::size_t k = 0; k < history.size(); ++k) CHECK(history[k].event_id == k + 1);
      CHECK(history.back().kind == EventKind::OrchestrationCompleted);
    }
    runtime->shutdown();
    runtime.reset();
    store.reset();
    fs::remove_all(dir);
  }
}
