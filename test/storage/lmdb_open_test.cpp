// SPDX-License-Identifier: MIT
// Tests of opening stores: format checks, foreign and damaged files, reopening, temporary stores.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/lmdb_env.hpp"
#include "test/storage/child_process.hpp"
#include "test/storage/raw_lmdb.hpp"
#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

Error open_error(const std::string& path, LmdbOptions options = test_options()) {
  auto opened = LmdbProvider::open(path, options);
  REQUIRE_FALSE(opened);
  return opened.error();
}

void enqueue_one(Provider& store, TimestampMs visible_at) {
  WriteBatch batch;
  batch.messages = {message("a", visible_at)};
  REQUIRE(store.commit_sync(batch));
}

/// Runs `child` in a forked process and returns its exit status (or -1). Requires: this process
/// runs no other thread (a forked child could deadlock on a lock one of them held).
template <class F>
int in_child(F child) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(child());
  return wait_for_child(pid, 60);
}

}  // namespace

TEST_SUITE("storage.lmdb_open") {
  TEST_CASE("an empty path is InvalidArgument") {
    auto opened = LmdbProvider::open("");
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("options out of range are InvalidArgument") {
    TempDir dir;
    LmdbOptions small = test_options();
    small.map_size = 4096;
    CHECK(open_error(dir.file("s"), small).code == ErrorCode::InvalidArgument);
    LmdbOptions inverted = test_options();
    inverted.max_map_size = inverted.map_size - 1;
    CHECK(open_error(dir.file("s"), inverted).code == ErrorCode::InvalidArgument);
    LmdbOptions no_batches = test_options();
    no_batches.max_batches_per_commit = 0;
    CHECK(open_error(dir.file("s"), no_batches).code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("a store in a missing directory is IOError") {
    TempDir dir;
    const Error error = open_error(dir.file("missing/store.duro"));
    CHECK(error.code == ErrorCode::IOError);
    CHECK(error.message.find("missing/store.duro") != std::string::npos);
  }

  TEST_CASE("a file of random bytes is Incompatible or Corruption, naming the path") {
    TempDir dir;
    for (const std::size_t size : {5, 100, 4096, 8192, 65536}) {
      CAPTURE(size);
      const std::string path = dir.file("random-" + std::to_string(size));
      write_file(path, random_bytes(size, static_cast<unsigned>(size)));
      const Error error = open_error(path);
      CHECK((error.code == ErrorCode::Incompatible || error.code == ErrorCode::Corruption));
      CHECK(error.message.find(path) != std::string::npos);
    }
  }

  TEST_CASE("an LMDB file that is not a duroxide store is Incompatible and left alone") {
    TempDir dir;
    const std::string path = dir.file("other.mdb");
    raw_put(path, nullptr, "someone", "else");
    const auto before = std::filesystem::file_size(path);
    const Error error = open_error(path);
    CHECK(error.code == ErrorCode::Incompatible);
    CHECK(error.message.find("not a duroxide store") != std::string::npos);
    CHECK(std::filesystem::file_size(path) == before);
  }

  TEST_CASE("a store of another format version is Incompatible naming both versions") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    open_store(path).reset();
    std::string version;
    put_be32(version, 7);
    raw_put(path, "meta", std::string(kMetaVersionKey), version);
    const Error error = open_error(path);
    CHECK(error.code == ErrorCode::Incompatible);
    CHECK(error.message.find("format version 7") != std::string::npos);
    CHECK(error.message.find("format version " + std::to_string(kFormatVersion)) !=
          std::string::npos);
  }

  TEST_CASE("a store of format version 1 is Incompatible, saying this build does not read it") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    open_store(path).reset();
    std::string version;
    put_be32(version, 1);
    raw_put(path, "meta", std::string(kMetaVersionKey), version);
    const auto before = std::filesystem::file_size(path);
    const Error error = open_error(path);
    CHECK(error.code == ErrorCode::Incompatible);
    INFO(error.message);
    CHECK(error.message.find("has format version 1, which this build does not read") !=
          std::string::npos);
    CHECK(error.message.find("it reads format version " + std::to_string(kFormatVersion)) !=
          std::string::npos);
    // What to do about it.
    CHECK(error.message.find("open the store with one of them") != std::string::npos);
    CHECK(error.message.find("remove the file and its -lock file") != std::string::npos);
    CHECK(std::filesystem::file_size(path) == before);
  }

  TEST_CASE("a store with a wrong magic is Incompatible") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    open_store(path).reset();
    raw_put(path, "meta", std::string(kMetaMagicKey), "something else");
    CHECK(open_error(path).code == ErrorCode::Incompatible);
  }

  TEST_CASE("a truncated store is Corruption, not a crash") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      for (int i = 0; i < 50; ++i) {
        WriteBatch batch = start_batch("t-" + std::to_string(i));
        batch.history[0].data = std::string(3000, 'x');
        REQUIRE(store->commit_sync(batch));
      }
    }
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size / 2);
    const Error error = open_error(path);
    CHECK(error.code == ErrorCode::Corruption);
    CHECK(error.message.find("truncated") != std::string::npos);
  }

  // LMDB does not checksum its pages: damage to the B-tree structure itself (page headers,
  // child page numbers) can make it abort or read out of bounds, which no caller can catch.
  // What the store defends is the records: each ends with a CRC-32C and every decoder checks
  // lengths, kinds, versions and enum ranges, so damage inside a record is Corruption.
  TEST_CASE("flipped bits inside stored records are Corruption, never a crash") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    std::vector<std::string> records;  // encoded history events and rows, as the file holds them
    {
      auto store = open_store(path);
      for (int i = 0; i < 100; ++i) {
        WriteBatch batch = start_batch("f-" + std::to_string(i));
        batch.history[0].data = std::string(static_cast<std::size_t>(i % 40), 'f');
        records.push_back(encode(batch.history[0]));
        records.push_back(encode(*batch.instance));
        REQUIRE(store->commit_sync(batch));
      }
    }
    std::ifstream in(path, std::ios::binary);
    const std::string original((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    std::mt19937 random(7);
    const std::string damaged = dir.file("damaged.duro");
    for (int round = 0; round < 100; ++round) {
      const int victim = static_cast<int>(random() % 100);
      const std::string& record = records[static_cast<std::size_t>(2 * victim) + random() % 2];
      // Copy-on-write leaves stale copies in free pages: each copy gets the same damage.
      std::vector<std::size_t> copies;
      for (auto at = original.find(record); at != std::string::npos;
           at = original.find(record, at + 1)) {
        copies.push_back(at);
      }
      REQUIRE_FALSE(copies.empty());  // stored as encoded, uncompressed
      std::string bytes = original;
      for (int flip = 0, flips = 1 + static_cast<int>(random() % 8); flip < flips; ++flip) {
        const std::size_t offset = random() % record.size();
        const char mask = static_cast<char>(1 << (random() % 8));
        for (const std::size_t at : copies) bytes[at + offset] ^= mask;
      }
      std::filesystem::remove(damaged + "-lock");
      write_file(damaged, bytes);
      // Exit status 0 (read as if intact), 1 (Corruption) and 2 (another error) are told
      // apart; a signal or a hang is a failure.
      const std::string id = "f-" + std::to_string(victim);
      const int status = in_child([&] {
        auto opened = LmdbProvider::open(damaged, test_options());
        if (!opened) return 2;
        auto history = (*opened)->read_history(id, 1);
        auto row = (*opened)->read_instance(id);
        for (const auto* error :
             {history ? nullptr : &history.error(), row ? nullptr : &row.error()}) {
          if (error != nullptr) return error->code == ErrorCode::Corruption ? 1 : 2;
        }
        return 0;
      });
      CAPTURE(round);
      CHECK(status == 1);
    }
  }

  TEST_CASE("reopening keeps data and continues the queue sequence") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    {
      auto store = open_store(path);
      REQUIRE(store->commit_sync(start_batch("a")));
      enqueue_one(*store, 5);
      enqueue_one(*store, 5);
    }
    auto store = open_store(path);
    CHECK(store->read_instance("a").value() == row("a"));
    CHECK(store->read_history("a", 1).value().size() == 1);
    enqueue_one(*store, 5);
    REQUIRE(store->claim_dispatch());
    const auto fetched = store->fetch_messages(10, 10).value();
    REQUIRE(fetched.size() == 3);
    std::set<std::uint64_t> seqs;
    for (const auto& queued : fetched) seqs.insert(queued.key.seq);
    CHECK(seqs.size() == 3);
    CHECK(fetched[0].key.seq < fetched[1].key.seq);
    CHECK(fetched[1].key.seq < fetched[2].key.seq);
  }

  TEST_CASE("opening an open file again in this process returns the same provider") {
    TempDir dir;
    auto first = open_store(dir.file("store.duro"));
    auto second = open_store(dir.file("store.duro"));
    CHECK(first.get() == second.get());
    CHECK(first->path() == dir.file("store.duro"));
  }

  TEST_CASE("open_temporary removes its directory on destruction") {
    std::string path;
    {
      auto store = LmdbProvider::open_temporary(test_options()).value();
      path = store->path();
      CHECK(std::filesystem::path(path).filename() == "store.duro");
      CHECK(std::filesystem::exists(path));
    }
    CHECK_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
  }
}

}  // namespace duroxide::storage::testing
