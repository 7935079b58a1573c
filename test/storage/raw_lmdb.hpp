// SPDX-License-Identifier: MIT
// Raw LMDB writes into a closed store file, for tests of damaged or foreign records.
#pragma once

#include <string>

namespace duroxide::storage::testing {

/// Writes `value` under `key` in sub-database `db` (null: the main one) of the LMDB file at
/// `path` with plain LMDB, creating the sub-database if missing. Requires: no store of this
/// process has the file open (LMDB forbids two environments on one file in a process).
void raw_put(const std::string& path, const char* db, const std::string& key,
             const std::string& value);

/// Deletes `key` from sub-database `db` of the LMDB file at `path` (a missing key is fine).
/// Requires: as raw_put.
void raw_del(const std::string& path, const char* db, const std::string& key);

}  // namespace duroxide::storage::testing
