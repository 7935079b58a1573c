// SPDX-License-Identifier: MIT
// Text from the store made fit for a terminal or for JSON: escaping, cutting, sizes.
#include "cli/text.hpp"

#include <fmt/core.h>

namespace duroxide::cli {

std::size_t utf8_length(std::string_view text) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = at(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // would be overlong
    if (lead == 0xed) second_max = 0x9f;  // would be a surrogate
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // would be overlong
    if (lead == 0xf4) second_max = 0x8f;  // would pass U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || at(1) < second_min || at(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((at(i) & 0xc0) != 0x80) return 0;
  }
  return length;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t length = utf8_length(text);
    if (length == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

namespace {

// Appends the escaped form of the sequence at the start of `text`. Returns: its length.
std::size_t append_printable(std::string& out, std::string_view text, bool quote_marks) {
  const std::size_t length = utf8_length(text);
  const auto byte = static_cast<unsigned char>(text[0]);
  if (length > 1) {
    out.append(text.substr(0, length));
    return length;
  }
  switch (byte) {
    case '\n':
      out += "\\n";
      return 1;
    case '\r':
      out += "\\r";
      return 1;
    case '\t':
      out += "\\t";
      return 1;
    case '\\':
      out += "\\\\";
      return 1;
    case '"':
      out += quote_marks ? "\\\"" : "\"";
      return 1;
    default:
      break;
  }
  if (length == 0 || byte < 0x20 || byte == 0x7f) {
    out += fmt::format("\\x{:02x}", byte);
  } else {
    out += static_cast<char>(byte);
  }
  return 1;
}

}  // namespace

std::string printable(std::string_view text, bool quote_marks) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) text.remove_prefix(append_printable(out, text, quote_marks));
  return out;
}

std::size_t display_width(std::string_view text) {
  std::size_t columns = 0;
  for (char c : text) columns += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return columns;
}

std::string byte_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(units)) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string payload(std::string_view data, std::size_t max_columns) {
  std::string out = "\"";
  std::string_view rest = data;
  std::size_t columns = 0;
  while (!rest.empty() && columns < max_columns) {
    std::string piece;
    rest.remove_prefix(append_printable(piece, rest, true));
    columns += display_width(piece);
    out += piece;
  }
  if (rest.empty()) return out += '"';
  out += "\xe2\x80\xa6\" (";  // U+2026 HORIZONTAL ELLIPSIS
  out += byte_size(data.size());
  out += ')';
  return out;
}

}  // namespace duroxide::cli
