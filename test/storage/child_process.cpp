// SPDX-License-Identifier: MIT
// Child processes of the storage suites: another "runtime" or "client" on the same store file.
#include "test/storage/child_process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string_view>
#include <thread>

#include <duroxide/lmdb_provider.hpp>

extern char** environ;

namespace duroxide::storage::testing {
namespace {

LmdbOptions child_options() {
  LmdbOptions options;
  options.foreign_change_poll = std::chrono::milliseconds(0);
  return options;
}

int claim(const std::string& path) {
  auto opened = LmdbProvider::open(path, child_options());
  if (!opened) return 2;
  auto claimed = (*opened)->claim_dispatch();
  if (claimed) return 1;
  return claimed.error().code == ErrorCode::Busy ? 0 : 2;
}

int commit(const std::string& path) {
  auto opened = LmdbProvider::open(path, child_options());
  if (!opened) return 2;
  WriteBatch batch;
  OrchestratorMessage message;
  message.instance_id = "from-child";
  batch.messages.push_back(message);
  return (*opened)->commit_sync(batch) ? 0 : 1;
}

int list(const std::string& path) {
  auto opened = LmdbProvider::open(path, child_options());
  if (!opened) return 2;
  InstanceQuery query;
  query.limit = 100;
  auto rows = (*opened)->list_instances(query);
  return rows ? 10 + static_cast<int>(rows->size()) : 2;
}

}  // namespace

int wait_for_child(int pid, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    // waitpid has no timeout: poll it, so that a hung child is killed at the deadline.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

int run_child_command(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::string_view command = argv[2];
  if (command == "claim") return claim(argv[3]);
  if (command == "commit") return commit(argv[3]);
  if (command == "list") return list(argv[3]);
  return 2;
}

int run_in_child(const std::vector<std::string>& args) {
  std::string self = "/proc/self/exe";
  std::string flag = kChildFlag;
  std::vector<std::string> owned = args;
  std::vector<char*> argv = {self.data(), flag.data()};
  for (auto& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return wait_for_child(pid, 60);
}

}  // namespace duroxide::storage::testing
