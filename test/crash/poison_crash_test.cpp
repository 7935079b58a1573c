// SPDX-License-Identifier: MIT
// An activity that kills its process on every delivery poisons its instance after
// RuntimeOptions::max_attempts crashes instead of crashing every restart forever.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

using namespace duroxide;
namespace fs = std::filesystem;

namespace {

// Returns: the worker's exit code.
int run_worker(const std::string& store) {
  const char* worker = std::getenv("DUROXIDE_POISON_WORKER");
  REQUIRE_MESSAGE(worker != nullptr, "DUROXIDE_POISON_WORKER is not set");
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(worker, worker, store.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_SUITE("crash") {
  TEST_CASE("an activity that crashes the process every time is poisoned after max_attempts") {
    const fs::path dir =
        fs::temp_directory_path() / ("duroxide-poison-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "store.duro").string();
    {
      auto store = LmdbProvider::open(path).value();
      Client(store).start_orchestration("poisoned", "CallCrash", "").value();
    }
    // max_attempts is 3: three deliveries die in the activity, the fourth is refused.
    int crashes = 0;
    int exit_code = 42;
    while (exit_code == 42 && crashes < 10) {
      exit_code = run_worker(path);
      crashes += exit_code == 42;
    }
    CHECK(exit_code == 0);
    CHECK(crashes == 3);
    auto store = LmdbProvider::open(path).value();
    auto status = Client(store).get_orchestration_status("poisoned").value();
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Poison);
    CHECK(status.details().message().find("'Crash'") != std::string::npos);
    store.reset();
    fs::remove_all(dir);
  }
}
