// SPDX-License-Identifier: MIT
// The cli suite, payloads that are hard to print: quotes, line breaks, invalid UTF-8, size.
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "fixture.hpp"

using duroxide::testlib::CliRun;
using duroxide::testlib::CliStore;
using nlohmann::json;

namespace {

// Quotes, a backslash, line breaks, a tab, a NUL, DEL, bytes that are not UTF-8 (a lone
// continuation byte, a truncated sequence, an overlong form) and well-formed non-ASCII text.
const std::string kNasty = std::string("say \"hi\"\\ \n\r\t") + '\0' + "\x7f" +
                           " bad:\x80|\xe2\x82|\xc0\xaf| ok:\xc3\xa9\xe2\x82\xac";
// The same as JSON text holds it: each byte that does not begin a well-formed sequence is
// U+FFFD; the rest is kept.
const std::string kNastyAsJson = std::string("say \"hi\"\\ \n\r\t") + '\0' + "\x7f" +
                                 " bad:\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                                 "\xef\xbf\xbd\xef\xbf\xbd| ok:\xc3\xa9\xe2\x82\xac";

json parse(const CliRun& run) {
  CAPTURE(run.err);
  REQUIRE(run.exit_code == 0);
  return json::parse(run.out);  // throws on invalid JSON or invalid UTF-8
}

}  // namespace

TEST_SUITE("cli.json") {
  TEST_CASE("--json escapes quotes and control characters and replaces invalid UTF-8") {
    CliStore store;
    REQUIRE(store.run("nasty", "Echo", kNasty).is_completed());
    const json listed = parse(store.cli("list", {"--json"}));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["output"].get<std::string>() == kNastyAsJson);
    const json shown = parse(store.cli("show", {"nasty", "--json"}));
    CHECK(shown["output"].get<std::string>() == kNastyAsJson);
    const json history = parse(store.cli("history", {"nasty", "--json"}));
    REQUIRE(history.size() >= 2);
    CHECK(history[0]["input"].get<std::string>() == kNastyAsJson);
    CHECK(history.back()["output"].get<std::string>() == kNastyAsJson);
  }

  TEST_CASE("ids and names that are not UTF-8 are written as valid JSON") {
    CliStore store;
    const std::string id = "id-\xff\xfe-\"x\"";
    REQUIRE(store.run(id, "Echo", "x").is_completed());
    const json listed = parse(store.cli("list", {"--json"}));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["instance_id"] == "id-\xef\xbf\xbd\xef\xbf\xbd-\"x\"");
    const CliRun table = store.cli("list");
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("id-\\xff\\xfe-\"x\"") != std::string::npos);
  }

  TEST_CASE("human output escapes payloads on one line and cuts long ones, --json never") {
    CliStore store;
    REQUIRE(store.run("nasty", "Echo", kNasty).is_completed());
    const CliRun shown = store.cli("show", {"nasty"});
    REQUIRE(shown.exit_code == 0);
    // Escaped, it is longer than the 60 columns shown; the cut falls after the bad bytes.
    CHECK(
        shown.out.find(R"(output      "say \"hi\"\\ \n\r\t\x00\x7f bad:\x80|\xe2\x82|\xc0\xaf|)") !=
        std::string::npos);

    const std::string big(12'600, 'a');
    REQUIRE(store.run("big", "Echo", big).is_completed());
    const CliRun cut = store.cli("show", {"big"});
    REQUIRE(cut.exit_code == 0);
    CHECK(cut.out.find("output      \"" + std::string(60, 'a') + "\xe2\x80\xa6\" (12.3 KiB)\n") !=
          std::string::npos);
    const CliRun history = store.cli("history", {"big"});
    CHECK(history.out.find("\xe2\x80\xa6\" (12.3 KiB)") != std::string::npos);
    CHECK(history.out.size() < 4000);
    CHECK(parse(store.cli("show", {"big", "--json"}))["output"] == big);
  }

  TEST_CASE("start and raise take quotes and line breaks as they are") {
    CliStore store;
    const std::string input = "line one\nline \"two\"";
    REQUIRE(store.cli("start", {"e1", "Echo", input}).exit_code == 0);
    CHECK(store.wait("e1").output() == input);
    REQUIRE(store.cli("start", {"w1", "Waiter"}).exit_code == 0);
    REQUIRE(store.cli("raise", {"w1", "go", "a\tb\n\"c\""}).exit_code == 0);
    CHECK(store.wait("w1").output() == "a\tb\n\"c\"");
  }
}
