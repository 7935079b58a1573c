// SPDX-License-Identifier: MIT
// An activity or orchestration code that kills its process on every delivery poisons its
// instance after RuntimeOptions::max_attempts crashes instead of crashing every restart forever.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "test/testlib/temp_dir.hpp"

using namespace duroxide;

namespace {

// Returns: the worker's exit code.
int run_worker(const std::string& store, const std::string& instance, const std::string& threads,
               const std::string& max_attempts) {
  const char* worker = std::getenv("DUROXIDE_POISON_WORKER");
  REQUIRE_MESSAGE(worker != nullptr, "DUROXIDE_POISON_WORKER is not set");
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(worker, worker, store.c_str(), instance.c_str(), threads.c_str(), max_attempts.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/// Runs the worker until it stops dying. Returns: how often it died.
int crashes_until_done(const std::string& path, const std::string& instance,
                       std::size_t threads = 1, std::uint32_t max_attempts = 3) {
  int crashes = 0;
  int exit_code = 42;
  while (exit_code == 42 && crashes < 10) {
    exit_code = run_worker(path, instance, std::to_string(threads), std::to_string(max_attempts));
    crashes += exit_code == 42;
  }
  CHECK(exit_code == 0);
  return crashes;
}

// A runtime on `store` whose one orchestration, `name`, waits for the event `event` (the
// worker's code without its crashes), for checks after the worker has stopped for good.
std::unique_ptr<Runtime> start_waiting_runtime(const std::shared_ptr<LmdbProvider>& store,
                                               const std::string& name, const std::string& event) {
  auto wait = [event](OrchestrationContext& ctx, std::string) {
    return ctx.schedule_wait(event).into_event();
  };
  auto orchestrations = OrchestrationRegistry::builder().register_orchestration(name, wait).build();
  return Runtime::start_with_store(store, ActivityRegistry::builder().build(), orchestrations);
}

// A restart counts every instance it wakes on messages a crash left, before their code runs.
// One that was only running beside the instance that kills the process must not be poisoned
// with it: after its first count it runs its turn alone (RecoveryGate).
void check_bystander_survives(std::uint32_t max_attempts) {
  const testlib::TempDir dir;
  const std::string path = dir.file("store.duro");
  // Two orchestration threads, the two instances on different ones.
  const std::string crasher = "crasher";
  std::string bystander;
  for (int i = 0; bystander.empty(); ++i) {
    const std::string id = "bystander-" + std::to_string(i);
    if (std::hash<std::string>{}(id) % 2 != std::hash<std::string>{}(crasher) % 2) bystander = id;
  }
  {
    auto store = LmdbProvider::open(path).value();
    Client client(store);
    client.start_orchestration(bystander, "SlowFirstTurn", "").value();
    client.start_orchestration(crasher, "CrashAtOnce", "").value();
  }
  const int crashes = crashes_until_done(path, crasher, 2, max_attempts);
  CHECK(crashes >= 1 + static_cast<int>(max_attempts));  // the first run, then each count
  auto store = LmdbProvider::open(path).value();
  Client client(store);
  auto crashed = client.get_orchestration_status(crasher).value();
  REQUIRE(crashed.is_failed());
  CHECK(crashed.details().kind() == "Poison");
  // The bystander completed its first step, which cleared its count, and waits for "go".
  auto waiting = client.get_orchestration_status(bystander).value();
  CHECK_MESSAGE(waiting.is_running(), waiting.details().display_message());
  CHECK(client.get_instance_info(bystander).value().recovery_attempts == 0);
  auto runtime = start_waiting_runtime(store, "SlowFirstTurn", "go");
  client.raise_event(bystander, "go", "went").value();
  auto done = client.wait_for_orchestration(bystander, std::chrono::seconds(10)).value();
  runtime->shutdown();
  REQUIRE(done.is_completed());
  CHECK(done.output() == "went");
}

}  // namespace

TEST_SUITE("crash.poison_crash") {
  TEST_CASE("an activity that crashes the process every time is poisoned after max_attempts") {
    const testlib::TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = LmdbProvider::open(path).value();
      Client(store).start_orchestration("poisoned", "CallCrash", "").value();
    }
    // max_attempts is 3: three deliveries die in the activity, the fourth is refused.
    CHECK(crashes_until_done(path, "poisoned") == 3);
    auto store = LmdbProvider::open(path).value();
    auto status = Client(store).get_orchestration_status("poisoned").value();
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Poison);
    CHECK(status.details().message().find("'Crash'") != std::string::npos);
  }

  TEST_CASE(
      "orchestration code that crashes the process every time is poisoned, its child "
      "cancelled") {
    const testlib::TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = LmdbProvider::open(path).value();
      Client(store).start_orchestration("code", "CrashingCode", "").value();
    }
    // The first run dies on the activity's outcome, handed to the instance in memory; the
    // second re-runs the activity (left over), stores its outcome and dies on it again; the
    // next three count a restart each (max_attempts 3) and die in the replayed turn; the sixth
    // refuses to run the code.
    CHECK(crashes_until_done(path, "code") == 5);
    auto store = LmdbProvider::open(path).value();
    Client client(store);
    auto status = client.get_orchestration_status("code").value();
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Poison);
    CHECK(status.details().kind() == "Poison");
    CHECK(status.details().message().find("'CrashingCode'") != std::string::npos);
    CHECK(client.get_instance_info("code").value().recovery_attempts == 4);
    CHECK(status.details().message().find("started 3 times") != std::string::npos);
    // The poisoned instance's history ends with its failure, after the turns that ran.
    auto history = client.read_history("code", 1).value();
    REQUIRE_FALSE(history.empty());
    CHECK(history.back().kind == EventKind::OrchestrationFailed);
    // Its child was told to stop (by the worker's last run, or by this runtime).
    auto runtime = start_waiting_runtime(store, "Forever", "never");
    auto child = client.wait_for_orchestration("code::sub::2", std::chrono::seconds(10)).value();
    runtime->shutdown();
    REQUIRE(child.is_failed());
    CHECK(child.details().kind() == "Cancelled");
    CHECK(child.details().display_message() == "canceled: parent canceled");
  }

  TEST_CASE("an instance whose turns keep being cut short by another one's crashes survives") {
    // With max_attempts 2 there is no spare count: the bystander's turn alone must not be cut
    // short by the crasher's turns on new messages either.
    SUBCASE("max_attempts 2") { check_bystander_survives(2); }
    SUBCASE("max_attempts 3") { check_bystander_survives(3); }
  }
}
