// SPDX-License-Identifier: MIT
// Tests of what opening does beyond checking: create_if_missing, read-only opening of a live
// store, the in-place upgrade of format version 2, counters of a store that lacks them.
#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include <duroxide/management.hpp>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/lmdb_counts.hpp"
#include "storage/lmdb_env.hpp"
#include "test/storage/child_process.hpp"
#include "test/storage/raw_lmdb.hpp"
#include "test/storage/store_fixture.hpp"
#include "test/testlib/record_bytes.hpp"

namespace duroxide::storage::testing {
namespace {

using testlib::RecordBytes;

/// An instance row as format version 2 wrote it: class version 4, no suspended flag.
std::string row_v4(const std::string& id, InstanceState state, const std::string& output) {
  RecordBytes bytes;
  bytes.u32(4).vstr(id).vstr("orch").vstr("1.0.0").u8(static_cast<std::uint8_t>(state));
  bytes.uvar(1).svar(5).svar(6).vstr(output);
  bytes.u32(2).u8(0).vstr("").vstr("");    // error_details: Application, no kind, no message
  bytes.u8(1).vstr("custom");              // custom status
  bytes.vstr("").uvar(0).uvar(0).uvar(2);  // no parent, recovery_attempts 2
  return bytes.sealed();
}

std::string be32(std::uint32_t value) {
  std::string out;
  put_be32(out, value);
  return out;
}

void forget_counters(const std::string& path) {
  raw_del(path, "meta", std::string(kMetaCountsKey));
}

/// Reads meta `key` of the closed store at `path` with plain LMDB ("" if missing).
std::string raw_meta(const std::string& path, std::string_view key) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 8) == 0);
  REQUIRE(mdb_env_open(env, path.c_str(), MDB_NOSUBDIR | MDB_RDONLY, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, "meta", 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{0, nullptr};
  std::string value;
  if (mdb_get(txn, dbi, &k, &v) == 0) value.assign(static_cast<const char*>(v.mv_data), v.mv_size);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return value;
}

StoreStats stats_of(const std::shared_ptr<LmdbProvider>& store) {
  return store->store_stats(0).value();
}

}  // namespace

TEST_SUITE("storage.lmdb_upgrade") {
  TEST_CASE("create_if_missing false: a missing store is NotFound and nothing is created") {
    TempDir dir;
    const std::string path = dir.file("absent.duro");
    LmdbOptions options = test_options();
    options.create_if_missing = false;
    auto opened = LmdbProvider::open(path, options);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == ErrorCode::NotFound);
    CHECK(opened.error().message.find(path) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(path + "-lock"));
  }

  TEST_CASE("create_if_missing false opens an existing store") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      REQUIRE(store->commit_sync(start_batch("a")));
    }
    LmdbOptions options = test_options();
    options.create_if_missing = false;
    auto store = open_store(path, options);
    CHECK(store->read_instance("a").value() == row("a"));
  }

  TEST_CASE("a new store starts with every counter at 0") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    open_store(path).reset();
    CHECK(raw_meta(path, kMetaCountsKey) == std::string(32, '\0'));
  }

  // Another process holds LMDB's write lock for the whole open: an open that took a write txn
  // would wait for it (the child gives up after 20 s).
  TEST_CASE("opening an existing store takes no write txn") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      REQUIRE(store->commit_sync(start_batch("a")));
    }
    int locked[2];
    int release[2];
    REQUIRE(::pipe(locked) == 0);
    REQUIRE(::pipe(release) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      MDB_env* env = nullptr;
      MDB_txn* txn = nullptr;
      if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 8) != 0 ||
          mdb_env_open(env, path.c_str(), MDB_NOSUBDIR, 0644) != 0 ||
          mdb_txn_begin(env, nullptr, 0, &txn) != 0) {
        ::_exit(3);
      }
      char byte = 1;
      if (::write(locked[1], &byte, 1) != 1) ::_exit(4);
      fd_set wait_for;
      FD_ZERO(&wait_for);
      FD_SET(release[0], &wait_for);
      timeval timeout{20, 0};
      const int ready = ::select(release[0] + 1, &wait_for, nullptr, nullptr, &timeout);
      mdb_txn_abort(txn);
      mdb_env_close(env);
      ::_exit(ready == 1 ? 0 : 5);
    }
    char byte = 0;
    REQUIRE(::read(locked[0], &byte, 1) == 1);
    const auto began = std::chrono::steady_clock::now();
    {
      auto store = open_store(path);
      CHECK(store->read_instance("a").value() == row("a"));
      CHECK(stats_of(store).running == 1);
    }
    const auto took = std::chrono::steady_clock::now() - began;
    CHECK(took < std::chrono::seconds(10));
    REQUIRE(::write(release[1], &byte, 1) == 1);
    CHECK(wait_for_child(pid, 60) == 0);
    for (const int fd : {locked[0], locked[1], release[0], release[1]}) ::close(fd);
  }

  TEST_CASE("a store of format version 2 is upgraded in place on open") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      for (const char* id : {"done", "failed", "run-1", "run-2"}) {
        REQUIRE(store->commit_sync(start_batch(id)));
      }
      WriteBatch enqueue;
      enqueue.messages = {message("run-1", 5)};
      REQUIRE(store->commit_sync(enqueue));
    }
    raw_put(path, "instances", "done", row_v4("done", InstanceState::Completed, "out"));
    raw_put(path, "instances", "failed", row_v4("failed", InstanceState::Failed, ""));
    raw_put(path, "instances", "run-1", row_v4("run-1", InstanceState::Running, ""));
    raw_put(path, "instances", "run-2", row_v4("run-2", InstanceState::Running, ""));
    raw_put(path, "meta", std::string(kMetaVersionKey), be32(2));
    forget_counters(path);

    {
      auto store = open_store(path);
      const InstanceRecord done = store->read_instance("done").value();
      CHECK(done.state == InstanceState::Completed);
      CHECK(done.output == "out");
      CHECK(done.custom_status == std::optional<std::string>("custom"));
      CHECK(done.recovery_attempts == 2);
      CHECK_FALSE(done.suspended);
      CHECK(store->read_history("run-1", 1).value().size() == 1);  // history is untouched
      const StoreStats stats = stats_of(store);
      CHECK(stats.running == 2);
      CHECK(stats.completed == 1);
      CHECK(stats.failed == 1);
      CHECK(stats.suspended == 0);
      CHECK(stats.queued_messages == 1);
      // Written as this build writes: the counters keep up from here on.
      REQUIRE(store->commit_sync(start_batch("new")));
      CHECK(stats_of(store).running == 3);
    }
    CHECK(raw_meta(path, kMetaVersionKey) == be32(kFormatVersion));
    auto store = open_store(path);
    auto reread = store->read_instance("run-2").value();
    CHECK(reread.state == InstanceState::Running);
  }

  TEST_CASE("a format version 2 store with a damaged row is Corruption and left as it was") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    open_store(path).reset();
    std::string bad = row_v4("bad", InstanceState::Running, "");
    bad[bad.size() - 1] ^= 0x40;  // checksum no longer matches
    raw_put(path, "instances", "bad", bad);
    raw_put(path, "meta", std::string(kMetaVersionKey), be32(2));
    auto opened = LmdbProvider::open(path, test_options());
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == ErrorCode::Corruption);
    CHECK(opened.error().message.find("'bad'") != std::string::npos);
    CHECK(raw_meta(path, kMetaVersionKey) == be32(2));
  }

  TEST_CASE("a store of this format without counters gets them counted on open") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      REQUIRE(store->commit_sync(start_batch("a")));
      REQUIRE(store->commit_sync(start_batch("b")));
    }
    forget_counters(path);
    auto store = open_store(path);
    CHECK(stats_of(store).running == 2);
  }
}

}  // namespace duroxide::storage::testing
