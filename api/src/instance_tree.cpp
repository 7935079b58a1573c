// SPDX-License-Identifier: MIT
// InstanceTree: the parent links of every stored instance, read page by page.
#include "api/src/instance_tree.hpp"

#include <set>

namespace duroxide::detail {
namespace {

constexpr std::size_t kPageRows = 1000;

}  // namespace

Result<InstanceTree, Error> InstanceTree::load(Provider& store) {
  InstanceTree tree;
  InstanceQuery query;
  query.limit = kPageRows;
  for (;;) {
    auto rows = store.list_instances(query);
    if (!rows) return Err(rows.error());
    for (auto& row : *rows) {
      Node& node = tree.nodes_[row.instance_id];
      node.state = row.state;
      node.updated_at = row.updated_at;
      node.parent_id = std::move(row.parent_id);
    }
    if (rows->size() < kPageRows) break;
    query.start_after = rows->back().instance_id;
  }
  for (const auto& [id, node] : tree.nodes_) {
    if (node.parent_id.empty()) continue;
    const auto parent = tree.nodes_.find(node.parent_id);
    if (parent != tree.nodes_.end()) parent->second.children.push_back(id);
  }
  return tree;
}

const InstanceTree::Node* InstanceTree::find(const std::string& instance_id) const {
  const auto it = nodes_.find(instance_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<std::string> InstanceTree::subtree(const std::string& instance_id) const {
  std::vector<std::string> ids = {instance_id};
  std::set<std::string> seen = {instance_id};
  for (std::size_t next = 0; next < ids.size(); ++next) {
    const Node* node = find(ids[next]);
    if (node == nullptr) continue;
    for (const auto& child : node->children) {
      if (seen.insert(child).second) ids.push_back(child);
    }
  }
  return ids;
}

const std::string* InstanceTree::first_running(const std::vector<std::string>& ids) const {
  for (const auto& id : ids) {
    const Node* node = find(id);
    if (node != nullptr && node->state == InstanceState::Running) return &id;
  }
  return nullptr;
}

std::vector<std::string> InstanceTree::roots() const {
  std::vector<std::string> ids;
  for (const auto& [id, node] : nodes_) {
    const bool orphan = nodes_.count(node.parent_id) == 0 || node.parent_id == id;
    if (node.parent_id.empty() || orphan) ids.push_back(id);
  }
  return ids;
}

}  // namespace duroxide::detail
