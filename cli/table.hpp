// SPDX-License-Identifier: MIT
// Table: rows of text printed in aligned columns.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace duroxide::cli {

/// Rows of cells printed with each column as wide as its widest cell, two spaces apart; the
/// last column is not padded. Cells must be printable text (see printable() in text.hpp).
/// Thread safety: a plain value type.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : rows_{std::move(headers)} {}
  /// Requires: as many cells as headers.
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  /// Returns: how many rows were added (the header not counted).
  std::size_t size() const { return rows_.size() - 1; }
  /// Writes the header and the rows to `out`.
  void print(std::FILE* out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0]: the header
};

}  // namespace duroxide::cli
