// SPDX-License-Identifier: MIT
// The cli suite, usage: help, and exit status 2 for whatever does not parse.
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli_runner.hpp"
#include "temp_dir.hpp"

using duroxide::testlib::CliRun;
using duroxide::testlib::run_cli;
using duroxide::testlib::TempDir;

namespace {

const char* const kVerbs[] = {"list",   "show",      "history", "start",  "raise",
                              "cancel", "terminate", "suspend", "resume", "rewind",
                              "delete", "purge",     "stats",   "wait",   "backup"};

void check_usage_error(const std::vector<std::string>& args, const std::string& mentions) {
  CAPTURE(args);
  const CliRun run = run_cli(args);
  CHECK(run.exit_code == 2);
  CHECK(run.out.empty());
  const auto lines = run.err_lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("duroxide: ", 0) == 0);
  CHECK(lines[0].find(mentions) != std::string::npos);
}

}  // namespace

TEST_SUITE("cli.usage") {
  TEST_CASE("help lists every verb, on stdout, with exit 0") {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"help"}, std::vector<std::string>{"--help"}}) {
      const CliRun run = run_cli(args);
      CHECK(run.exit_code == 0);
      CHECK(run.err.empty());
      for (const char* verb : kVerbs) {
        CAPTURE(verb);
        CHECK(run.out.find(std::string("  ") + verb + " ") != std::string::npos);
      }
    }
  }

  TEST_CASE("--version prints the version") {
    const CliRun run = run_cli({"--version"});
    CHECK(run.exit_code == 0);
    CHECK(run.out.rfind("duroxide ", 0) == 0);
  }

  TEST_CASE("VERB --help and help VERB explain the verb's flags") {
    for (const char* verb : kVerbs) {
      CAPTURE(verb);
      const CliRun run = run_cli({verb, "--help"});
      CHECK(run.exit_code == 0);
      CHECK(run.out.find("--store") != std::string::npos);
      CHECK(run.out.find(std::string("duroxide ") + verb) != std::string::npos);
      const CliRun same = run_cli({"help", verb});
      CHECK(same.exit_code == 0);
      CHECK(same.out == run.out);
    }
    CHECK(run_cli({"list", "--help"}).out.find("--limit") != std::string::npos);
    CHECK(run_cli({"history", "--help"}).out.find("--execution") != std::string::npos);
    CHECK(run_cli({"purge", "--help"}).out.find("--finished-before") != std::string::npos);
  }

  TEST_CASE("a missing or unknown verb, flag or argument is exit 2 with one line") {
    check_usage_error({}, "verb");
    check_usage_error({"frobnicate", "--store", "x.duro"}, "unknown verb 'frobnicate'");
    check_usage_error({"help", "frobnicate"}, "unknown verb 'frobnicate'");
    check_usage_error({"list"}, "--store");
    check_usage_error({"list", "--store", "x.duro", "--colour"}, "--colour");
    check_usage_error({"show", "--store", "x.duro"}, "ID");
    check_usage_error({"show", "--store", "x.duro", "a", "b"}, "b");
    check_usage_error({"start", "--store", "x.duro", "id"}, "NAME");
    check_usage_error({"raise", "--store", "x.duro", "id"}, "EVENT");
    check_usage_error({"purge", "--store", "x.duro"}, "--finished-before");
    check_usage_error({"backup", "--store", "x.duro"}, "DEST");
  }

  TEST_CASE("values that do not parse are exit 2, before the store is opened") {
    TempDir dir;
    const std::string store = dir.file("never.duro");
    check_usage_error({"list", "--store", store, "--limit", "abc"}, "abc");
    check_usage_error({"list", "--store", store, "--limit", "-1"}, "-1");
    check_usage_error({"list", "--store", store, "--limit", "0"}, "0");
    check_usage_error({"list", "--store", store, "--status", "sleeping"}, "sleeping");
    check_usage_error({"history", "--store", store, "id", "--execution", "two"}, "two");
    for (const char* age : {"5x", "5", "m", "-5m", "1.5h", "5 m", "99999999999999999999d"}) {
      CAPTURE(age);
      check_usage_error({"purge", "--store", store, "--finished-before", age}, "AGE");
      check_usage_error({"wait", "--store", store, "id", "--timeout", age}, "AGE");
    }
    CHECK(!std::filesystem::exists(store));
  }
}
