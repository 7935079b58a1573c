// SPDX-License-Identifier: MIT
// ErrorKind names, display messages, and DUROXIDE_CHECK's report of a broken invariant.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include <doctest/doctest.h>
#include <duroxide/detail/check.hpp>
#include <duroxide/error.hpp>

using namespace duroxide;

namespace {
constexpr ErrorKind kAllKinds[] = {
    ErrorKind::ActivityFailed,       ErrorKind::OrchestrationFailed,
    ErrorKind::Panicked,             ErrorKind::Cancelled,
    ErrorKind::HistoryLimitExceeded, ErrorKind::Nondeterminism,
    ErrorKind::UnregisteredOrchestration, ErrorKind::UnregisteredActivity,
    ErrorKind::MissingVersion,       ErrorKind::Poison,
    ErrorKind::Timeout,              ErrorKind::Terminated,
};

struct ChildOutcome {
  int signal = 0;     // the signal that ended the child, 0 if it exited
  int exit_code = 0;  // its exit status, if it exited
  std::string stderr_text;
  /// Returns: true if the child died of abort(): SIGABRT, or under ThreadSanitizer, whose
  /// runtime reports an abort and then exits with a failure status instead.
  bool aborted() const { return signal == SIGABRT || (signal == 0 && exit_code != 0); }
};

// Runs `body` in a forked child with its stderr captured.
template <class Body>
ChildOutcome run_in_child(Body body) {
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    body();
    _exit(0);
  }
  close(pipe_fds[1]);
  ChildOutcome outcome;
  char buffer[512];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    outcome.stderr_text.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}
}  // namespace

TEST_SUITE("api.error_details") {
  TEST_CASE("every kind's name parses back to the kind") {
    for (ErrorKind kind : kAllKinds) {
      CAPTURE(to_string(kind));
      CHECK(parse_error_kind(to_string(kind)) == kind);
      CHECK(ErrorDetails(ErrorCategory::Application, kind, "m").is(kind));
    }
    CHECK(to_string(ErrorKind::HistoryLimitExceeded) == "HistoryLimitExceeded");
    CHECK(to_string(ErrorKind::Cancelled) == "Cancelled");
    CHECK(to_string(ErrorKind::Terminated) == "Terminated");
    CHECK_FALSE(parse_error_kind("Rewound").has_value());
    CHECK_FALSE(parse_error_kind("poison").has_value());  // names are case-sensitive
  }

  TEST_CASE("a kind built from the enum is the stored string") {
    ErrorDetails details(ErrorCategory::Poison, ErrorKind::Poison, "delivered 4 times");
    CHECK(details.kind() == "Poison");
    CHECK(details.category() == ErrorCategory::Poison);
    CHECK(details.message() == "delivered 4 times");
    CHECK_FALSE(details.is(ErrorKind::Cancelled));
  }

  TEST_CASE("display messages keep their contract spellings") {
    auto display = [](ErrorKind kind, std::string message) {
      return ErrorDetails(ErrorCategory::Application, kind, std::move(message)).display_message();
    };
    CHECK(display(ErrorKind::Cancelled, "by operator") == "canceled: by operator");
    CHECK(display(ErrorKind::Cancelled, std::string(kParentCanceledReason)) ==
          "canceled: parent canceled");
    CHECK(display(ErrorKind::Panicked, "boom") == "orchestration panicked: boom");
    CHECK(display(ErrorKind::Nondeterminism, "call 3") == "nondeterministic: call 3");
    CHECK(display(ErrorKind::UnregisteredOrchestration, "X") == "unregistered orchestration: X");
    CHECK(display(ErrorKind::UnregisteredActivity, "Y") == "unregistered activity: Y");
    CHECK(display(ErrorKind::MissingVersion, "2.0") == "missing version: 2.0");
    CHECK(display(ErrorKind::Poison, "p") == "poison message: p");
    CHECK(display(ErrorKind::Timeout, "t") == "timeout: t");
    CHECK(display(ErrorKind::Terminated, "t") == "terminated: t");
    CHECK(display(ErrorKind::OrchestrationFailed, "plain") == "plain");
    CHECK(display(ErrorKind::HistoryLimitExceeded, "50000 events") == "50000 events");
  }

  TEST_CASE("a kind this version does not know displays its message as is") {
    ErrorDetails details(ErrorCategory::Application, "FromANewerVersion", "text");
    CHECK(details.kind() == "FromANewerVersion");
    CHECK(details.display_message() == "text");
  }

  TEST_CASE("a failed DUROXIDE_CHECK aborts and names the invariant") {
    auto outcome = run_in_child([] {
      const int queued = 1;
      DUROXIDE_CHECK(queued == 0, "the queue drained");
    });
    CHECK(outcome.aborted());
    CHECK(outcome.stderr_text.find("check failed") != std::string::npos);
    CHECK(outcome.stderr_text.find("queued == 0") != std::string::npos);
    CHECK(outcome.stderr_text.find("the queue drained") != std::string::npos);
    CHECK(outcome.stderr_text.find("error_details_test.cpp") != std::string::npos);
  }

  TEST_CASE("a DUROXIDE_CHECK that holds does nothing") {
    auto outcome = run_in_child([] { DUROXIDE_CHECK(1 + 1 == 2, "arithmetic"); });
    CHECK(outcome.signal == 0);
    CHECK(outcome.exit_code == 0);
    CHECK(outcome.stderr_text.empty());
  }
}
