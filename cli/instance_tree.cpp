// SPDX-License-Identifier: MIT
// The sub-orchestrations of an instance, found through its history, as a tree.
#include "cli/instance_tree.hpp"

#include <set>

namespace duroxide::cli {
namespace {

constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxNodes = 1000;

struct Walk {
  Client& client;
  std::set<std::string> seen;
};

// Returns: the ids the instance's histories schedule as sub-orchestrations, in order.
Result<std::vector<std::string>, Error> scheduled_children(Client& client, const std::string& id) {
  auto executions = client.list_executions(id);
  if (!executions) return Err(executions.error());
  std::vector<std::string> ids;
  for (std::uint64_t execution : *executions) {
    auto history = client.read_history(id, execution);
    if (!history) {
      if (history.error().code == ErrorCode::NotFound) continue;  // purged meanwhile
      return Err(history.error());
    }
    for (const auto& event : *history) {
      if (event.kind == EventKind::SubOrchestrationScheduled) ids.push_back(event.instance);
    }
  }
  return ids;
}

Result<std::vector<ChildNode>, Error> children_of(Walk& walk, const std::string& id, int depth) {
  std::vector<ChildNode> nodes;
  if (depth > kMaxDepth) return nodes;
  auto ids = scheduled_children(walk.client, id);
  if (!ids) {
    if (ids.error().code == ErrorCode::NotFound) return nodes;  // deleted meanwhile
    return Err(ids.error());
  }
  for (const auto& child_id : *ids) {
    if (walk.seen.size() >= kMaxNodes || !walk.seen.insert(child_id).second) continue;
    auto info = walk.client.get_instance_info(child_id);
    if (!info) {
      if (info.error().code == ErrorCode::NotFound) continue;
      return Err(info.error());
    }
    if (info->parent_id != id) continue;  // the id was reused by an unrelated instance
    auto grandchildren = children_of(walk, child_id, depth + 1);
    if (!grandchildren) return Err(grandchildren.error());
    nodes.push_back(ChildNode{std::move(*info), std::move(*grandchildren)});
  }
  return nodes;
}

}  // namespace

Result<std::vector<ChildNode>, Error> child_tree(Client& client, const std::string& instance_id) {
  Walk walk{client, {instance_id}};
  return children_of(walk, instance_id, 1);
}

}  // namespace duroxide::cli
