// SPDX-License-Identifier: MIT
// The verbs that remove instances or concern the whole store: delete, purge, stats, backup.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "cli/arg_checks.hpp"
#include "cli/json_output.hpp"
#include "cli/store.hpp"
#include "cli/table.hpp"
#include "cli/text.hpp"
#include "cli/time_format.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

void print_line(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
}

struct DeleteArgs {
  std::string id;
  bool force = false;
};

int run_delete(VerbEnv& env, const DeleteArgs& args) {
  auto deleted = env.client.delete_instance(args.id, args.force);
  if (!deleted) {
    if (deleted.error().code == ErrorCode::InvalidArgument && !args.force) {
      return fail(fmt::format("{} (--force deletes running instances)", describe(deleted.error())));
    }
    return fail(deleted.error());
  }
  if (env.global.json) {
    print_json({{"instance_id", json_text(args.id)}, {"deleted", *deleted}});
  } else {
    print_line(fmt::format("deleted {} instance{} ({} and its sub-orchestrations)", *deleted,
                           *deleted == 1 ? "" : "s", printable(args.id)));
  }
  return kExitOk;
}

struct PurgeArgs {
  std::string finished_before;  // an AGE, checked by the parser
};

int run_purge(VerbEnv& env, const PurgeArgs& args) {
  // In ms, where any AGE fits: system_clock counts nanoseconds, which overflow after 292
  // years, and an overflowed cutoff could lie in the future and purge everything.
  const TimestampMs cutoff_ms =
      std::max<TimestampMs>(0, now_ms() - parse_age(args.finished_before)->count());
  const std::chrono::system_clock::time_point cutoff{std::chrono::milliseconds(cutoff_ms)};
  auto purged = env.client.purge_instances(cutoff);
  if (!purged) return fail(purged.error());
  if (env.global.json) {
    print_json({{"deleted", *purged}, {"finished_before", cutoff_ms}});
  } else {
    print_line(fmt::format("deleted {} instance{} that finished before {}", *purged,
                           *purged == 1 ? "" : "s", iso_time(cutoff_ms)));
  }
  return kExitOk;
}

int run_stats(VerbEnv& env) {
  auto stats = env.client.get_store_stats();
  if (!stats) return fail(stats.error());
  if (env.global.json) {
    print_json(stats_json(*stats));
    return kExitOk;
  }
  Table table({"FIGURE", "VALUE"});
  const Json figures = stats_json(*stats);
  for (const auto& [name, value] : figures.items()) {
    table.add({name, std::to_string(value.get<std::uint64_t>())});
  }
  table.add({"file_size", byte_size(stats->file_bytes)});
  table.print(stdout);
  return kExitOk;
}

struct BackupArgs {
  std::string destination;
};

int run_backup(VerbEnv& env, const BackupArgs& args) {
  if (auto copied = env.store->backup(args.destination); !copied) return fail(copied.error());
  std::error_code ec;
  const auto size = std::filesystem::file_size(args.destination, ec);
  if (env.global.json) {
    print_json({{"destination", json_text(args.destination)},
                {"file_bytes", ec ? 0 : static_cast<std::uint64_t>(size)}});
  } else {
    print_line(fmt::format("copied {} to {} ({})", printable(env.store->path()),
                           printable(args.destination), ec ? "size unknown" : byte_size(size)));
  }
  return kExitOk;
}

}  // namespace

VerbSetup define_delete(CLI::App& command) {
  auto args = std::make_shared<DeleteArgs>();
  command.add_option("ID", args->id, "The instance id")->required();
  command.add_flag("--force", args->force, "Delete it even if it or a child is Running");
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_delete(env, *args); }};
}

VerbSetup define_purge(CLI::App& command) {
  auto args = std::make_shared<PurgeArgs>();
  command
      .add_option("--finished-before", args->finished_before,
                  "Delete finished top-level instances (with their children) that finished "
                  "longer ago than AGE: 30s, 15m, 12h, 7d")
      ->required()
      ->check(age_validator())
      ->type_name("AGE");
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_purge(env, *args); }};
}

VerbSetup define_stats(CLI::App&) { return {StoreUse::Existing, run_stats}; }

VerbSetup define_backup(CLI::App& command) {
  auto args = std::make_shared<BackupArgs>();
  command.add_option("DEST", args->destination, "The copy's path (must not exist)")->required();
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_backup(env, *args); }};
}

}  // namespace duroxide::cli
