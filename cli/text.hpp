// SPDX-License-Identifier: MIT
// Text from the store made fit for a terminal or for JSON: escaping, cutting, sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duroxide::cli {

/// Returns: the length of the well-formed UTF-8 sequence at the start of `text` (1 to 4), or 0
/// when its first byte does not begin one (no overlong forms, surrogates or values above
/// U+10FFFF). Requires: !text.empty().
std::size_t utf8_length(std::string_view text);

/// Returns: `text` with each byte that does not begin a well-formed UTF-8 sequence replaced by
/// U+FFFD, the rule of Client::read_history_json. The result is valid UTF-8.
std::string valid_utf8(std::string_view text);

/// Returns: `text` for a terminal, on one line: `\n` `\r` `\t` `\\` as those escapes, `"` as
/// `\"` when `quote_marks`, other control characters and DEL as `\xNN`, and each byte that
/// does not begin a well-formed UTF-8 sequence as `\xNN`.
std::string printable(std::string_view text, bool quote_marks = false);

/// Returns: how many columns `text` (valid UTF-8, no control characters) takes: its code
/// points (wide characters are counted as one).
std::size_t display_width(std::string_view text);

/// Returns: a byte count for people: "812 B", "12.3 KiB", "4.0 MiB", "1.2 GiB".
std::string byte_size(std::uint64_t bytes);

/// Returns: the payload in quotes, escaped as printable() does; one longer than `max_columns`
/// escaped columns is cut there and followed by "…" and its size: `"abc…" (12.3 KiB)`.
std::string payload(std::string_view data, std::size_t max_columns = 60);

}  // namespace duroxide::cli
