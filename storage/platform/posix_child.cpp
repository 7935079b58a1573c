// SPDX-License-Identifier: MIT
// The POSIX implementation of storage/platform/child_process.hpp: fork, a pipe, waitpid.
#include "storage/platform/child_process.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace duroxide::storage::platform {
namespace {

Error system_error(const char* what, int err) {
  std::string message("check child: ");
  ((message += what) += ": ") += std::strerror(err);
  return Error{ErrorCode::IOError, std::move(message)};
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(71);  // the parent is gone: nobody reads the result
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

[[noreturn]] void child_main(int fd, const std::function<void(const SendFn& send)>& body) {
  for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP}) {
    std::signal(sig, SIG_DFL);
  }
  std::signal(SIGPIPE, SIG_IGN);
  const struct rlimit no_core { 0, 0 };
  ::setrlimit(RLIMIT_CORE, &no_core);
  int status = 0;
  try {
    body([fd](std::string_view bytes) { write_all(fd, bytes); });
  } catch (...) {
    status = 70;
  }
  ::close(fd);
  ::_exit(status);
}

std::string read_all(int fd) {
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<ChildOutcome, Error> run_in_child(const std::function<void(const SendFn& send)>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Err(system_error("pipe", errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Err(system_error("fork", err));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], body);
  }
  ::close(fds[1]);
  ChildOutcome outcome;
  outcome.output = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Err(system_error("waitpid", errno));
  }
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  if (WIFEXITED(status)) outcome.exit_status = WEXITSTATUS(status);
  return outcome;
}

std::string signal_name(int signal) {
  switch (signal) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGKILL:
      return "SIGKILL";
    default:
      return std::string("signal ") += std::to_string(signal);
  }
}

}  // namespace duroxide::storage::platform
