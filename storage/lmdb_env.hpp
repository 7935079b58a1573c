// SPDX-License-Identifier: MIT
// Env: one open LMDB environment holding a store, with its sub-databases, map resizing and txns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include <duroxide/error.hpp>
#include <duroxide/lmdb_provider.hpp>
#include <duroxide/result.hpp>

// LMDB's handle types, declared here so that only storage/lmdb_*.cpp include <lmdb.h>.
struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace duroxide::storage {

/// LMDB's MDB_dbi (checked against <lmdb.h> in lmdb_env.cpp).
using Dbi = unsigned int;

/// Handles of the store's named sub-databases (see storage/FORMAT.md).
struct Databases {
  Dbi meta = 0;
  Dbi instances = 0;
  Dbi history = 0;
  Dbi orchestrator_queue = 0;
  Dbi worker_queue = 0;
};

/// The `meta` sub-database: keys and the values this build writes.
inline constexpr std::string_view kMetaMagicKey = "magic";
inline constexpr std::string_view kMetaVersionKey = "format_version";
inline constexpr std::string_view kMetaNextSeqKey = "next_seq";
inline constexpr std::string_view kMagic = "duroxide.lmdb.store";
inline constexpr std::uint32_t kFormatVersion = 3;
/// The one older format version that opening upgrades in place (FORMAT.md).
inline constexpr std::uint32_t kUpgradableVersion = 2;

/// Returns: an Error for the LMDB (or errno) code `rc` of operation `what` on the store at
/// `path`: Corruption for damaged data, Incompatible for a foreign file, IOError otherwise.
Error lmdb_error(int rc, std::string_view what, const std::string& path);

/// An open environment: the file, its sub-databases, and the lock that makes resizing safe.
///
/// Thread safety: everything may be called from any thread, except grow(), which belongs to
/// the writer thread.
class Env {
 public:
  /// Opens or creates the store at `path` and checks its magic and format version; upgrades
  /// a store of kUpgradableVersion in place (FORMAT.md).
  /// Returns: the errors documented for LmdbProvider::open.
  static Result<std::unique_ptr<Env>, Error> open(const std::string& path,
                                                  const LmdbOptions& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* raw() const { return env_; }
  const Databases& dbs() const { return dbs_; }
  const std::string& path() const { return path_; }

  /// Held shared by every transaction (read or write) for its whole life, and exclusively
  /// while the map size changes: LMDB allows mdb_env_set_mapsize only with no txn in the
  /// process.
  std::shared_mutex& resize_mutex() { return resize_mutex_; }

  /// Doubles the map, up to max_map_size. Returns: IOError "store is full" at the limit.
  /// Requires: the caller holds no txn and no lock on resize_mutex().
  Result<void, Error> grow();
  /// Adopts the larger map size another process set (after MDB_MAP_RESIZED).
  /// Requires: as grow().
  Result<void, Error> adopt_map_size();
  /// Returns: the current map size in bytes.
  std::size_t map_size() const;
  /// Returns: the id of the last committed write txn (by any process).
  std::uint64_t last_txn_id() const;

 private:
  Env(std::string path, const LmdbOptions& options);
  Result<void, Error> open_file();
  Result<void, Error> check_file_size();
  Result<void, Error> open_databases();
  Result<bool, Error> open_databases_in(MDB_txn* txn, bool writable);
  Result<std::uint32_t, Error> check_meta(MDB_txn* txn);
  Result<void, Error> create_store(MDB_txn* txn);
  Result<void, Error> upgrade(MDB_txn* txn, std::uint32_t version);
  std::size_t map_size_unlocked() const;

  std::string path_;
  LmdbOptions options_;
  MDB_env* env_ = nullptr;
  Databases dbs_;
  mutable std::shared_mutex resize_mutex_;
  bool full_map_ = false;  ///< opening: the upgrade txn ran out of map
};

/// A short read-only transaction on the calling thread, holding the resize lock shared.
/// Requires: destroyed on the thread that made it, before the Env; never held across a fiber
/// suspension. Thread safety: none (one thread uses it).
class ReadTxn {
 public:
  explicit ReadTxn(Env& env);
  ~ReadTxn();
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;

  bool ok() const { return txn_ != nullptr; }
  /// Requires: !ok().
  const Error& error() const { return error_; }
  MDB_txn* get() const { return txn_; }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  MDB_txn* txn_ = nullptr;
  Error error_;
};

/// mdb_get/mdb_put/mdb_del with string views. Each returns LMDB's code (0, MDB_NOTFOUND, ...).
/// Lifetime: a value view points into the map and is valid until the txn ends or writes.
int db_get(MDB_txn* txn, Dbi dbi, std::string_view key, std::string_view* value);
int db_put(MDB_txn* txn, Dbi dbi, std::string_view key, std::string_view value, unsigned flags);
int db_del(MDB_txn* txn, Dbi dbi, std::string_view key);

/// Reads the store-wide queue sequence (meta `next_seq`). Returns: LMDB's code; MDB_CORRUPTED
/// if the value is missing or malformed.
int read_next_seq(MDB_txn* txn, const Databases& dbs, std::uint64_t* next_seq);

/// Aborts its txn when destroyed unless released (to commit it).
class TxnGuard {
 public:
  explicit TxnGuard(MDB_txn* txn) : txn_(txn) {}
  ~TxnGuard();
  TxnGuard(const TxnGuard&) = delete;
  TxnGuard& operator=(const TxnGuard&) = delete;
  MDB_txn* release() { return std::exchange(txn_, nullptr); }

 private:
  MDB_txn* txn_;
};

/// A cursor over one sub-database. Requires: destroyed before its txn ends (a write txn's
/// commit frees its cursors: close them first).
class Cursor {
 public:
  Cursor(MDB_txn* txn, Dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  /// Returns: the code of mdb_cursor_open (0 when usable).
  int status() const { return status_; }
  /// Each returns LMDB's code and fills key and value on success.
  int first(std::string_view* key, std::string_view* value);
  int seek(std::string_view from, std::string_view* key, std::string_view* value);  ///< >= from
  int next(std::string_view* key, std::string_view* value);
  /// Positions the cursor at `key` exactly and fills `value`.
  int find(std::string_view key, std::string_view* value);
  /// mdb_cursor_put: with MDB_CURRENT, replaces the record the cursor is at (`key` must be its
  /// key). Requires: a cursor of a write txn.
  int put(std::string_view key, std::string_view value, unsigned flags);

 private:
  MDB_cursor* cursor_ = nullptr;
  int status_ = 0;
};

}  // namespace duroxide::storage
