// SPDX-License-Identifier: MIT
// Runs the torture scenario on a store until it is killed (or every instance has finished),
// logging each activity run to RUNLOG.
#include <chrono>
#include <cstdio>

#include "scenario.hpp"

using namespace duroxide;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_worker STORE RUNLOG\n");
    return 2;
  }
  if (!crash::open_run_log(argv[2])) {
    std::perror("open run log");
    return 1;
  }
  auto store = LmdbProvider::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  auto runtime = Runtime::try_start(*store, crash::scenario_activities(),
                                    crash::scenario_orchestrations(), crash::runtime_options());
  if (!runtime) {
    std::fprintf(stderr, "start: %s\n", runtime.error().to_string().c_str());
    return 1;
  }
  Client client(*store);
  for (int i = 0; i < crash::kInstances; ++i) {
    auto status = client.wait_for_orchestration(crash::instance_name(i), std::chrono::minutes(5));
    if (!status) return 1;
  }
  return 0;
}
