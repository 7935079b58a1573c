// SPDX-License-Identifier: MIT
// `duroxide show ID`: one instance with its result and the tree of its sub-orchestrations.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/instance_tree.hpp"
#include "cli/json_output.hpp"
#include "cli/store.hpp"
#include "cli/text.hpp"
#include "cli/time_format.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

struct ShowArgs {
  std::string id;
};

TimestampMs ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

std::string status_text(const InstanceInfo& info) {
  if (info.status == OrchestrationStatus::Kind::Running && info.suspended) {
    return "Running (suspended)";
  }
  return std::string(status_name(info.status));
}

void field(std::string_view key, const std::string& value) {
  std::fputs(fmt::format("{:<11} {}\n", key, value).c_str(), stdout);
}

void print_tree(const std::vector<ChildNode>& nodes, const std::string& indent) {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const bool last = i + 1 == nodes.size();
    const InstanceInfo& info = nodes[i].info;
    std::fputs(fmt::format("{}{} {}  {}  {}\n", indent, last ? "└─" : "├─",
                           printable(info.instance_id), printable(info.name), status_text(info))
                   .c_str(),
               stdout);
    print_tree(nodes[i].children, indent + (last ? "   " : "│  "));
  }
}

void print_instance(const InstanceInfo& info, const std::vector<ChildNode>& children) {
  const TimestampMs now = now_ms();
  field("instance", printable(info.instance_id));
  field("name", printable(info.name));
  field("version", info.version.empty() ? "- (not picked yet)" : printable(info.version));
  field("status", status_text(info));
  field("execution", std::to_string(info.execution_id));
  field("parent", info.parent_id.empty() ? "-" : printable(info.parent_id));
  field("created", when(ms(info.created_at), now));
  field("updated", when(ms(info.updated_at), now));
  field("custom", info.custom_status ? payload(*info.custom_status) : "-");
  if (info.status == OrchestrationStatus::Kind::Completed) field("output", payload(info.output));
  if (info.status == OrchestrationStatus::Kind::Failed) {
    field("error", fmt::format("{} / {}: {}", to_string(info.error.category()),
                               printable(info.error.kind()), payload(info.error.message(), 200)));
  }
  if (info.recovery_attempts > 0) field("recoveries", std::to_string(info.recovery_attempts));
  if (children.empty()) {
    field("children", "-");
    return;
  }
  field("children", std::to_string(children.size()));
  print_tree(children, "  ");
}

Json tree_json(const std::vector<ChildNode>& nodes) {
  Json out = Json::array();
  for (const auto& node : nodes) {
    const bool suspended =
        node.info.status == OrchestrationStatus::Kind::Running && node.info.suspended;
    out.push_back({{"instance_id", json_text(node.info.instance_id)},
                   {"name", json_text(node.info.name)},
                   {"status", std::string(status_name(node.info.status))},
                   {"suspended", suspended},
                   {"children", tree_json(node.children)}});
  }
  return out;
}

int run_show(VerbEnv& env, const ShowArgs& args) {
  auto info = env.client.get_instance_info(args.id);
  if (!info) return fail(info.error());
  auto children = child_tree(env.client, args.id);
  if (!children) return fail(children.error());
  if (env.global.json) {
    Json out = instance_json(*info);
    out["children"] = tree_json(*children);
    print_json(out);
  } else {
    print_instance(*info, *children);
  }
  return kExitOk;
}

}  // namespace

VerbSetup define_show(CLI::App& command) {
  auto args = std::make_shared<ShowArgs>();
  command.add_option("ID", args->id, "The instance id")->required();
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_show(env, *args); }};
}

}  // namespace duroxide::cli
