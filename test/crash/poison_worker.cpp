// SPDX-License-Identifier: MIT
// Runs one instance whose activity ("CallCrash") or orchestration code ("CrashingCode",
// "CrashAtOnce") kills the process: each run either dies or, once the attempts are used up, sees
// the instance fail as poisoned and exits 0. The optional THREADS sets orchestration_threads,
// MAX_ATTEMPTS max_attempts (default 3).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: poison_worker STORE INSTANCE [THREADS [MAX_ATTEMPTS]]\n");
    return 2;
  }
  auto store = LmdbProvider::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  auto activities =
      ActivityRegistry::builder()
          .register_activity("Crash",
                             [](ActivityContext&, std::string) -> std::string {
                               _exit(42);  // no clean-up, like a segfault
                             })
          .register_activity("Echo", [](ActivityContext&, std::string in) { return in; })
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration("CallCrash",
                                  [](OrchestrationContext& ctx, std::string) {
                                    return ctx.schedule_activity("Crash", "").into_activity();
                                  })
          // Starts a child that waits forever, then dies in its own code once the activity
          // has answered: on every replay of that turn.
          .register_orchestration(
              "CrashingCode",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                auto child = ctx.schedule_sub_orchestration("Forever", "");
                // Time for the child to record its first step, so that the crashes below count
                // against this instance alone (a restart counts every instance it wakes).
                ctx.schedule_timer(std::chrono::milliseconds(300)).into_timer();
                auto echoed = ctx.schedule_activity("Echo", "x").into_activity();
                if (echoed) _exit(42);
                return echoed;
              })
          // Dies as soon as its activity has answered, on every replay of that turn.
          .register_orchestration("CrashAtOnce",
                                  [](OrchestrationContext& ctx, std::string) -> std::string {
                                    // That it answered is what counts, not its output.
                                    (void)ctx.schedule_activity("Echo", "x").into_activity();
                                    _exit(42);
                                  })
          // A first turn that takes 300 ms (the code blocks its shard's thread): the process
          // dies during it while "CrashAtOnce" runs on the other shard.
          .register_orchestration("SlowFirstTurn",
                                  [](OrchestrationContext& ctx, std::string) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(300));
                                    return ctx.schedule_wait("go").into_event();
                                  })
          .register_orchestration("Forever",
                                  [](OrchestrationContext& ctx, std::string) {
                                    return ctx.schedule_wait("never").into_event();
                                  })
          .build();
  RuntimeOptions options;
  options.log_level = LogLevel::Error;
  options.max_attempts = 3;
  if (argc >= 4) options.orchestration_threads = static_cast<std::size_t>(std::atoi(argv[3]));
  if (argc >= 5) options.max_attempts = static_cast<std::uint32_t>(std::atoi(argv[4]));
  auto runtime = Runtime::try_start(*store, activities, orchestrations, options);
  if (!runtime) {
    std::fprintf(stderr, "start: %s\n", runtime.error().to_string().c_str());
    return 1;
  }
  Client client(*store);
  auto status = client.wait_for_orchestration(argv[2], std::chrono::seconds(20));
  if (!status || !status->is_failed()) return 1;
  std::printf("%s / %s: %s\n", std::string(to_string(status->details().category())).c_str(),
              std::string(status->details().kind()).c_str(), status->details().message().c_str());
  return status->details().kind() == "Poison" ? 0 : 1;
}
