// SPDX-License-Identifier: MIT
// Raw LMDB reads in a closed store file (deletions: raw_lmdb.hpp), to damage it for the store check's tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace duroxide::storage::testing {

/// Returns: every entry (key, value) of sub-database `db` of the LMDB file at `path`, in key
/// order. Requires: as raw_put (raw_lmdb.hpp): no store of this process has the file open.
std::vector<std::pair<std::string, std::string>> raw_entries(const std::string& path,
                                                             const char* db);


/// Overwrites the bytes of `path` from `offset` on with `bytes` (plain file I/O).
void overwrite_file(const std::string& path, std::size_t offset, const std::string& bytes);

}  // namespace duroxide::storage::testing
