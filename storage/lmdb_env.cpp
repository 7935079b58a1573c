// SPDX-License-Identifier: MIT
// Opening, checking and resizing the LMDB environment of a store, and thin txn helpers.
#include "storage/lmdb_env.hpp"

#include <type_traits>
#include <utility>
#include <vector>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/lmdb_counts.hpp"
#include "storage/platform/platform.hpp"

static_assert(std::is_same_v<MDB_dbi, duroxide::storage::Dbi>);
static_assert(std::is_same_v<mdb_filehandle_t, duroxide::storage::platform::FileHandle>);

namespace duroxide::storage {
namespace {

constexpr unsigned kMaxDbs = 8;
/// How often a txn is retried after another process resized the map under it.
constexpr int kMaxResizeRetries = 8;
/// How often opening grows the map for an upgrade before it gives up.
constexpr int kMaxGrows = 40;

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};  // LMDB never writes through it
}

std::string_view from_val(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

std::string quoted(const std::string& path) { return "'" + path + "'"; }

/// The rest of the message for a store of a format version this build neither reads nor
/// upgrades.
std::string format_advice(std::uint32_t version) {
  const std::string reads =
      "this build does not read (it reads format version " + std::to_string(kFormatVersion) + ")";
  if (version < kFormatVersion) {
    return reads + ": format version " + std::to_string(version) +
           " was written by earlier builds; open the store with one of them, "
           "or remove the file and its -lock file to start an empty store";
  }
  if (version > kFormatVersion) return reads + ": it was written by a newer build";
  return reads;
}

}  // namespace

Error lmdb_error(int rc, std::string_view what, const std::string& path) {
  ErrorCode code = ErrorCode::IOError;
  switch (rc) {
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_PANIC:
      code = ErrorCode::Corruption;
      break;
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
      code = ErrorCode::Incompatible;
      break;
    case MDB_BAD_VALSIZE:
      code = ErrorCode::InvalidArgument;
      break;
    default:
      break;
  }
  return Error{code,
               "store " + quoted(path) + ": " + std::string(what) + " failed: " + mdb_strerror(rc)};
}

Env::Env(std::string path, const LmdbOptions& options)
    : path_(std::move(path)), options_(options) {}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Result<std::unique_ptr<Env>, Error> Env::open(const std::string& path, const LmdbOptions& options) {
  std::unique_ptr<Env> env(new Env(path, options));
  if (auto opened = env->open_file(); !opened) return Err(opened.error());
  if (auto sized = env->check_file_size(); !sized) return Err(sized.error());
  if (auto checked = env->open_databases(); !checked) return Err(checked.error());
  return env;
}

Result<void, Error> Env::open_file() {
  int rc = mdb_env_create(&env_);
  if (rc != 0) return Err(lmdb_error(rc, "creating the environment", path_));
  rc = mdb_env_set_maxreaders(env_, options_.max_readers);
  if (rc == 0) rc = mdb_env_set_maxdbs(env_, kMaxDbs);
  if (rc == 0) rc = mdb_env_set_mapsize(env_, options_.map_size);
  if (rc != 0) return Err(lmdb_error(rc, "configuring the environment", path_));
  // MDB_NOTLS: fibers sharing a thread each hold their own read txn, and a txn may end on
  // another thread than the one that began it.
  // Before mdb_env_open, which would create the file and its -lock file.
  if (!options_.create_if_missing) {
    const auto exists = platform::file_exists(path_);
    if (exists && !*exists) {
      return Err(
          make_error(ErrorCode::NotFound,
                     "store " + quoted(path_) + " does not exist (create_if_missing is false)"));
    }
  }
  const unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | (options_.sync ? 0u : unsigned{MDB_NOSYNC});
  rc = mdb_env_open(env_, path_.c_str(), flags, 0644);
  if (rc == MDB_INVALID) {
    return Err(make_error(ErrorCode::Incompatible,
                          quoted(path_) + " is not a duroxide store (not an LMDB file)"));
  }
  if (rc == MDB_VERSION_MISMATCH) {
    return Err(make_error(ErrorCode::Incompatible,
                          quoted(path_) + " was written by an incompatible LMDB version"));
  }
  if (rc != 0) return Err(lmdb_error(rc, "opening the file", path_));
  int dead = 0;
  mdb_reader_check(env_, &dead);  // frees reader slots of crashed processes; best effort
  return {};
}

// LMDB maps the file and trusts it to hold every page up to the last one its meta page names;
// touching a page past the end of a truncated file raises SIGBUS. Checking the size first
// turns that crash into an error.
Result<void, Error> Env::check_file_size() {
  MDB_envinfo info;
  MDB_stat stat;
  mdb_filehandle_t fd;
  if (mdb_env_info(env_, &info) != 0 || mdb_env_stat(env_, &stat) != 0 ||
      mdb_env_get_fd(env_, &fd) != 0) {
    return Err(make_error(ErrorCode::IOError, "cannot inspect store " + quoted(path_)));
  }
  const auto size = platform::file_size(fd);
  if (!size) {
    return Err(make_error(
        ErrorCode::IOError,
        "store " + quoted(path_) + ": reading the file size failed: " + size.error().message));
  }
  const auto needed = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  if (*size < needed) {
    return Err(make_error(ErrorCode::Corruption,
                          "store " + quoted(path_) + " is truncated: " + std::to_string(*size) +
                              " bytes, its pages need " + std::to_string(needed)));
  }
  return {};
}

// An existing store of this format is opened in a read txn only, so that opening a store
// another process is writing never waits for (nor holds up) its writer. Only a store that must
// change (a new one, an upgrade, counters to compute) gets a write txn, in which everything is
// checked again: another process may have created or upgraded it meanwhile. Both txns are
// begun and ended on the opening thread, before the writer thread exists. A failed check aborts
// the txn: a refused file is never modified.
Result<void, Error> Env::open_databases() {
  for (int attempt = 0;; ++attempt) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED && attempt < kMaxResizeRetries) {
      mdb_env_set_mapsize(env_, 0);
      continue;
    }
    if (rc != 0) return Err(lmdb_error(rc, "beginning the opening read txn", path_));
    TxnGuard guard(txn);
    auto ready = open_databases_in(txn, false);
    if (!ready) return Err(ready.error());
    if (!*ready) break;
    // Committing a read txn keeps the handles it opened (aborting it would close them).
    rc = mdb_txn_commit(guard.release());
    if (rc != 0) return Err(lmdb_error(rc, "ending the opening read txn", path_));
    return {};
  }
  for (int attempt = 0;; ++attempt) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == MDB_MAP_RESIZED && attempt < kMaxResizeRetries) {
      mdb_env_set_mapsize(env_, 0);
      continue;
    }
    if (rc != 0) return Err(lmdb_error(rc, "beginning the opening txn", path_));
    TxnGuard guard(txn);
    auto ready = open_databases_in(txn, true);
    if (!ready && ready.error().code == ErrorCode::IOError && full_map_ && attempt < kMaxGrows) {
      // An upgrade rewrites every row: the map may need to grow first.
      mdb_txn_abort(guard.release());
      full_map_ = false;
      if (auto grown = grow(); !grown) return grown;
      continue;
    }
    if (!ready) return Err(ready.error());
    rc = mdb_txn_commit(guard.release());
    if (rc == MDB_MAP_FULL && attempt < kMaxGrows) {
      if (auto grown = grow(); !grown) return grown;
      continue;
    }
    if (rc != 0) return Err(lmdb_error(rc, "committing the opening txn", path_));
    return {};
  }
}

// Returns: true when the store is ready; false when `writable` is false and it must change.
Result<bool, Error> Env::open_databases_in(MDB_txn* txn, bool writable) {
  int rc = mdb_dbi_open(txn, "meta", 0, &dbs_.meta);
  if (rc == MDB_NOTFOUND) {
    MDB_dbi main = 0;
    MDB_stat stat;
    rc = mdb_dbi_open(txn, nullptr, 0, &main);
    if (rc == 0) rc = mdb_stat(txn, main, &stat);
    if (rc != 0) return Err(lmdb_error(rc, "reading the main database", path_));
    if (stat.ms_entries != 0) {
      return Err(make_error(ErrorCode::Incompatible,
                            quoted(path_) + " is an LMDB file but not a duroxide store"));
    }
    if (!writable) return false;
    if (auto created = create_store(txn); !created) return Err(created.error());
    return true;
  }
  if (rc == MDB_INCOMPATIBLE) {
    return Err(make_error(ErrorCode::Incompatible, quoted(path_) + " is not a duroxide store"));
  }
  if (rc != 0) return Err(lmdb_error(rc, "opening the meta database", path_));
  auto version = check_meta(txn);
  if (!version) return Err(version.error());
  const std::pair<const char*, Dbi*> rest[] = {{"instances", &dbs_.instances},
                                               {"history", &dbs_.history},
                                               {"orchestrator_queue", &dbs_.orchestrator_queue},
                                               {"worker_queue", &dbs_.worker_queue}};
  for (const auto& [name, dbi] : rest) {
    rc = mdb_dbi_open(txn, name, 0, dbi);
    if (rc != 0)
      return Err(lmdb_error(rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc,
                            std::string("opening sub-database ") + name, path_));
  }
  InstanceCounts counts;
  rc = read_counts(txn, dbs_, &counts);
  if (rc != 0 && rc != MDB_NOTFOUND) return Err(lmdb_error(rc, "reading the counters", path_));
  if (*version == kFormatVersion && rc == 0) return true;
  if (!writable) return false;
  if (auto upgraded = upgrade(txn, *version); !upgraded) return Err(upgraded.error());
  return true;
}

// Format version 2 rows are rewritten as class version 5; a store of this format without
// counters (written by a build before they existed) only gets them counted.
Result<void, Error> Env::upgrade(MDB_txn* txn, std::uint32_t version) {
  constexpr std::size_t kChunkRows = 1024;
  const bool rewrite = version == kUpgradableVersion;
  InstanceCounts counts;
  std::string after;  // the last key done; empty before the first chunk
  for (bool more = true; more;) {
    std::vector<std::pair<std::string, std::string>> chunk;
    {
      Cursor cursor(txn, dbs_.instances);
      if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "upgrading", path_));
      std::string_view key;
      std::string_view value;
      int rc = after.empty() ? cursor.first(&key, &value) : cursor.seek(after, &key, &value);
      if (rc == 0 && !after.empty() && key == after) rc = cursor.next(&key, &value);
      for (; rc == 0 && chunk.size() < kChunkRows; rc = cursor.next(&key, &value)) {
        if (!rewrite) {
          counts.add_row(value, 1);
          continue;
        }
        auto upgraded = upgrade_instance_record_v4(value);
        if (!upgraded) {
          return Err(make_error(ErrorCode::Corruption, "store " + quoted(path_) +
                                                           ": upgrading instance '" +
                                                           std::string(key.substr(0, 64)) +
                                                           "': " + upgraded.error().message));
        }
        counts.add(upgraded->second.state, upgraded->second.suspended, 1);
        chunk.emplace_back(std::string(key), std::move(upgraded->first));
      }
      if (rc != 0 && rc != MDB_NOTFOUND) return Err(lmdb_error(rc, "upgrading", path_));
      more = rc == 0 && rewrite;  // counting alone needs one pass
    }
    for (const auto& [key, value] : chunk) {
      if (const int rc = db_put(txn, dbs_.instances, key, value, 0); rc != 0) {
        full_map_ = rc == MDB_MAP_FULL;
        return Err(lmdb_error(rc, "upgrading", path_));
      }
    }
    if (!chunk.empty()) after = chunk.back().first;
  }
  std::string format;
  put_be32(format, kFormatVersion);
  int rc = write_counts(txn, dbs_, counts);
  if (rc == 0) rc = db_put(txn, dbs_.meta, kMetaVersionKey, format, 0);
  if (rc != 0) {
    full_map_ = rc == MDB_MAP_FULL;
    return Err(lmdb_error(rc, "upgrading", path_));
  }
  return {};
}

// Returns: the format version, which is this build's or one it upgrades.
Result<std::uint32_t, Error> Env::check_meta(MDB_txn* txn) {
  std::string_view value;
  int rc = db_get(txn, dbs_.meta, kMetaMagicKey, &value);
  if (rc == MDB_NOTFOUND || (rc == 0 && value != kMagic)) {
    return Err(make_error(ErrorCode::Incompatible,
                          quoted(path_) + " is not a duroxide store (wrong magic)"));
  }
  if (rc == 0) rc = db_get(txn, dbs_.meta, kMetaVersionKey, &value);
  if (rc == 0 && value.size() != 4) rc = MDB_CORRUPTED;
  if (rc != 0)
    return Err(
        lmdb_error(rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "reading the format version", path_));
  const std::uint32_t version = get_be32(value);
  if (version != kFormatVersion && version != kUpgradableVersion) {
    return Err(make_error(ErrorCode::Incompatible,
                          "store " + quoted(path_) + " has format version " +
                              std::to_string(version) + ", which " + format_advice(version)));
  }
  rc = db_get(txn, dbs_.meta, kMetaNextSeqKey, &value);
  if (rc == 0 && value.size() != 8) rc = MDB_CORRUPTED;
  if (rc != 0)
    return Err(lmdb_error(rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "reading next_seq", path_));
  return version;
}

Result<void, Error> Env::create_store(MDB_txn* txn) {
  const std::pair<const char*, Dbi*> all[] = {{"meta", &dbs_.meta},
                                              {"instances", &dbs_.instances},
                                              {"history", &dbs_.history},
                                              {"orchestrator_queue", &dbs_.orchestrator_queue},
                                              {"worker_queue", &dbs_.worker_queue}};
  for (const auto& [name, dbi] : all) {
    const int rc = mdb_dbi_open(txn, name, MDB_CREATE, dbi);
    if (rc != 0) return Err(lmdb_error(rc, std::string("creating sub-database ") + name, path_));
  }
  std::string version;
  put_be32(version, kFormatVersion);
  std::string next_seq;
  put_be64(next_seq, 1);
  int rc = db_put(txn, dbs_.meta, kMetaMagicKey, kMagic, 0);
  if (rc == 0) rc = db_put(txn, dbs_.meta, kMetaVersionKey, version, 0);
  if (rc == 0) rc = db_put(txn, dbs_.meta, kMetaNextSeqKey, next_seq, 0);
  if (rc == 0) rc = write_counts(txn, dbs_, InstanceCounts{});
  if (rc != 0) return Err(lmdb_error(rc, "initialising the store", path_));
  return {};
}

Result<void, Error> Env::grow() {
  std::unique_lock lock(resize_mutex_);
  const std::size_t current = map_size_unlocked();
  const std::size_t limit = options_.max_map_size;
  if (current >= limit) {
    return Err(make_error(ErrorCode::IOError, "store " + quoted(path_) +
                                                  " is full: its map reached max_map_size (" +
                                                  std::to_string(limit) + " bytes)"));
  }
  const std::size_t next = current > limit / 2 ? limit : current * 2;
  const int rc = mdb_env_set_mapsize(env_, next);
  if (rc != 0) return Err(lmdb_error(rc, "growing the map", path_));
  return {};
}

Result<void, Error> Env::adopt_map_size() {
  std::unique_lock lock(resize_mutex_);
  const int rc = mdb_env_set_mapsize(env_, 0);
  if (rc != 0) return Err(lmdb_error(rc, "adopting the map size", path_));
  return {};
}

// mdb_env_info reads the meta pages through the map, which a resize replaces: shared lock.
std::size_t Env::map_size() const {
  std::shared_lock lock(resize_mutex_);
  return map_size_unlocked();
}

std::size_t Env::map_size_unlocked() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

std::uint64_t Env::last_txn_id() const {
  std::shared_lock lock(resize_mutex_);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_last_txnid;
}

ReadTxn::ReadTxn(Env& env) {
  for (int attempt = 0;; ++attempt) {
    lock_ = std::shared_lock(env.resize_mutex());
    const int rc = mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn_);
    if (rc == 0) return;
    txn_ = nullptr;
    lock_.unlock();
    if (rc == MDB_MAP_RESIZED && attempt < kMaxResizeRetries) {
      if (auto adopted = env.adopt_map_size(); adopted) continue;
    }
    error_ = lmdb_error(rc, "beginning a read txn", env.path());
    return;
  }
}

ReadTxn::~ReadTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

int read_next_seq(MDB_txn* txn, const Databases& dbs, std::uint64_t* next_seq) {
  std::string_view value;
  const int rc = db_get(txn, dbs.meta, kMetaNextSeqKey, &value);
  if (rc != 0) return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
  if (value.size() != 8) return MDB_CORRUPTED;
  *next_seq = get_be64(value);
  return 0;
}

int db_get(MDB_txn* txn, Dbi dbi, std::string_view key, std::string_view* value) {
  MDB_val k = to_val(key);
  MDB_val v{0, nullptr};
  const int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == 0) *value = from_val(v);
  return rc;
}

int db_put(MDB_txn* txn, Dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  return mdb_put(txn, dbi, &k, &v, flags);
}

int db_del(MDB_txn* txn, Dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  return mdb_del(txn, dbi, &k, nullptr);
}

TxnGuard::~TxnGuard() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

Cursor::Cursor(MDB_txn* txn, Dbi dbi) : status_(mdb_cursor_open(txn, dbi, &cursor_)) {
  if (status_ != 0) cursor_ = nullptr;
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

namespace {
int cursor_get(MDB_cursor* cursor, MDB_val* k, std::string_view* key, std::string_view* value,
               MDB_cursor_op op) {
  MDB_val v{0, nullptr};
  const int rc = mdb_cursor_get(cursor, k, &v, op);
  if (rc == 0) {
    *key = from_val(*k);
    *value = from_val(v);
  }
  return rc;
}
}  // namespace

int Cursor::first(std::string_view* key, std::string_view* value) {
  MDB_val k{0, nullptr};
  return cursor_get(cursor_, &k, key, value, MDB_FIRST);
}

int Cursor::seek(std::string_view from, std::string_view* key, std::string_view* value) {
  MDB_val k = to_val(from);
  return cursor_get(cursor_, &k, key, value, MDB_SET_RANGE);
}

int Cursor::next(std::string_view* key, std::string_view* value) {
  MDB_val k{0, nullptr};
  return cursor_get(cursor_, &k, key, value, MDB_NEXT);
}

int Cursor::find(std::string_view key, std::string_view* value) {
  MDB_val k = to_val(key);
  std::string_view found_key;
  return cursor_get(cursor_, &k, &found_key, value, MDB_SET_KEY);
}

int Cursor::put(std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  return mdb_cursor_put(cursor_, &k, &v, flags);
}

}  // namespace duroxide::storage
