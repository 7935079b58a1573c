// SPDX-License-Identifier: MIT
// Raw LMDB reads and deletions in a closed store file.
#include "test/storage/check_raw.hpp"

#include <fstream>

#include <doctest/doctest.h>
#include <lmdb.h>

namespace duroxide::storage::testing {
namespace {

/// One write txn on the file (LMDB's own calls, no store), committed by commit().
class RawTxn {
 public:
  RawTxn(const std::string& path, const char* db) {
    REQUIRE(mdb_env_create(&env_) == 0);
    REQUIRE(mdb_env_set_maxdbs(env_, 8) == 0);
    REQUIRE(mdb_env_open(env_, path.c_str(), MDB_NOSUBDIR, 0644) == 0);
    REQUIRE(mdb_txn_begin(env_, nullptr, 0, &txn_) == 0);
    REQUIRE(mdb_dbi_open(txn_, db, 0, &dbi_) == 0);
  }
  ~RawTxn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }
  RawTxn(const RawTxn&) = delete;
  RawTxn& operator=(const RawTxn&) = delete;

  MDB_txn* txn() const { return txn_; }
  MDB_dbi dbi() const { return dbi_; }
  void commit() {
    REQUIRE(mdb_txn_commit(txn_) == 0);
    txn_ = nullptr;
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
  MDB_dbi dbi_ = 0;
};

std::string bytes(const MDB_val& val) {
  return std::string(static_cast<const char*>(val.mv_data), val.mv_size);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> raw_entries(const std::string& path,
                                                             const char* db) {
  RawTxn raw(path, db);
  MDB_cursor* cursor = nullptr;
  REQUIRE(mdb_cursor_open(raw.txn(), raw.dbi(), &cursor) == 0);
  std::vector<std::pair<std::string, std::string>> entries;
  MDB_val key{0, nullptr};
  MDB_val value{0, nullptr};
  for (int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
    entries.emplace_back(bytes(key), bytes(value));
  }
  mdb_cursor_close(cursor);
  return entries;
}

void overwrite_file(const std::string& path, std::size_t offset, const std::string& bytes) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  REQUIRE(file.good());
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(file.good());
}

}  // namespace duroxide::storage::testing
