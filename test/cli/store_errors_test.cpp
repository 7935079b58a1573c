// SPDX-License-Identifier: MIT
// The cli suite, stores that cannot be used: missing, foreign, damaged. One line, exit 1.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli_runner.hpp"
#include "fixture.hpp"
#include "temp_dir.hpp"

using duroxide::testlib::CliRun;
using duroxide::testlib::CliStore;
using duroxide::testlib::run_cli;
using duroxide::testlib::TempDir;

namespace {

// Every verb, with arguments that would be valid on a good store.
std::vector<std::vector<std::string>> every_verb(const std::string& store, const TempDir& dir) {
  return {{"list", "--store", store},
          {"show", "--store", store, "a"},
          {"history", "--store", store, "a"},
          {"stats", "--store", store},
          {"wait", "--store", store, "a", "--timeout", "1s"},
          {"backup", "--store", store, dir.file("copy.duro")},
          {"raise", "--store", store, "a", "go"},
          {"cancel", "--store", store, "a"},
          {"terminate", "--store", store, "a"},
          {"suspend", "--store", store, "a"},
          {"resume", "--store", store, "a"},
          {"rewind", "--store", store, "a"},
          {"delete", "--store", store, "a"},
          {"purge", "--store", store, "--finished-before", "1d"}};
}

void check_refused(const std::vector<std::string>& args, const std::string& mentions) {
  CAPTURE(args);
  const CliRun run = run_cli(args);
  CHECK(run.signal == 0);
  CHECK(run.exit_code == 1);
  CHECK(run.out.empty());
  const auto lines = run.err_lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("duroxide: ", 0) == 0);
  CHECK(lines[0].find(mentions) != std::string::npos);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_SUITE("cli.store") {
  TEST_CASE("a missing store is exit 1 naming it, and no file is left behind") {
    TempDir dir;
    const std::string store = dir.file("typo.duro");
    for (const auto& args : every_verb(store, dir)) {
      check_refused(args, "store '" + store + "' does not exist");
      CHECK(!std::filesystem::exists(store));
      CHECK(!std::filesystem::exists(store + "-lock"));
    }
    CHECK(std::filesystem::is_empty(dir.file("")));
  }

  TEST_CASE("a foreign file is exit 1, 'not a duroxide store', and stays as it was") {
    TempDir dir;
    const std::string text = dir.file("notes.txt");
    std::ofstream(text) << "dear diary,\nnothing durable today\n";
    const std::string before = read_file(text);
    for (const auto& args : every_verb(text, dir)) check_refused(args, "not a duroxide store");
    CHECK(read_file(text) == before);
    CHECK(!std::filesystem::exists(text + "-lock"));

    const std::string empty = dir.file("empty.duro");
    std::ofstream{empty};
    check_refused({"list", "--store", empty}, "not a duroxide store");
    CHECK(std::filesystem::file_size(empty) == 0);
    check_refused({"start", "--store", empty, "a", "Hello"}, "not a duroxide store");
    CHECK(std::filesystem::file_size(empty) == 0);

    check_refused({"list", "--store", dir.file("")}, "not a duroxide store");
  }

  TEST_CASE("a damaged store is exit 1 with one line saying so") {
    CliStore fixture;
    CHECK(fixture.run("a", "Hello", "Ada").is_completed());
    for (int i = 0; i < 50; ++i)
      fixture.client()
          .start_orchestration(duroxide::testlib::numbered("b", i), "Echo", std::string(2000, 'x'))
          .value();
    fixture.close();
    const auto size = std::filesystem::file_size(fixture.path());
    std::filesystem::resize_file(fixture.path(), size / 2);
    for (const auto& args : every_verb(fixture.path(), fixture.dir())) {
      check_refused(args, "damaged");
    }
  }

  TEST_CASE("a record whose checksum fails is exit 1 with one line saying so") {
    CliStore fixture;
    const std::string marker = "MARKER-0123456789-MARKER";
    REQUIRE(fixture.run("a", "Echo", marker).is_completed());
    fixture.close();
    // Flip one byte of the payload wherever it is stored: the row and the history records.
    std::string bytes = read_file(fixture.path());
    std::size_t flipped = 0;
    for (auto at = bytes.find(marker); at != std::string::npos; at = bytes.find(marker, at + 1)) {
      bytes[at + 7] = 'X';
      ++flipped;
    }
    REQUIRE(flipped > 0);
    std::ofstream(fixture.path(), std::ios::binary | std::ios::trunc) << bytes;
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"list", "--store", fixture.path()},
          std::vector<std::string>{"show", "--store", fixture.path(), "a"},
          std::vector<std::string>{"history", "--store", fixture.path(), "a"}}) {
      check_refused(args, "damaged");
    }
  }

  TEST_CASE("start creates a missing store; other writes do not") {
    TempDir dir;
    const std::string store = dir.file("new.duro");
    check_refused({"raise", "--store", store, "a", "go"}, "does not exist");
    CHECK(!std::filesystem::exists(store));
    const CliRun run = run_cli({"start", "--store", store, "a", "Hello", "Ada"});
    CHECK(run.exit_code == 0);
    CHECK(std::filesystem::exists(store));
    const CliRun list = run_cli({"list", "--store", store});
    CHECK(list.exit_code == 0);
    CHECK(list.out.find("Hello") != std::string::npos);
  }
}
