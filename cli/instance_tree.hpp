// SPDX-License-Identifier: MIT
// The sub-orchestrations of an instance, found through its history, as a tree.
#pragma once

#include <string>
#include <vector>

#include <duroxide/client.hpp>

namespace duroxide::cli {

/// One child in the tree of an instance.
struct ChildNode {
  InstanceInfo info;
  std::vector<ChildNode> children;
};

/// Returns: the children of `instance_id` and theirs, recursively: every instance named by a
/// SubOrchestrationScheduled event of any of its executions whose row names it as parent, in
/// the order they were scheduled. Children whose row is gone are left out; so are instances
/// met twice, and levels deeper than 16 or nodes past 1,000 (a bound on what one call reads).
Result<std::vector<ChildNode>, Error> child_tree(Client& client, const std::string& instance_id);

}  // namespace duroxide::cli
