// SPDX-License-Identifier: MIT
// check_store_file: the store check of a file, run by a forked child that opens it read-only.
#include <filesystem>
#include <system_error>
#include <utility>

#include <lmdb.h>

#include <duroxide/store_check.hpp>

#include "storage/keys.hpp"
#include "storage/lmdb_check.hpp"
#include "storage/lmdb_check_wire.hpp"
#include "storage/platform/child_process.hpp"
#include "storage/platform/platform.hpp"

namespace duroxide::storage {
namespace {

constexpr unsigned kMaxDbs = 8;  // as lmdb_env.cpp: the five sub-databases and room

std::string quoted(const std::string& path) {
  std::string out("'");
  return (out += path) += "'";
}

Error not_a_store(const std::string& path, std::string_view why) {
  std::string message = quoted(path);
  (message += " is not a duroxide store") += why;
  return Error{ErrorCode::Incompatible, std::move(message)};
}

bool is_damage(int rc) { return lmdb_error(rc, "", "").code == ErrorCode::Corruption; }

/// A read-only environment of the child, closed when it ends.
class ReadOnlyEnv {
 public:
  ReadOnlyEnv() = default;
  ~ReadOnlyEnv() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    if (env_ != nullptr) mdb_env_close(env_);
  }
  ReadOnlyEnv(const ReadOnlyEnv&) = delete;
  ReadOnlyEnv& operator=(const ReadOnlyEnv&) = delete;

  int open(const std::string& path) {
    int rc = mdb_env_create(&env_);
    if (rc != 0) return rc;
    // A reader that is the first to open the file sizes its lock file: as a store does.
    rc = mdb_env_set_maxreaders(env_, LmdbOptions{}.max_readers);
    if (rc == 0) rc = mdb_env_set_maxdbs(env_, kMaxDbs);
    if (rc != 0) return rc;
    return mdb_env_open(env_, path.c_str(), MDB_NOSUBDIR | MDB_RDONLY | MDB_NOTLS, 0644);
  }
  MDB_env* env() const { return env_; }
  int begin() { return mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_); }
  MDB_txn* txn() const { return txn_; }

 private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

/// Returns: a problem text if the file is shorter than the pages its meta page names (a read
/// past its end would raise SIGBUS), else nullopt.
std::optional<std::string> truncation(MDB_env* env) {
  MDB_envinfo info;
  MDB_stat stat;
  mdb_filehandle_t fd;
  if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &stat) != 0 ||
      mdb_env_get_fd(env, &fd) != 0) {
    return "cannot be inspected";
  }
  const auto size = platform::file_size(fd);
  if (!size) return "its size cannot be read: " + size.error().message;
  const auto needed = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  if (*size >= needed) return std::nullopt;
  std::string what("is truncated: ");
  return ((what += std::to_string(*size)) += " bytes, its pages need ") += std::to_string(needed);
}

/// The checks of LmdbProvider::open that tell a store from another file, read-only: an
/// Error for a file that is not a store of this format; problems for damage.
class Opener {
 public:
  Opener(const std::string& path, ProblemSink& problems) : path_(path), problems_(problems) {}

  Result<void, Error> open_meta(MDB_txn* txn, CheckDbs& dbs) {
    Dbi meta = 0;
    const int rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == MDB_NOTFOUND) return Err(not_a_store(path_, " (it has no meta sub-database)"));
    if (rc == MDB_INCOMPATIBLE) return Err(not_a_store(path_, ""));
    if (rc != 0) {
      damaged("sub-database 'meta'", rc);
      return {};
    }
    dbs.meta = meta;
    std::string_view value;
    const int magic = db_get(txn, meta, kMetaMagicKey, &value);
    if (magic == MDB_NOTFOUND || (magic == 0 && value != kMagic)) {
      return Err(not_a_store(path_, " (wrong magic)"));
    }
    if (db_get(txn, meta, kMetaVersionKey, &value) == 0 && value.size() == 4 &&
        get_be32(value) != kFormatVersion) {
      std::string message("store ");
      message += quoted(path_);
      message += " has format version ";
      message += std::to_string(get_be32(value));
      message += ", which this build does not read (it reads format version ";
      return Err(
          Error{ErrorCode::Incompatible, (message += std::to_string(kFormatVersion)) += ")"});
    }
    return {};
  }

  void open_rest(MDB_txn* txn, CheckDbs& dbs) {
    const std::pair<const char*, std::optional<Dbi>*> rest[] = {
        {"instances", &dbs.instances},
        {"history", &dbs.history},
        {"orchestrator_queue", &dbs.orchestrator_queue},
        {"worker_queue", &dbs.worker_queue}};
    for (const auto& [name, dbi] : rest) {
      Dbi handle = 0;
      const int rc = mdb_dbi_open(txn, name, 0, &handle);
      std::string where("sub-database '");
      (where += name) += "'";
      if (rc == MDB_NOTFOUND) {
        problems_.add(std::move(where), "is missing");
      } else if (rc != 0) {
        damaged(std::move(where), rc);
      } else {
        *dbi = handle;
      }
    }
  }

  void damaged(std::string where, int rc) {
    problems_.add(std::move(where), std::string("cannot be read: ") + mdb_strerror(rc));
  }

 private:
  const std::string& path_;
  ProblemSink& problems_;
};

Result<StoreCheckReport, Error> check_in_child(const std::string& path,
                                               const StoreCheckOptions& options,
                                               const StageFn& stage) {
  StoreCheckReport report;
  ProblemSink problems(report, options.max_problems);
  stage("store file");
  ReadOnlyEnv env;
  int rc = env.open(path);
  if (rc == MDB_INVALID) return Err(not_a_store(path, " (not an LMDB file)"));
  if (rc == MDB_VERSION_MISMATCH) {
    return Err(Error{ErrorCode::Incompatible,
                     quoted(path) + " was written by an incompatible LMDB version"});
  }
  if (rc == ENOENT) return Err(Error{ErrorCode::NotFound, quoted(path) + " does not exist"});
  if (rc != 0 && !is_damage(rc)) return Err(lmdb_error(rc, "opening the file", path));
  if (rc == 0) {
    if (auto truncated = truncation(env.env())) {
      problems.add("store file", std::move(*truncated));
      return report;
    }
    rc = env.begin();
  }
  if (rc != 0) {
    if (!is_damage(rc)) return Err(lmdb_error(rc, "beginning a read txn", path));
    problems.add("store file", std::string("cannot be read: ") + mdb_strerror(rc));
    return report;
  }
  CheckDbs dbs;
  Opener opener(path, problems);
  if (auto meta = opener.open_meta(env.txn(), dbs); !meta) return Err(meta.error());
  opener.open_rest(env.txn(), dbs);
  check_snapshot(env.txn(), dbs, options, report, stage);
  return report;
}

StoreCheckReport crashed(int signal, const std::optional<std::string>& stage) {
  StoreCheckReport report;
  report.problem_count = 1;
  std::string what("reading the store crashed (");
  (what += platform::signal_name(signal)) += "): its LMDB structure is damaged";
  report.problems.push_back(StoreProblem{stage.value_or("store file"), std::move(what)});
  return report;
}

}  // namespace
}  // namespace duroxide::storage

namespace duroxide {

Result<StoreCheckReport, Error> check_store_file(const std::string& path,
                                                 StoreCheckOptions options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return Err(Error{ErrorCode::NotFound, storage::quoted(path) + " does not exist"});
  }
  if (ec) {
    return Err(
        Error{ErrorCode::IOError, storage::quoted(path) + " cannot be inspected: " + ec.message()});
  }
  if (status.type() != fs::file_type::regular) {
    return Err(storage::not_a_store(path, " (not a regular file)"));
  }
  // LMDB would take an empty file for a new environment (and LmdbProvider::open make a store).
  if (fs::file_size(path, ec) == 0 && !ec) return Err(storage::not_a_store(path, " (it is empty)"));
  auto outcome = storage::platform::run_in_child([&](const storage::platform::SendFn& send) {
    auto result = storage::check_in_child(
        path, options, [&](std::string_view where) { send(storage::encode_stage(where)); });
    send(storage::encode_result(result));
  });
  if (!outcome) return Err(outcome.error());
  storage::ChildStream stream = storage::decode_child_stream(outcome->output);
  if (stream.result && !stream.malformed) return std::move(*stream.result);
  if (outcome->signal != 0) return storage::crashed(outcome->signal, stream.last_stage);
  std::string message("check of ");
  message += storage::quoted(path);
  message += ": the child ended (status ";
  (message += std::to_string(outcome->exit_status)) += ") without a report";
  return Err(Error{ErrorCode::Internal, std::move(message)});
}

}  // namespace duroxide
