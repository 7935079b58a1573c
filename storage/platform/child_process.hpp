// SPDX-License-Identifier: MIT
// Running a piece of this program in a forked child that may crash, reading what it sends back.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/result.hpp>

namespace duroxide::storage::platform {

/// Sends bytes from the child to its parent (blocks while the pipe is full).
using SendFn = std::function<void(std::string_view bytes)>;

/// How a child ended.
struct ChildOutcome {
  std::string output;   ///< everything it sent, in order
  int signal = 0;       ///< the signal that killed it, or 0 if it exited
  int exit_status = 0;  ///< its exit status when it exited (0 when `body` returned)
};

/// Runs `body` in a child process made by fork, with a pipe back to the caller, and waits for
/// it to end. In the child, the signals of faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
/// SIGTRAP) have their default action again (a handler of the parent, such as a test
/// framework's, must not run there), SIGPIPE is ignored, core dumps are off, and the child
/// ends by _exit after `body` (status 0; 70 if it threw): no atexit handlers, no static
/// destructors. Requires: `body` uses nothing another thread of the caller may hold locked
/// at the fork (the child has only this thread): it should open what it needs itself.
/// Returns: IOError if the pipe or the child cannot be made.
/// Thread safety: any thread; blocks until the child ends.
Result<ChildOutcome, Error> run_in_child(const std::function<void(const SendFn& send)>& body);

/// Returns: "SIGSEGV" style name of `signal`, or "signal N".
std::string signal_name(int signal);

}  // namespace duroxide::storage::platform
