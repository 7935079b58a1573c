// SPDX-License-Identifier: MIT
// `duroxide list`: the instances of the store, paged through Client::list_instances.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/arg_checks.hpp"
#include "cli/json_output.hpp"
#include "cli/store.hpp"
#include "cli/table.hpp"
#include "cli/text.hpp"
#include "cli/time_format.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

struct ListArgs {
  std::string status;  // empty: every status
  std::string prefix;
  std::size_t limit = 0;  // 0: every match
};

constexpr std::size_t kPageSize = 500;

InstanceListQuery base_query(const ListArgs& args) {
  InstanceListQuery query;
  using Kind = OrchestrationStatus::Kind;
  // `running` includes the suspended instances, which are Running too.
  if (args.status == "running" || args.status == "suspended") query.status = Kind::Running;
  if (args.status == "completed") query.status = Kind::Completed;
  if (args.status == "failed") query.status = Kind::Failed;
  query.id_prefix = args.prefix;
  query.page_size = kPageSize;
  return query;
}

// Reads pages until the limit or the last page. Returns: the matches, in id order.
Result<std::vector<InstanceInfo>, Error> collect(Client& client, const ListArgs& args) {
  InstanceListQuery query = base_query(args);
  const bool only_suspended = args.status == "suspended";
  std::vector<InstanceInfo> found;
  for (;;) {
    auto page = client.list_instances(query);
    if (!page) return Err(page.error());
    for (auto& info : page->instances) {
      if (only_suspended && !info.suspended) continue;
      found.push_back(std::move(info));
      if (args.limit != 0 && found.size() == args.limit) return found;
    }
    if (!page->next_start_after) return found;
    query.start_after = std::move(*page->next_start_after);
  }
}

std::string status_text(const InstanceInfo& info) {
  if (info.status == OrchestrationStatus::Kind::Running && info.suspended) return "Suspended";
  return std::string(status_name(info.status));
}

void print_table(const std::vector<InstanceInfo>& instances) {
  if (instances.empty()) {
    std::puts("no instances match");
    return;
  }
  const TimestampMs now = now_ms();
  Table table({"INSTANCE", "NAME", "VERSION", "STATUS", "EXEC", "UPDATED"});
  for (const auto& info : instances) {
    const auto updated =
        std::chrono::duration_cast<std::chrono::milliseconds>(info.updated_at.time_since_epoch())
            .count();
    table.add({printable(info.instance_id), printable(info.name),
               info.version.empty() ? "-" : printable(info.version), status_text(info),
               std::to_string(info.execution_id), when(updated, now)});
  }
  table.print(stdout);
}

int run_list(VerbEnv& env, const ListArgs& args) {
  auto instances = collect(env.client, args);
  if (!instances) return fail(instances.error());
  if (env.global.json) {
    Json out = Json::array();
    for (const auto& info : *instances) out.push_back(instance_json(info));
    print_json(out);
  } else {
    print_table(*instances);
  }
  return kExitOk;
}

}  // namespace

VerbSetup define_list(CLI::App& command) {
  auto args = std::make_shared<ListArgs>();
  command
      .add_option("--status", args->status,
                  "Only instances with this status (running includes suspended ones)")
      ->check(CLI::IsMember({"running", "completed", "failed", "suspended"}));
  command.add_option("--prefix", args->prefix, "Only instances whose id starts with P")
      ->type_name("P");
  command.add_option("--limit", args->limit, "At most N instances (default: every match)")
      ->check(count_validator())
      ->type_name("N");
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_list(env, *args); }};
}

}  // namespace duroxide::cli
