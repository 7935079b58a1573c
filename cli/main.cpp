// SPDX-License-Identifier: MIT
// duroxide: inspect and operate a duroxide store from the shell (docs/CLI.md).
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "cli/store.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

constexpr const char* kFooter =
    "Exit status: 0 success, 1 the operation failed or the store cannot be used (one line on\n"
    "standard error names the cause), 2 bad usage. See docs/CLI.md for every verb and the\n"
    "JSON that --json writes. 'duroxide --version' prints the version.";

int usage_error(std::string_view what) {
  std::fputs(fmt::format("duroxide: {} (see 'duroxide help')\n", what).c_str(), stderr);
  return kExitUsage;
}

// `duroxide help [VERB]`: the help of the command or of one verb, on stdout.
int show_help(CLI::App& app, const std::string& verb) {
  if (verb.empty()) {
    // App::help() would describe the parsed subcommand, `help` itself.
    std::fputs(app.get_formatter()->make_help(&app, "duroxide", CLI::AppFormatMode::Normal).c_str(),
               stdout);
    return kExitOk;
  }
  try {
    std::fputs(app.get_subcommand(verb)->help("duroxide").c_str(), stdout);
    return kExitOk;
  } catch (const CLI::OptionNotFound&) {
    return usage_error(fmt::format("unknown verb '{}'", verb));
  }
}

int run_verb(const GlobalOptions& global, const VerbSetup& setup) {
  if (setup.use == StoreUse::NotOpened) {
    VerbEnv env{global, nullptr, Client(nullptr)};
    return setup.run(env);
  }
  auto store = open_store(global.store, setup.use);
  if (!store) return fail(store.error());
  VerbEnv env{global, *store, Client(*store)};
  return setup.run(env);
}

int run(int argc, char** argv) {
  CLI::App app("Inspect and operate a duroxide store.", "duroxide");
  app.footer(kFooter);
  app.require_subcommand(1);
  GlobalOptions global;  // only one verb is parsed, so the verbs share it
  std::vector<std::pair<CLI::App*, VerbSetup>> verbs;
  for (const VerbEntry& entry : verb_table()) {
    CLI::App* command = app.add_subcommand(std::string(entry.name), std::string(entry.summary));
    command->add_option("--store", global.store, "The store file (its -lock file lies beside it)")
        ->required()
        ->type_name("PATH");
    command->add_flag("--json", global.json, "Write JSON on standard output (docs/CLI.md)");
    verbs.emplace_back(command, entry.define(*command));
  }
  CLI::App* help = app.add_subcommand("help", "Show this help, or the help of one verb");
  std::string help_verb;
  help->add_option("VERB", help_verb, "The verb to explain");

  if (argc < 2) return usage_error("a verb is required");
  if (std::string_view(argv[1]) == "--version" && argc == 2) {
    std::fputs(fmt::format("duroxide {}\n", DUROXIDE_CLI_VERSION).c_str(), stdout);
    return kExitOk;
  }
  // CLI11 reports an unknown verb as a missing one; name it instead.
  if (argv[1][0] != '-' && std::string_view(argv[1]) != "help") {
    bool known = false;
    for (const VerbEntry& entry : verb_table()) known = known || entry.name == argv[1];
    if (!known) return usage_error(fmt::format("unknown verb '{}'", argv[1]));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (help->parsed()) return show_help(app, help_verb);
  for (const auto& [command, setup] : verbs) {
    if (command->parsed()) return run_verb(global, setup);
  }
  return usage_error("a verb is required");
}

}  // namespace
}  // namespace duroxide::cli

int main(int argc, char** argv) {
  try {
    return duroxide::cli::run(argc, argv);
  } catch (const std::exception& e) {
    // A bug of the command, not of the store or the caller; still one line and exit 1.
    return duroxide::cli::fail(fmt::format("internal error: {}", e.what()));
  }
}
