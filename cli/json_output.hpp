// SPDX-License-Identifier: MIT
// The JSON the command writes with --json (docs/CLI.md is its specification).
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <duroxide/management.hpp>

namespace duroxide::cli {

/// JSON values keep their keys in the order they were set, so the output reads as documented.
using Json = nlohmann::ordered_json;

/// Returns: "Running", "Completed" or "Failed" ("NotFound" for Kind::NotFound).
std::string_view status_name(OrchestrationStatus::Kind kind);

/// Returns: a JSON string of `text`, made valid UTF-8 first (each byte that does not begin a
/// well-formed sequence becomes U+FFFD), so that writing it never throws.
Json json_text(std::string_view text);

/// Returns: the instance object of `list --json` and `show --json`: instance_id, name,
/// version (null while empty), status, suspended, execution_id, custom_status (null when
/// unset), output (null unless Completed), error ({category, kind, message}, null unless
/// Failed), parent_id (null for top-level), created_at and updated_at (ms since the epoch).
Json instance_json(const InstanceInfo& info);

/// Returns: the StoreStats fields by name, as integers.
Json stats_json(const StoreStats& stats);

/// Writes `value` on stdout, indented by two spaces, followed by a line break.
void print_json(const Json& value);

}  // namespace duroxide::cli
