// SPDX-License-Identifier: MIT
// LmdbProvider::backup: a compacted copy of the store file.
#include "storage/lmdb_store.hpp"

namespace duroxide::storage {

Result<void, Error> LmdbStore::backup(std::string /*destination_path*/) {
  return Err(Error{ErrorCode::Internal, "backup is not implemented yet"});
}

}  // namespace duroxide::storage
