// SPDX-License-Identifier: MIT
// Two processes on one store: the runtime of this one is the only dispatcher (a second runtime
// elsewhere is Busy); a client in the other process starts, raises, waits and reads while it runs.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "test/testlib/temp_dir.hpp"

using namespace duroxide;

namespace {

// Returns: the worker's exit code, or -1 if it did not exit normally.
int run_other(const std::string& store, const char* mode) {
  const char* worker = std::getenv("DUROXIDE_OTHER_PROCESS_WORKER");
  REQUIRE_MESSAGE(worker != nullptr, "DUROXIDE_OTHER_PROCESS_WORKER is not set");
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(worker, worker, store.c_str(), mode, static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_SUITE("crash.other_process") {
  TEST_CASE("another process gets Busy for a runtime, and works as a client meanwhile") {
    const testlib::TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = LmdbProvider::open(path).value();
      auto activities =
          ActivityRegistry::builder()
              .register_activity(
                  "Hello", [](ActivityContext&, std::string name) { return "Hello, " + name; })
              .build();
      auto orchestrations =
          OrchestrationRegistry::builder()
              .register_orchestration(
                  "Greet",
                  [](OrchestrationContext& ctx, std::string name) {
                    auto greeting = ctx.schedule_activity("Hello", name).into_activity();
                    return greeting.value() + ctx.schedule_wait("go").into_event();
                  })
              .build();
      RuntimeOptions options;
      options.log_level = LogLevel::Error;
      auto runtime = Runtime::start_with_options(store, activities, orchestrations, options);
      Client client(store);
      client.start_orchestration("from-test", "Greet", "test").value();
      client.raise_event("from-test", "go", ".").value();
      REQUIRE(client.wait_for_orchestration("from-test", std::chrono::seconds(10))
                  .value()
                  .is_completed());
      CHECK(run_other(path, "runtime") == 0);
      CHECK(run_other(path, "client") == 0);
      // What the other process started ran here, in this runtime.
      auto status = client.get_orchestration_status("from-other").value();
      CHECK(status.is_completed());
      CHECK(status.output() == "Hello, other!");
      runtime->shutdown();
    }
  }
}
