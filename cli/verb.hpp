// SPDX-License-Identifier: MIT
// The shape of one verb of the duroxide command: how it declares its flags and how it runs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include <duroxide/client.hpp>
#include <duroxide/lmdb_provider.hpp>

namespace duroxide::cli {

/// Exit statuses of the command (docs/CLI.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  ///< the operation failed or the store cannot be used
inline constexpr int kExitUsage = 2;   ///< a missing or unknown verb, flag or argument

/// The flags every verb takes. Filled in by the parser before a verb runs.
struct GlobalOptions {
  std::string store;  ///< --store PATH
  bool json = false;  ///< --json
};

/// Whether a verb may create a missing store file.
enum class StoreUse {
  Existing,         ///< the store must exist: a missing file is an error and nothing is created
  CreateIfMissing,  ///< a missing file becomes a new, empty store (`start` only)
  NotOpened         ///< the verb reads the file its own way (`check`); VerbEnv::store is null
};

/// What running a verb needs: the opened store and a client on it.
struct VerbEnv {
  const GlobalOptions& global;
  std::shared_ptr<LmdbProvider> store;
  Client client;
};

/// A verb, once its flags are declared: how it uses the store, and its body. The body returns
/// the exit status and writes its own output; errors go through report_error (errors.hpp).
struct VerbSetup {
  StoreUse use = StoreUse::Existing;
  std::function<int(VerbEnv&)> run;
};

/// Declares the verb's positional arguments and flags on `command` (the CLI11 subcommand,
/// which already has --store and --json) and returns its body. The values the flags fill in
/// must live as long as the body: keep them in a shared_ptr that the body captures.
using VerbDefine = VerbSetup (*)(CLI::App& command);

/// One row of the verb table (verbs.cpp).
struct VerbEntry {
  std::string_view name;
  std::string_view summary;
  VerbDefine define;
};

// The verbs, each defined in its own file.
VerbSetup define_list(CLI::App& command);
VerbSetup define_show(CLI::App& command);
VerbSetup define_history(CLI::App& command);
VerbSetup define_start(CLI::App& command);
VerbSetup define_raise(CLI::App& command);
VerbSetup define_cancel(CLI::App& command);
VerbSetup define_terminate(CLI::App& command);
VerbSetup define_suspend(CLI::App& command);
VerbSetup define_resume(CLI::App& command);
VerbSetup define_rewind(CLI::App& command);
VerbSetup define_delete(CLI::App& command);
VerbSetup define_purge(CLI::App& command);
VerbSetup define_stats(CLI::App& command);
VerbSetup define_wait(CLI::App& command);
VerbSetup define_backup(CLI::App& command);
VerbSetup define_check(CLI::App& command);

/// Returns: the verb table, in the order `duroxide help` lists the verbs.
const std::vector<VerbEntry>& verb_table();

}  // namespace duroxide::cli
