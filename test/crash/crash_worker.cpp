// SPDX-License-Identifier: MIT
// Runs the crash scenario on a store until it is killed (or every instance has finished).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "scenario.hpp"

using namespace duroxide;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_worker STORE COUNT\n");
    return 2;
  }
  const int count = std::atoi(argv[2]);
  auto store = LmdbProvider::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  RuntimeOptions options;
  options.log_level = LogLevel::Error;
  options.orchestration_threads = 2;
  auto runtime = Runtime::try_start(*store, crash::scenario_activities(),
                                    crash::scenario_orchestrations(), options);
  if (!runtime) {
    std::fprintf(stderr, "start: %s\n", runtime.error().to_string().c_str());
    return 1;
  }
  Client client(*store);
  for (int i = 0; i < count; ++i) {
    auto status = client.wait_for_orchestration(crash::instance_name(i), std::chrono::minutes(5));
    if (!status) return 1;
  }
  return 0;
}
