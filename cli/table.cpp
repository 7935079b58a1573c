// SPDX-License-Identifier: MIT
// Table: rows of text printed in aligned columns.
#include "cli/table.hpp"

#include <algorithm>

#include "cli/text.hpp"

namespace duroxide::cli {

void Table::print(std::FILE* out) const {
  std::vector<std::size_t> widths(rows_[0].size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string line;
  for (const auto& row : rows_) {
    line.clear();
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 == row.size()) break;
      line.append(widths[i] - display_width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();  // an empty last cell
    line += '\n';
    std::fputs(line.c_str(), out);
  }
}

}  // namespace duroxide::cli
