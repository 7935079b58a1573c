// SPDX-License-Identifier: MIT
// History as JSON text, for Client::read_history_json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <duroxide/provider.hpp>

namespace duroxide::detail {

/// Returns: `events` as the JSON array documented at Client::read_history_json.
std::string history_json(const std::vector<HistoryEvent>& events);

/// Appends `text` to `out` as a JSON string literal, quotes included: `"` `\` and control
/// characters escaped, each byte that does not begin a well-formed UTF-8 sequence replaced by
/// \ufffd.
void append_json_string(std::string& out, std::string_view text);

}  // namespace duroxide::detail
