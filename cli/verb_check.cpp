// SPDX-License-Identifier: MIT
// `duroxide check`: the integrity check of a whole store file (exit 0 clean, 1 with a report).
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include <duroxide/store_check.hpp>

#include "cli/json_output.hpp"
#include "cli/store.hpp"
#include "cli/table.hpp"
#include "cli/text.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

Json report_json(const StoreCheckReport& report) {
  Json problems = Json::array();
  for (const auto& problem : report.problems) {
    problems.push_back(
        Json{{"where", json_text(problem.where)}, {"what", json_text(problem.what)}});
  }
  return Json{{"ok", report.ok()},
              {"records_read", report.records_read},
              {"instances", report.instances},
              {"history_events", report.history_events},
              {"queued_messages", report.queued_messages},
              {"queued_activities", report.queued_activities},
              {"problem_count", report.problem_count},
              {"problems", std::move(problems)}};
}

void print_report(const StoreCheckReport& report) {
  std::fputs(fmt::format("read {} records: {} rows, {} history events, {} queued messages, {} "
                         "queued activities\n",
                         report.records_read, report.instances, report.history_events,
                         report.queued_messages, report.queued_activities)
                 .c_str(),
             stdout);
  if (report.ok()) {
    std::fputs("no problems found\n", stdout);
    return;
  }
  Table table({"WHERE", "WHAT"});
  for (const auto& problem : report.problems) {
    table.add({printable(problem.where), printable(problem.what)});
  }
  table.print(stdout);
  const auto shown = static_cast<std::uint64_t>(report.problems.size());
  std::fputs(fmt::format("{} problem{} found{}\n", report.problem_count,
                         report.problem_count == 1 ? "" : "s",
                         shown < report.problem_count ? fmt::format(" ({} shown)", shown) : "")
                 .c_str(),
             stdout);
}

// The check reads the file in a child process (check_store_file), so that a damaged file
// can never kill the command by a signal; the command itself does not open the store.
int run_check(VerbEnv& env) {
  auto report = check_store_file(env.global.store);
  if (!report) {
    if (report.error().code == ErrorCode::NotFound) {
      return fail(fmt::format("store '{}' does not exist", printable(env.global.store)));
    }
    return fail(report.error());
  }
  if (env.global.json) {
    print_json(report_json(*report));
  } else {
    print_report(*report);
  }
  return report->ok() ? kExitOk : kExitFailed;
}

}  // namespace

VerbSetup define_check(CLI::App&) { return {StoreUse::NotOpened, run_check}; }

}  // namespace duroxide::cli
