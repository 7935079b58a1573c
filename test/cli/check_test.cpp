// SPDX-License-Identifier: MIT
// The cli suite, `duroxide check`: a clean store is exit 0, a damaged one exit 1 with a report.
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "fixture.hpp"
#include "temp_dir.hpp"

using duroxide::testlib::CliRun;
using duroxide::testlib::CliStore;
using duroxide::testlib::run_cli;
using duroxide::testlib::TempDir;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_SUITE("cli.check") {
  TEST_CASE("a healthy store, live beside its runtime, is exit 0 with the counts") {
    CliStore fixture;
    REQUIRE(fixture.run("a", "Hello", "Ada").is_completed());
    REQUIRE(fixture.run("b", "Echo", "x").is_completed());
    const CliRun text = run_cli({"check", "--store", fixture.path()});
    CHECK(text.exit_code == 0);
    CHECK(text.err.empty());
    CHECK(text.out.find("no problems found") != std::string::npos);
    CHECK(text.out.find(" 2 rows") != std::string::npos);

    const CliRun json = run_cli({"check", "--store", fixture.path(), "--json"});
    REQUIRE(json.exit_code == 0);
    const auto report = nlohmann::json::parse(json.out);
    CHECK(report["ok"] == true);
    CHECK(report["instances"] == 2);
    CHECK(report["problem_count"] == 0);
    CHECK(report["problems"].empty());
    CHECK(report["records_read"].get<int>() > report["history_events"].get<int>());
  }

  TEST_CASE("a record whose checksum fails is exit 1 with the record named") {
    CliStore fixture;
    const std::string marker = "MARKER-0123456789-MARKER";
    REQUIRE(fixture.run("a", "Echo", marker).is_completed());
    fixture.close();
    std::string bytes = read_file(fixture.path());
    for (auto at = bytes.find(marker); at != std::string::npos; at = bytes.find(marker, at + 1)) {
      bytes[at + 7] = 'X';
    }
    std::ofstream(fixture.path(), std::ios::binary | std::ios::trunc) << bytes;
    const CliRun text = run_cli({"check", "--store", fixture.path()});
    CHECK(text.signal == 0);
    CHECK(text.exit_code == 1);
    CHECK(text.out.find("WHERE") != std::string::npos);
    CHECK(text.out.find("'a'") != std::string::npos);
    CHECK(text.out.find("problem") != std::string::npos);
    const CliRun json = run_cli({"check", "--store", fixture.path(), "--json"});
    CHECK(json.exit_code == 1);
    const auto report = nlohmann::json::parse(json.out);
    CHECK(report["ok"] == false);
    CHECK(report["problem_count"].get<int>() >= 1);
    CHECK(report["problems"][0]["where"].get<std::string>().find("'a'") != std::string::npos);
  }

  TEST_CASE("a truncated store and garbage pages never kill the command") {
    CliStore fixture;
    for (int i = 0; i < 40; ++i) {
      fixture.client()
          .start_orchestration(duroxide::testlib::numbered("i", i), "Echo", std::string(1500, 'y'))
          .value();
    }
    REQUIRE(fixture.wait_until(
        [&] { return fixture.client().get_orchestration_status("i39").value().is_completed(); }));
    fixture.close();
    const auto size = std::filesystem::file_size(fixture.path());
    {
      std::fstream file(fixture.path(), std::ios::binary | std::ios::in | std::ios::out);
      file.seekp(static_cast<std::streamoff>(size / 2));
      const std::string garbage(8192, '\xa5');
      file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    const CliRun garbled = run_cli({"check", "--store", fixture.path()});
    CHECK(garbled.signal == 0);
    CHECK(garbled.exit_code == 1);
    std::filesystem::resize_file(fixture.path(), size / 3);
    const CliRun cut = run_cli({"check", "--store", fixture.path()});
    CHECK(cut.signal == 0);
    CHECK(cut.exit_code == 1);
  }

  TEST_CASE("a missing store is exit 1 in one line, and nothing is created") {
    TempDir dir;
    const std::string store = dir.file("typo.duro");
    const CliRun run = run_cli({"check", "--store", store});
    CHECK(run.exit_code == 1);
    REQUIRE(run.err_lines().size() == 1);
    CHECK(run.err_lines()[0] == "duroxide: store '" + store + "' does not exist");
    CHECK(std::filesystem::is_empty(dir.file("")));
  }
}
