// SPDX-License-Identifier: MIT
// Runs storage operations in a separate process (this test binary, re-executed) for the suites.
#pragma once

#include <string>
#include <vector>

namespace duroxide::storage::testing {

/// Argument that makes the test binary run one child command instead of the suites.
inline constexpr const char* kChildFlag = "--storage-child";

/// Child commands, each ending the process with a status:
///   claim PATH   0 = Busy, 1 = claimed, 2 = other error
///   commit PATH  0 = committed a message for instance "from-child", 1 = commit failed,
///                2 = open failed
///   list PATH    10 + the number of instance rows (at most 100), 2 = open or listing failed
/// Returns: the exit status for argv[2...], or 2 for an unknown command.
int run_child_command(int argc, char** argv);

/// Runs this binary again as `<self> --storage-child args...` (posix_spawn: no plain fork of a
/// multi-threaded process, whose child may deadlock on a lock some other thread held) and waits
/// up to 60 s. Returns: its exit status, or -1 if it died by a signal or timed out (then killed).
int run_in_child(const std::vector<std::string>& args);

/// Waits up to `seconds` for child `pid`, killing it then. Returns: as run_in_child.
int wait_for_child(int pid, int seconds);

}  // namespace duroxide::storage::testing
