// SPDX-License-Identifier: MIT
// The cli suite, every verb's happy path on a store that a runtime of this process runs.
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "fixture.hpp"

using duroxide::testlib::CliRun;
using duroxide::testlib::CliStore;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t end = text.find('\n', from);
    lines.push_back(text.substr(from, end - from));
    if (end == std::string::npos) break;
    from = end + 1;
  }
  return lines;
}

// Returns: the line of `text` that starts with `start` (empty if none).
std::string line_starting(const std::string& text, const std::string& start) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(start, 0) == 0) return line;
  }
  return "";
}

// Runs a verb that must succeed. Returns: what it wrote on stdout.
std::string ok(CliStore& store, const std::string& verb, std::vector<std::string> args = {}) {
  const CliRun run = store.cli(verb, args);
  CAPTURE(verb);
  CAPTURE(args);
  CAPTURE(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  return run.out;
}

json ok_json(CliStore& store, const std::string& verb, std::vector<std::string> args = {}) {
  args.push_back("--json");
  return json::parse(ok(store, verb, std::move(args)));
}

// Runs a verb that must fail with one line on stderr mentioning `mentions`.
void refused(CliStore& store, const std::string& verb, std::vector<std::string> args,
             const std::string& mentions) {
  const CliRun run = store.cli(verb, args);
  CAPTURE(verb);
  CAPTURE(args);
  CHECK(run.exit_code == 1);
  const auto lines = run.err_lines();
  REQUIRE(lines.size() == 1);
  CAPTURE(lines[0]);
  CHECK(has(lines[0], mentions));
}

}  // namespace

TEST_SUITE("cli.verbs") {
  TEST_CASE("list: an aligned table of every instance; --status, --prefix and --limit filter") {
    CliStore store;
    REQUIRE(store.run("a-hello", "Hello", "Ada").is_completed());
    REQUIRE(store.run("b-failing", "Failing").is_failed());
    store.client().start_orchestration("c-waiter", "Waiter", "").value();

    const std::string table = ok(store, "list");
    const auto rows = lines_of(table);
    REQUIRE(rows.size() == 4);
    const std::size_t status_column = rows[0].find("STATUS");
    const std::size_t updated_column = rows[0].find("UPDATED");
    REQUIRE(status_column != std::string::npos);
    CHECK(rows[1].rfind("a-hello", 0) == 0);
    CHECK(rows[1].substr(status_column, 9) == "Completed");
    CHECK(rows[2].substr(status_column, 6) == "Failed");
    CHECK(rows[3].substr(status_column, 7) == "Running");
    for (std::size_t i = 1; i < rows.size(); ++i) {
      CAPTURE(rows[i]);
      CHECK(rows[i].find('Z', updated_column) != std::string::npos);  // ISO 8601 UTC
      CHECK((has(rows[i], "just now") || has(rows[i], "s ago")));
    }

    const json all = ok_json(store, "list");
    REQUIRE(all.is_array());
    REQUIRE(all.size() == 3);
    CHECK(all[0]["instance_id"] == "a-hello");
    CHECK(all[0]["name"] == "Hello");
    CHECK(all[0]["version"] == "1.0.0");
    CHECK(all[0]["status"] == "Completed");
    CHECK(all[0]["suspended"] == false);
    CHECK(all[0]["execution_id"] == 1);
    CHECK(all[0]["custom_status"] == "greeted");
    CHECK(all[0]["output"] == "Hello, Ada!");
    CHECK(all[0]["error"].is_null());
    CHECK(all[0]["parent_id"].is_null());
    CHECK(all[0]["created_at"].is_number_integer());
    CHECK(all[0]["updated_at"] >= all[0]["created_at"]);
    CHECK(all[1]["status"] == "Failed");
    CHECK(all[1]["output"].is_null());
    CHECK(all[1]["error"]["category"] == "application");
    CHECK(all[1]["error"]["kind"] == "OrchestrationFailed");
    CHECK(all[1]["error"]["message"] == "no luck");
    CHECK(all[2]["status"] == "Running");
    CHECK(all[2]["custom_status"].is_null());

    CHECK(ok_json(store, "list", {"--status", "running"}).size() == 1);
    CHECK(ok_json(store, "list", {"--status", "completed"})[0]["instance_id"] == "a-hello");
    CHECK(ok_json(store, "list", {"--status", "failed"})[0]["instance_id"] == "b-failing");
    CHECK(ok_json(store, "list", {"--status", "suspended"}).empty());
    CHECK(ok_json(store, "list", {"--prefix", "b-"}).size() == 1);
    CHECK(ok_json(store, "list", {"--limit", "2"}).size() == 2);
    CHECK(ok(store, "list", {"--prefix", "zzz"}) == "no instances match\n");
  }

  TEST_CASE("list without --limit pages through every match") {
    CliStore store;
    store.close();  // the instances stay Running: no runtime takes them
    auto provider = duroxide::LmdbProvider::open(store.path()).value();
    duroxide::Client client(provider);
    std::vector<std::thread> threads;
    constexpr int kInstances = 1203;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kInstances; i += 8) {
          client.start_orchestration("i-" + std::to_string(10000 + i), "Echo", "").value();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    const json all = ok_json(store, "list");
    REQUIRE(all.size() == kInstances);
    CHECK(all.front()["instance_id"] == "i-10000");
    CHECK(all.back()["instance_id"] == "i-11202");
    CHECK(ok_json(store, "list", {"--limit", "1000"}).size() == 1000);
    CHECK(lines_of(ok(store, "list")).size() == kInstances + 1);
  }

  TEST_CASE("show: status, result, custom status, parent and the tree of children") {
    CliStore store;
    REQUIRE(store.run("p1", "Parent", "Kid").is_completed());
    REQUIRE(store.run("f1", "Failing").is_failed());

    const std::string parent = ok(store, "show", {"p1"});
    CAPTURE(parent);
    CHECK(line_starting(parent, "instance") == "instance    p1");
    CHECK(line_starting(parent, "name") == "name        Parent");
    CHECK(line_starting(parent, "version") == "version     1.0.0");
    CHECK(line_starting(parent, "status") == "status      Completed");
    CHECK(line_starting(parent, "execution") == "execution   1");
    CHECK(line_starting(parent, "parent") == "parent      -");
    CHECK(has(line_starting(parent, "created"), "Z ("));
    CHECK(has(line_starting(parent, "updated"), "Z ("));
    CHECK(line_starting(parent, "output") == "output      \"parent of Hello, Kid!\"");
    CHECK(line_starting(parent, "children") == "children    1");
    CHECK(has(parent, "  └─ p1/child  Hello  Completed\n"));

    const std::string child = ok(store, "show", {"p1/child"});
    CHECK(line_starting(child, "parent") == "parent      p1");
    CHECK(line_starting(child, "custom") == "custom      \"greeted\"");

    const std::string failed = ok(store, "show", {"f1"});
    CHECK(line_starting(failed, "status") == "status      Failed");
    CHECK(line_starting(failed, "error") ==
          "error       application / OrchestrationFailed: \"no luck\"");

    const json object = ok_json(store, "show", {"p1"});
    CHECK(object["instance_id"] == "p1");
    CHECK(object["status"] == "Completed");
    CHECK(object["output"] == "parent of Hello, Kid!");
    REQUIRE(object["children"].size() == 1);
    CHECK(object["children"][0]["instance_id"] == "p1/child");
    CHECK(object["children"][0]["status"] == "Completed");
    CHECK(object["children"][0]["children"].empty());
    CHECK(ok_json(store, "show", {"p1/child"})["parent_id"] == "p1");
    const json error = ok_json(store, "show", {"f1"})["error"];
    CHECK(error == json{{"category", "application"},
                        {"kind", "OrchestrationFailed"},
                        {"message", "no luck"}});

    refused(store, "show", {"nobody"}, "nobody");
  }

  TEST_CASE("history: turns, activities with durations, timers with due times, failures") {
    CliStore store;
    REQUIRE(store.run("a1", "Hello", "Ada").is_completed());
    const std::string text = ok(store, "history", {"a1"});
    CAPTURE(text);
    CHECK(has(text, "instance a1, execution 1 of 1"));
    const auto rows = lines_of(text);
    REQUIRE(rows.size() >= 6);
    CHECK(rows[1].rfind("#", 0) == 0);
    CHECK(has(rows[1], "TURN"));
    CHECK(has(text, "OrchestrationStarted"));
    CHECK(has(text, "Hello 1.0.0 input \"Ada\""));
    CHECK(has(text, "ActivityScheduled"));
    CHECK(has(text, "Greet input \"Ada\""));
    CHECK(has(text, "ActivityCompleted"));
    CHECK(has(text, " took "));
    CHECK(has(text, "output \"Hello, Ada!\""));
    CHECK(has(text, "OrchestrationCompleted"));

    // --json is exactly Client::read_history_json.
    CHECK(ok(store, "history", {"a1", "--json"}) ==
          store.client().read_history_json("a1", 1).value() + "\n");

    store.client().start_orchestration("s1", "Sleeper", "").value();
    store.client().start_orchestration("f1", "Failing", "").value();
    REQUIRE(store.wait("f1").is_failed());
    REQUIRE(store.wait_for_event("s1", duroxide::EventKind::TimerCreated));
    const std::string sleeper = ok(store, "history", {"s1"});
    CAPTURE(sleeper);
    CHECK(has(sleeper, "TimerCreated"));
    CHECK(has(sleeper, "(in 59m)"));
    const std::string failing = ok(store, "history", {"f1"});
    CHECK(has(failing, "ActivityFailed"));
    CHECK(has(failing, "error \"no luck\""));
    CHECK(has(failing, "application / OrchestrationFailed: \"no luck\""));

    REQUIRE(store.run("t1", "Twice").is_completed());
    CHECK(has(ok(store, "history", {"t1"}), "execution 2 of 2"));
    const std::string first = ok(store, "history", {"t1", "--execution", "1"});
    CHECK(has(first, "execution 1 of 2"));
    CHECK(has(first, "OrchestrationContinuedAsNew"));
    refused(store, "history", {"t1", "--execution", "7"}, "t1");
    refused(store, "history", {"nobody"}, "nobody");
  }

  TEST_CASE("start and raise: the runtime of another process picks them up") {
    CliStore store;
    CHECK(ok(store, "start", {"w1", "Waiter"}) == "started w1 (Waiter)\n");
    CHECK(ok(store, "raise", {"w1", "go", "the data"}) == "raised go at w1\n");
    const auto status = store.wait("w1");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "the data");

    CHECK(ok_json(store, "start", {"h1", "Hello", "Bob", "--version", "1.0.0"}) ==
          json{{"instance_id", "h1"}, {"action", "start"}, {"ok", true}});
    CHECK(store.wait("h1").output() == "Hello, Bob!");
    refused(store, "start", {"h1", "Hello"}, "h1");
    refused(store, "raise", {"nobody", "go"}, "nobody");
  }

  TEST_CASE("cancel records the reason; delete needs --force for a running instance") {
    CliStore store;
    store.client().start_orchestration("s1", "Sleeper", "").value();
    CHECK(ok(store, "cancel", {"s1", "--reason", "not needed"}) == "s1 cancel requested\n");
    const auto status = store.wait("s1");
    REQUIRE(status.is_failed());
    CHECK(status.details().display_message() == "canceled: not needed");
    refused(store, "cancel", {"nobody"}, "nobody");

    store.client().start_orchestration("s2", "Sleeper", "").value();
    refused(store, "delete", {"s2"}, "--force");
    CHECK(store.client().get_instance_info("s2").has_value());
    CHECK(ok(store, "delete", {"s2", "--force"}) ==
          "deleted 1 instance (s2 and its sub-orchestrations)\n");
    CHECK(!store.client().get_instance_info("s2").has_value());

    REQUIRE(store.run("p1", "Parent", "x").is_completed());
    CHECK(ok_json(store, "delete", {"p1"}) == json{{"instance_id", "p1"}, {"deleted", 2}});
    refused(store, "delete", {"p1"}, "p1");
  }

  TEST_CASE("purge deletes what finished before the age") {
    CliStore store;
    REQUIRE(store.run("a1", "Hello", "x").is_completed());
    REQUIRE(store.run("f1", "Failing").is_failed());
    store.client().start_orchestration("w1", "Waiter", "").value();
    CHECK(has(ok(store, "purge", {"--finished-before", "1d"}), "deleted 0 instances"));
    // Longer ago than system_clock's nanoseconds reach: still nothing, never everything.
    CHECK(has(ok(store, "purge", {"--finished-before", "200000d"}), "deleted 0 instances"));
    const json purged = ok_json(store, "purge", {"--finished-before", "0s"});
    CHECK(purged["deleted"] == 2);
    CHECK(purged["finished_before"].is_number_integer());
    const json left = ok_json(store, "list");
    REQUIRE(left.size() == 1);
    CHECK(left[0]["instance_id"] == "w1");
  }

  TEST_CASE("wait: exit 0 when completed, 1 with the error when failed or timed out") {
    CliStore store;
    store.client().start_orchestration("a1", "Hello", "Ada").value();
    CHECK(ok(store, "wait", {"a1", "--timeout", "30s"}) == "completed, output \"Hello, Ada!\"\n");
    CHECK(ok_json(store, "wait", {"a1"})["output"] == "Hello, Ada!");

    store.client().start_orchestration("f1", "Failing", "").value();
    refused(store, "wait", {"f1", "--timeout", "30s"},
            "instance 'f1' failed: application / OrchestrationFailed: no luck");

    store.client().start_orchestration("w1", "Waiter", "").value();
    refused(store, "wait", {"w1", "--timeout", "1s"}, "still running after 1s");
    refused(store, "wait", {"nobody", "--timeout", "1s"}, "nobody");
  }

  TEST_CASE("stats: the store-wide figures by name") {
    CliStore store;
    REQUIRE(store.run("a1", "Hello", "x").is_completed());
    REQUIRE(store.run("f1", "Failing").is_failed());
    store.client().start_orchestration("s1", "Sleeper", "").value();
    const json stats = ok_json(store, "stats");
    for (const char* field : {"running", "completed", "failed", "suspended", "queued_messages",
                              "pending_timers", "queued_activities", "file_bytes"}) {
      CAPTURE(field);
      CHECK(stats[field].is_number_unsigned());
    }
    CHECK(stats["completed"] == 1);
    CHECK(stats["failed"] == 1);
    CHECK(stats["file_bytes"] > 0);
    const std::string text = ok(store, "stats");
    CHECK(has(text, "completed"));
    CHECK(has(text, "file_size"));
  }

  TEST_CASE("backup writes a copy that opens as a store") {
    CliStore store;
    REQUIRE(store.run("a1", "Hello", "x").is_completed());
    const std::string copy = store.dir().file("copy.duro");
    CHECK(has(ok(store, "backup", {copy}), "copy.duro"));
    REQUIRE(std::filesystem::exists(copy));
    const CliRun listed = duroxide::testlib::run_cli({"list", "--store", copy, "--json"});
    CHECK(listed.exit_code == 0);
    CHECK(json::parse(listed.out)[0]["instance_id"] == "a1");
    refused(store, "backup", {copy}, "copy.duro");  // the destination exists
  }

  TEST_CASE("suspend and resume: list --status suspended, show says so") {
    CliStore store;
    store.client().start_orchestration("w1", "Waiter", "").value();
    REQUIRE(ok(store, "suspend", {"w1", "--reason", "look first"}) == "w1 suspend requested\n");
    REQUIRE(store.wait_for_event("w1", duroxide::EventKind::ExecutionSuspended));
    const json suspended = ok_json(store, "list", {"--status", "suspended"});
    REQUIRE(suspended.size() == 1);
    CHECK(suspended[0]["suspended"] == true);
    CHECK(suspended[0]["status"] == "Running");
    CHECK(ok_json(store, "list", {"--status", "running"}).size() == 1);
    CHECK(line_starting(ok(store, "show", {"w1"}), "status") == "status      Running (suspended)");
    CHECK(ok(store, "raise", {"w1", "go", "later"}) == "raised go at w1\n");
    CHECK(ok(store, "resume", {"w1"}) == "w1 resume requested\n");
    CHECK(store.wait("w1").output() == "later");
    CHECK(has(ok(store, "history", {"w1"}), "ExecutionSuspended"));
  }

  TEST_CASE("terminate ends a running instance with the reason") {
    CliStore store;
    store.client().start_orchestration("s1", "Sleeper", "").value();
    REQUIRE(ok(store, "terminate", {"s1", "--reason", "enough"}) == "s1 terminate requested\n");
    const auto status = store.wait("s1");
    REQUIRE(status.is_failed());
    CHECK(status.details().display_message() == "terminated: enough");
    CHECK(ok_json(store, "show", {"s1"})["error"]["kind"] == "Terminated");
  }

  TEST_CASE("rewind runs a failed instance again") {
    CliStore store;
    REQUIRE(store.run("f1", "Failing").is_failed());
    CHECK(ok(store, "rewind", {"f1", "--reason", "try again"}) == "f1 rewound: Running again\n");
    CHECK(has(ok(store, "history", {"f1"}), "ExecutionRewound"));
    refused(store, "rewind", {"nobody"}, "nobody");
  }
}
