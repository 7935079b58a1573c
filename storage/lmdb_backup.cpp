// SPDX-License-Identifier: MIT
// LmdbProvider::backup: a compacted copy of the store file.
#include <lmdb.h>

#include "storage/lmdb_store.hpp"
#include "storage/platform/platform.hpp"

namespace duroxide::storage {

// LMDB's compacting copy reads the store in one read txn of its own, so it sees one commit and
// holds every commit acknowledged before it began; writers go on meanwhile. It holds the resize
// lock shared, as every txn of this process does: a commit that needs a larger map waits for
// the copy to end.
Result<void, Error> LmdbStore::backup(std::string destination_path) {
  const std::string where = "backup of store '" + path() + "' to '" + destination_path + "'";
  if (destination_path.empty()) {
    return Err(Error{ErrorCode::InvalidArgument, where + ": the destination path is empty"});
  }
  auto file = platform::NewFile::create(destination_path);
  if (!file) {
    return Err(Error{file.error().code, where + ": " + file.error().message});
  }
  constexpr int kMaxResizeRetries = 8;
  for (int attempt = 0;; ++attempt) {
    int rc = 0;
    {
      std::shared_lock lock(env_->resize_mutex());
      rc = mdb_env_copyfd2(env_->raw(), file->handle(), MDB_CP_COMPACT);
    }
    if (rc == 0) break;
    // Another process grew the map: adopt its size and copy again from the start.
    if (rc == MDB_MAP_RESIZED && attempt < kMaxResizeRetries) {
      if (auto adopted = env_->adopt_map_size(); !adopted) return Err(adopted.error());
      if (auto emptied = file->truncate(); !emptied) {
        return Err(Error{ErrorCode::IOError, where + ": " + emptied.error().message});
      }
      continue;
    }
    return Err(lmdb_error(rc, "backup to '" + destination_path + "'", path()));
  }  // a failure leaves `file` to remove the partial copy
  if (auto done = file->finish(); !done) {
    return Err(Error{ErrorCode::IOError, where + ": " + done.error().message});
  }
  return {};
}

}  // namespace duroxide::storage
