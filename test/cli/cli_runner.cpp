// SPDX-License-Identifier: MIT
// Runs the installed duroxide command as a child process and collects what it wrote.
#include "cli_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace duroxide::testlib {
namespace {

// The environment of the child: ours, with the installed library first on LD_LIBRARY_PATH.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  const char* libdir = std::getenv("DUROXIDE_CLI_LIBDIR");
  std::string library_path = libdir != nullptr ? libdir : "";
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::strncmp(*entry, "LD_LIBRARY_PATH=", 16) == 0) {
      library_path += ':';
      library_path += *entry + 16;
      continue;
    }
    env.emplace_back(*entry);
  }
  env.push_back("LD_LIBRARY_PATH=" + library_path);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reads both pipes until both are closed or the deadline passes. Returns: false on timeout.
bool drain(int out_fd, int err_fd, CliRun& run, std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open = 2;
  char buffer[65536];
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      for (const auto& fd : fds) {
        if (fd.fd >= 0) ::close(fd.fd);
      }
      return false;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> CliRun::err_lines() const {
  std::vector<std::string> lines;
  std::size_t from = 0;
  while (from < err.size()) {
    const std::size_t end = err.find('\n', from);
    lines.push_back(err.substr(from, end == std::string::npos ? std::string::npos : end - from));
    if (end == std::string::npos) break;
    from = end + 1;
  }
  return lines;
}

const std::string& cli_path() {
  static const std::string path = [] {
    const char* value = std::getenv("DUROXIDE_CLI");
    if (value == nullptr) throw std::runtime_error("DUROXIDE_CLI is not set: run via meson test");
    return std::string(value);
  }();
  return path;
}

CliRun run_cli(const std::vector<std::string>& args, const std::string& cwd,
               std::chrono::milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> argv_strings{cli_path()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto env_strings = child_environment();
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw std::runtime_error("cannot run " + cli_path() + ": " + std::strerror(spawned));
  }
  CliRun run;
  if (!drain(out_pipe[0], err_pipe[0], run, std::chrono::steady_clock::now() + timeout)) {
    run.timed_out = true;
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  return run;
}

}  // namespace duroxide::testlib
