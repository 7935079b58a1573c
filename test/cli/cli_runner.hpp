// SPDX-License-Identifier: MIT
// Runs the installed duroxide command as a child process and collects what it wrote.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace duroxide::testlib {

/// What one run of the command did.
struct CliRun {
  int exit_code = -1;  ///< the exit status; -1 if it did not exit normally
  int signal = 0;      ///< the signal that ended it, 0 if none
  bool timed_out = false;
  std::string out;  ///< everything written on stdout
  std::string err;  ///< everything written on stderr

  /// Returns: the lines of err (without their line breaks).
  std::vector<std::string> err_lines() const;
};

/// Returns: the path of the installed command (DUROXIDE_CLI, set by run_cli_tests.sh).
const std::string& cli_path();

/// Runs `duroxide args...` with the working directory `cwd` (empty: this one), the installed
/// library on its LD_LIBRARY_PATH and nothing on stdin; kills it after `timeout`.
/// Thread safety: may be called from several threads at once.
CliRun run_cli(const std::vector<std::string>& args, const std::string& cwd = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace duroxide::testlib
