// SPDX-License-Identifier: MIT
// Runs one instance whose activity kills the process: each run either dies in the activity or,
// once the attempts are used up, sees the instance fail as poisoned and exits 0.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: poison_worker STORE\n");
    return 2;
  }
  auto store = LmdbProvider::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  auto activities = ActivityRegistry::builder()
                        .register_activity("Crash",
                                           [](ActivityContext&, std::string) -> std::string {
                                             _exit(42);  // no clean-up, like a segfault
                                           })
                        .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration("CallCrash",
                                  [](OrchestrationContext& ctx, std::string) {
                                    return ctx.schedule_activity("Crash", "").into_activity();
                                  })
          .build();
  RuntimeOptions options;
  options.log_level = LogLevel::Error;
  options.max_attempts = 3;
  auto runtime = Runtime::try_start(*store, activities, orchestrations, options);
  if (!runtime) {
    std::fprintf(stderr, "start: %s\n", runtime.error().to_string().c_str());
    return 1;
  }
  Client client(*store);
  auto status = client.wait_for_orchestration("poisoned", std::chrono::seconds(20));
  if (!status || !status->is_failed()) return 1;
  std::printf("%s / %s: %s\n", std::string(to_string(status->details().category())).c_str(),
              std::string(status->details().kind()).c_str(), status->details().message().c_str());
  return status->details().kind() == "Poison" ? 0 : 1;
}
