// SPDX-License-Identifier: MIT
// check_store_file: missing, foreign and damaged files, the child's crash, the report's encoding.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <doctest/doctest.h>

#include <duroxide/store_check.hpp>

#include "storage/lmdb_check_wire.hpp"
#include "storage/platform/child_process.hpp"
#include "test/storage/check_raw.hpp"
#include "test/storage/raw_lmdb.hpp"
#include "test/storage/store_fixture.hpp"

using namespace duroxide;
using namespace duroxide::storage;
using namespace duroxide::storage::testing;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(n, '\0');
  for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
  return bytes;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A store of `n` finished instances, each with a few events, closed.
void write_store(const std::string& path, int n) {
  auto store = open_store(path);
  Completions done;
  for (int i = 0; i < n; ++i) {
    const std::string id = "instance-" + std::to_string(i);
    WriteBatch batch = start_batch(id);
    batch.history.front().kind = EventKind::OrchestrationStarted;
    HistoryEvent end;
    end.event_id = 2;
    end.kind = EventKind::OrchestrationCompleted;
    end.data = std::string(100, 'x');
    batch.history.push_back(end);
    batch.instance->state = InstanceState::Completed;
    batch.instance->output = end.data;
    store->commit(std::move(batch), done.callback(static_cast<std::size_t>(i)));
  }
  done.wait(static_cast<std::size_t>(n));
  for (const auto& result : done.results()) REQUIRE(result.has_value());
}

}  // namespace

TEST_SUITE("storage.check_file") {
  TEST_CASE("a missing file is NotFound and nothing is created") {
    TempDir dir;
    const std::string path = dir.file("missing.duro");
    auto report = check_store_file(path);
    REQUIRE_FALSE(report.has_value());
    CHECK(report.error().code == ErrorCode::NotFound);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(path + "-lock"));
    CHECK(check_store_file(dir.file("no/such/dir.duro")).error().code == ErrorCode::NotFound);
  }

  TEST_CASE("random bytes, an empty file and a directory are Incompatible, never a crash") {
    TempDir dir;
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4096},
                                   std::size_t{3 * 4096 + 17}, std::size_t{64 * 1024}}) {
      for (unsigned seed = 1; seed <= 3; ++seed) {
        const std::string path =
            dir.file("random-" + std::to_string(size) + "-" + std::to_string(seed));
        write_file(path, random_bytes(size, seed));
        auto report = check_store_file(path);
        INFO("size " << size << " seed " << seed);
        if (report.has_value()) {
          CHECK_FALSE(report->ok());
        } else {
          CHECK(report.error().code == ErrorCode::Incompatible);
        }
      }
    }
    CHECK(check_store_file(dir.file("")).error().code == ErrorCode::Incompatible);
  }

  TEST_CASE("an LMDB file that is not a store, or of another version, is Incompatible") {
    TempDir dir;
    const std::string foreign = dir.file("foreign.mdb");
    raw_put(foreign, nullptr, "someone", "else");
    CHECK(check_store_file(foreign).error().code == ErrorCode::Incompatible);
    const std::string other = dir.file("other.duro");
    open_store(other).reset();
    std::string version;
    put_be32(version, kFormatVersion + 1);
    raw_put(other, "meta", std::string(kMetaVersionKey), version);
    auto report = check_store_file(other);
    REQUIRE_FALSE(report.has_value());
    CHECK(report.error().code == ErrorCode::Incompatible);
    CHECK(report.error().message.find("format version 4") != std::string::npos);
  }

  TEST_CASE("a truncated store is a problem report") {
    TempDir dir;
    const std::string path = dir.file("app.duro");
    write_store(path, 300);
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    auto report = check_store_file(path);
    REQUIRE(report.has_value());
    REQUIRE(report->problem_count == 1);
    CHECK(report->problems[0].where == "store file");
    CHECK(report->problems[0].what.starts_with("is truncated"));
  }

  TEST_CASE("a store whose LMDB pages are garbage gives a result and never kills the caller") {
    TempDir dir;
    const std::string path = dir.file("app.duro");
    write_store(path, 300);
    const std::string healthy = [&] {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    constexpr std::size_t kPage = 4096;  // pages 0 and 1 are LMDB's meta pages: kept
    int crashes = 0;
    int reports = 0;
    for (unsigned seed = 1; seed <= 24; ++seed) {
      write_file(path, healthy);
      std::mt19937 random(seed);
      const std::size_t pages = healthy.size() / kPage;
      // Some rounds damage every page, others a few bytes of a few pages.
      if (seed % 3 == 0) {
        overwrite_file(path, 2 * kPage, random_bytes(healthy.size() - 2 * kPage, seed));
      } else {
        for (int i = 0; i < 8; ++i) {
          const std::size_t page = 2 + random() % (pages - 2);
          overwrite_file(path, page * kPage + random() % kPage,
                         random_bytes(1 + random() % 64, seed));
        }
      }
      auto report = check_store_file(path);
      INFO("seed " << seed);
      if (!report.has_value()) {
        CHECK(report.error().code != ErrorCode::Internal);
        continue;
      }
      ++reports;
      for (const auto& problem : report->problems) {
        if (problem.what.starts_with("reading the store crashed (")) ++crashes;
      }
    }
    MESSAGE("garbage pages: " << reports << " reports, " << crashes << " crashed children");
    CHECK(reports > 0);
  }

  TEST_CASE("a child killed by a signal is seen as such") {
    auto outcome = platform::run_in_child([](const platform::SendFn& send) {
      send(encode_stage("sub-database 'history'"));
      std::raise(SIGSEGV);
    });
    REQUIRE(outcome.has_value());
    CHECK(outcome->signal == SIGSEGV);
    CHECK(platform::signal_name(outcome->signal) == "SIGSEGV");
    const ChildStream stream = decode_child_stream(outcome->output);
    CHECK(stream.last_stage == "sub-database 'history'");
    CHECK_FALSE(stream.result.has_value());
    auto exited = platform::run_in_child([](const platform::SendFn& send) { send("abc"); });
    REQUIRE(exited.has_value());
    CHECK(exited->signal == 0);
    CHECK(exited->exit_status == 0);
    CHECK(exited->output == "abc");
  }

  TEST_CASE("the report's encoding round-trips and rejects cut or trailing bytes") {
    StoreCheckReport report;
    report.records_read = 12;
    report.instances = 1;
    report.history_events = 7;
    report.queued_messages = 2;
    report.queued_activities = 1;
    report.problem_count = 3;
    report.problems = {{"row of 'a'", "is Running"}, {std::string("x\0y", 3), ""}};
    const std::string bytes = encode_stage("meta") + encode_result(report);
    const ChildStream stream = decode_child_stream(bytes);
    CHECK_FALSE(stream.malformed);
    CHECK(stream.last_stage == "meta");
    REQUIRE(stream.result.has_value());
    REQUIRE(stream.result->has_value());
    CHECK(**stream.result == report);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      const ChildStream part = decode_child_stream(std::string_view(bytes).substr(0, cut));
      CHECK_FALSE(part.result.has_value());
    }
    CHECK(decode_child_stream(bytes + "S").malformed);
    const Result<StoreCheckReport, Error> error = Err(Error{ErrorCode::Incompatible, "nope"});
    const ChildStream failed = decode_child_stream(encode_result(error));
    REQUIRE(failed.result.has_value());
    REQUIRE_FALSE(failed.result->has_value());
    CHECK(failed.result->error().code == ErrorCode::Incompatible);
    CHECK(failed.result->error().message == "nope");
    // A problem count far beyond the bytes is malformed, not an allocation.
    std::string huge("R");
    huge.append(6 * 8, '\0');
    huge.append(8, '\xff');
    CHECK(decode_child_stream(huge).malformed);
  }
}
