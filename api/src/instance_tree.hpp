// SPDX-License-Identifier: MIT
// InstanceTree: which stored instances are sub-orchestrations of which, read from the rows.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide::detail {

/// A snapshot of every instance row reduced to what deletion decides on: state, last change,
/// parent and children. Thread safety: a plain value type.
class InstanceTree {
 public:
  struct Node {
    InstanceState state = InstanceState::Running;
    TimestampMs updated_at = 0;
    std::string parent_id;
    std::vector<std::string> children;
  };

  /// Reads every row of `store`, page by page (each page one read transaction).
  static Result<InstanceTree, Error> load(Provider& store);

  /// Returns: the node of `instance_id`, or null if it has no row.
  const Node* find(const std::string& instance_id) const;
  /// Returns: `instance_id` followed by its descendants (children before grandchildren), each
  /// once, even if damaged rows make the parent links loop.
  std::vector<std::string> subtree(const std::string& instance_id) const;
  /// Returns: the first Running instance of `ids`, or null.
  const std::string* first_running(const std::vector<std::string>& ids) const;
  /// Returns: the instances without a parent row (top-level, whose parent is gone, or that
  /// name themselves as parent).
  std::vector<std::string> roots() const;

 private:
  std::map<std::string, Node> nodes_;
};

}  // namespace duroxide::detail
