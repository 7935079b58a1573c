// SPDX-License-Identifier: MIT
// Management through the public API: listing, inspecting, history as JSON, deleting, purging.
#include <spawn.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "harness.hpp"

extern char** environ;

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;
using Kind = OrchestrationStatus::Kind;

namespace {

/// Set in the environment of the child process that reads the store of a running runtime.
constexpr const char* kChildStoreVar = "DUROXIDE_MANAGEMENT_CHILD_STORE";

std::string counter(OrchestrationContext& ctx, std::string input) {
  const int n = std::stoi(input);
  if (n < 3) return ctx.continue_as_new(std::to_string(n + 1)).value();
  return "done " + input;
}

// Waits for "Go" with a timer an hour away queued beside it.
std::string wait_for_go(OrchestrationContext& ctx, std::string) {
  auto go = ctx.schedule_wait("Go");
  auto timer = ctx.schedule_timer(1h);
  auto [winner, output] = ctx.select2(std::move(go), std::move(timer));
  return winner == 0 ? output.result.value() : "timed out";
}

Harness harness() {
  return Harness(
      ActivityRegistry::builder()
          .register_activity("Upper",
                             [](ActivityContext&, std::string s) {
                               for (auto& c : s) c = static_cast<char>(std::toupper(c));
                               return s;
                             })
          .build(),
      OrchestrationRegistry::builder()
          .register_orchestration("Echo", [](OrchestrationContext&, std::string s) { return s; })
          .register_orchestration(
              "Fail",
              [](OrchestrationContext&, std::string) -> Result<std::string> { return Err("boom"); })
          .register_orchestration(
              "Status",
              [](OrchestrationContext& ctx, std::string) {
                ctx.set_custom_status("phase-2");
                return ctx.schedule_activity("Upper", "ok").into_activity().value();
              })
          .register_orchestration("Counter", counter)
          .register_orchestration("WaitForGo", wait_for_go)
          .register_orchestration("Parent",
                                  [](OrchestrationContext& ctx, std::string) {
                                    return ctx
                                        .schedule_sub_orchestration_with_id(
                                            "WaitForGo", ctx.instance_id() + "/child", "")
                                        .into_sub_orchestration()
                                        .value();
                                  })
          .build());
}

/// Waits until the runtime of `h` has begun `id` (its first execution has history), as
/// `client` reads it.
void wait_started(Harness& h, Client& client, const std::string& id) {
  const bool started = h.wait_until([&] {
    auto executions = client.list_executions(id);
    return executions && !executions->empty();
  });
  if (!started) FAIL("instance " << id << " did not start");
}

std::vector<std::string> ids_of(const InstancePage& page) {
  std::vector<std::string> ids;
  for (const auto& info : page.instances) ids.push_back(info.instance_id);
  return ids;
}

/// Writes a row directly, as a runtime would for an instance in state `state`.
void put_row(Provider& store, const std::string& id, InstanceState state,
             const std::string& parent_id = "", TimestampMs updated_at = 1000) {
  InstanceRecord row;
  row.instance_id = id;
  row.name = "Direct";
  row.version = "1.0.0";
  row.state = state;
  row.created_at = 500;
  row.updated_at = updated_at;
  row.parent_id = parent_id;
  WriteBatch batch;
  batch.instance_id = id;
  batch.precondition = WriteBatch::Precondition::InstanceAbsent;
  batch.instance = row;
  REQUIRE(store.commit_sync(batch));
}

/// A strict checker of JSON syntax (RFC 8259), enough to tell that the output parses.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : text_(text) {}
  bool valid() {
    skip_space();
    if (!value()) return false;
    skip_space();
    return pos_ == text_.size();
  }

 private:
  bool value() {
    if (pos_ >= text_.size()) return false;
    switch (text_[pos_]) {
      case '{':
        return sequence('}', true);
      case '[':
        return sequence(']', false);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  bool sequence(char close, bool object) {
    ++pos_;
    skip_space();
    if (eat(close)) return true;
    for (;;) {
      skip_space();
      if (object && !(string() && (skip_space(), eat(':')))) return false;
      skip_space();
      if (!value()) return false;
      skip_space();
      if (eat(close)) return true;
      if (!eat(',')) return false;
    }
  }
  bool string() {
    if (!eat('"')) return false;
    while (pos_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (pos_ >= text_.size()) return false;
      const char e = text_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i, ++pos_) {
          if (pos_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_])))
            return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = pos_;
    eat('-');
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return pos_ > start && std::isdigit(static_cast<unsigned char>(text_[pos_ - 1]));
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           std::string_view(" \t\r\n").find(text_[pos_]) != std::string_view::npos)
      ++pos_;
  }
  std::string_view text_;
  std::size_t pos_ = 0;
};

/// Runs this test binary again, as another process, on the child test case below.
int run_child_reader(const std::string& store_path) {
  std::string self = "/proc/self/exe";
  std::string filter = "--test-case=management reads from another process (child side)";
  std::string quiet = "--minimal=true";  // the child reports failures only
  std::vector<char*> argv = {self.data(), filter.data(), quiet.data(), nullptr};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kChildStoreVar) + "=" + store_path);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) {
    return -1;
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_SUITE("api.management") {
  TEST_CASE("list_instances filters by status and prefix and pages in id order") {
    auto h = harness();
    auto& client = h.client();
    std::vector<std::string> expected;
    for (int i = 0; i < 25; ++i) {
      const std::string id = std::string("list-") + (i < 10 ? "0" : "") + std::to_string(i);
      expected.push_back(id);
      REQUIRE(client.start_orchestration(id, i % 5 == 0 ? "Fail" : "Echo", id));
    }
    REQUIRE(client.start_orchestration("other-1", "Echo", ""));
    for (const auto& id : expected) h.wait(id);
    h.wait("other-1");

    InstanceListQuery query;
    query.id_prefix = "list-";
    query.page_size = 7;
    std::vector<std::string> seen;
    std::vector<std::size_t> sizes;
    for (;;) {
      const auto page = client.list_instances(query).value();
      sizes.push_back(page.instances.size());
      const auto ids = ids_of(page);
      seen.insert(seen.end(), ids.begin(), ids.end());
      if (!page.next_start_after) break;
      CHECK(*page.next_start_after == ids.back());
      query.start_after = *page.next_start_after;
    }
    CHECK(seen == expected);
    CHECK(sizes == std::vector<std::size_t>{7, 7, 7, 4});

    InstanceListQuery exact;  // a page that holds exactly the rest is the last one
    exact.id_prefix = "list-";
    exact.page_size = 25;
    const auto all = client.list_instances(exact).value();
    CHECK(all.instances.size() == 25);
    CHECK_FALSE(all.next_start_after.has_value());

    InstanceListQuery failed;
    failed.status = Kind::Failed;
    CHECK(ids_of(client.list_instances(failed).value()) ==
          std::vector<std::string>{"list-00", "list-05", "list-10", "list-15", "list-20"});
    InstanceListQuery completed;
    completed.status = Kind::Completed;
    CHECK(client.list_instances(completed).value().instances.size() == 21);
    completed.id_prefix = "other";
    CHECK(ids_of(client.list_instances(completed).value()) == std::vector<std::string>{"other-1"});
    InstanceListQuery running;
    running.status = Kind::Running;
    CHECK(client.list_instances(running).value().instances.empty());
    CHECK(client.list_instances().value().instances.size() == 26);
  }

  TEST_CASE("list_instances refuses queries that cannot match") {
    auto h = harness();
    InstanceListQuery zero;
    zero.page_size = 0;
    CHECK(h.client().list_instances(zero).error().code == ErrorCode::InvalidArgument);
    InstanceListQuery not_found;
    not_found.status = Kind::NotFound;
    CHECK(h.client().list_instances(not_found).error().code == ErrorCode::InvalidArgument);
    InstanceListQuery long_prefix;
    long_prefix.id_prefix = std::string(kMaxInstanceIdBytes + 1, 'x');
    CHECK(h.client().list_instances(long_prefix).error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("get_instance_info reports name, version, status, times and outputs") {
    auto h = harness();
    auto& client = h.client();
    const auto before = std::chrono::system_clock::now() - 1s;
    REQUIRE(h.run("info-ok", "Status", "").is_completed());
    REQUIRE(h.run("info-bad", "Fail", "").is_failed());

    const auto ok = client.get_instance_info("info-ok").value();
    CHECK(ok.instance_id == "info-ok");
    CHECK(ok.name == "Status");
    CHECK(ok.version == "1.0.0");
    CHECK(ok.status == Kind::Completed);
    CHECK(ok.execution_id == 1);
    CHECK(ok.created_at >= before);
    CHECK(ok.created_at <= ok.updated_at);
    CHECK(ok.updated_at <= std::chrono::system_clock::now());
    CHECK(ok.custom_status == std::optional<std::string>("phase-2"));
    CHECK(ok.output == "OK");
    CHECK(ok.parent_id.empty());

    const auto bad = client.get_instance_info("info-bad").value();
    CHECK(bad.status == Kind::Failed);
    CHECK(bad.output.empty());
    CHECK(bad.error.message() == "boom");
    CHECK_FALSE(bad.custom_status.has_value());

    CHECK(client.get_instance_info("nobody").error().code == ErrorCode::NotFound);
    CHECK(client.get_instance_info("").error().code == ErrorCode::InvalidArgument);
    CHECK(client.get_instance_info(std::string(kMaxInstanceIdBytes + 1, 'x')).error().code ==
          ErrorCode::InvalidArgument);
  }

  TEST_CASE("list_executions and read_history follow continue-as-new") {
    auto h = harness();
    auto& client = h.client();
    REQUIRE(h.run("counter", "Counter", "1").output() == "done 3");
    CHECK(client.list_executions("counter").value() == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(client.get_instance_info("counter").value().execution_id == 3);

    const auto first = client.read_history("counter", 1).value();
    REQUIRE(first.size() >= 2);
    CHECK(first.front().kind == EventKind::OrchestrationStarted);
    CHECK(first.front().data == "1");
    CHECK(first.back().kind == EventKind::OrchestrationContinuedAsNew);
    CHECK(first.back().data == "2");
    const auto last = client.read_history("counter", 3).value();
    CHECK(last.back().kind == EventKind::OrchestrationCompleted);
    CHECK(last.back().data == "done 3");

    // Old executions stay readable until purged; the current one stays.
    CHECK(client.purge_executions("counter").value() == 2);
    CHECK(client.list_executions("counter").value() == std::vector<std::uint64_t>{3});
    CHECK(client.read_history("counter", 1).error().code == ErrorCode::NotFound);
    CHECK(client.read_history("counter", 3).value() == last);
    CHECK(client.purge_executions("counter").value() == 0);
    CHECK(client.purge_executions("nobody").error().code == ErrorCode::NotFound);

    CHECK(client.read_history("counter", 4).error().code == ErrorCode::NotFound);
    CHECK(client.read_history("counter", 0).error().code == ErrorCode::NotFound);
    CHECK(client.read_history("nobody", 1).error().code == ErrorCode::NotFound);
    CHECK(client.list_executions("nobody").error().code == ErrorCode::NotFound);
    CHECK(client.read_history("", 1).error().code == ErrorCode::InvalidArgument);
    CHECK(client.read_history_json("nobody", 1).error().code == ErrorCode::NotFound);
  }

  TEST_CASE("read_history_json names kinds and holds the meaningful fields") {
    auto h = harness();
    auto& client = h.client();
    REQUIRE(h.run("json", "Status", "").is_completed());
    const std::string json = client.read_history_json("json", 1).value();
    CHECK(JsonChecker(json).valid());
    CHECK(json.front() == '[');
    CHECK(json.back() == ']');
    CHECK(json.find("{\"event_id\":1,\"kind\":\"OrchestrationStarted\"") != std::string::npos);
    CHECK(json.find("\"name\":\"Status\",\"version\":\"1.0.0\",\"input\":\"\"") !=
          std::string::npos);
    CHECK(json.find("\"kind\":\"ActivityScheduled\"") != std::string::npos);
    CHECK(json.find("\"name\":\"Upper\",\"input\":\"ok\"") != std::string::npos);
    CHECK(json.find("\"kind\":\"ActivityCompleted\"") != std::string::npos);
    CHECK(json.find("\"output\":\"OK\"") != std::string::npos);
    CHECK(json.find("\"kind\":\"OrchestrationCompleted\"") != std::string::npos);
    CHECK(json.find("\"kind\":\"TurnStarted\",\"timestamp\":") != std::string::npos);
    // One object per event.
    const auto events = client.read_history("json", 1).value();
    std::size_t objects = 0;
    for (std::size_t at = json.find("{\"event_id\":"); at != std::string::npos;
         at = json.find("{\"event_id\":", at + 1)) {
      ++objects;
    }
    CHECK(objects == events.size());
    CHECK(to_string(EventKind::SubOrchestrationFailed) == "SubOrchestrationFailed");
    CHECK(to_string(static_cast<EventKind>(0)) == "Unknown");
  }

  TEST_CASE("read_history_json escapes payloads and replaces bytes that are not UTF-8") {
    auto h = harness();
    const std::string payload =
        "say \"hi\"\n\\ tab\t\x01\x1f\x7f bad\xff\xc3( caf\xc3\xa9 \xe2\x82\xac";
    REQUIRE(h.run("escape", "Echo", payload).output() == payload);
    const std::string json = h.client().read_history_json("escape", 1).value();
    CHECK(JsonChecker(json).valid());
    const std::string escaped =
        "\"say \\\"hi\\\"\\n\\\\ tab\\t\\u0001\\u001f\\u007f bad\\ufffd\\ufffd( caf\xc3\xa9 "
        "\xe2\x82\xac\"";
    CHECK(json.find("\"input\":" + escaped) != std::string::npos);
    CHECK(json.find("\"output\":" + escaped) != std::string::npos);
  }

  TEST_CASE("delete refuses a running instance without force and removes it with force") {
    auto h = harness();
    auto& client = h.client();
    REQUIRE(client.start_orchestration("waiting", "WaitForGo", ""));
    REQUIRE(client.start_orchestration("bystander", "WaitForGo", ""));
    wait_started(h, client, "waiting");
    wait_started(h, client, "bystander");

    auto refused = client.delete_instance("waiting");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::InvalidArgument);
    CHECK(refused.error().message.find("'waiting'") != std::string::npos);
    CHECK(client.get_orchestration_status("waiting").value().is_running());

    CHECK(client.delete_instance("waiting", true).value() == 1);
    CHECK(client.get_orchestration_status("waiting").value().kind() == Kind::NotFound);
    CHECK(client.get_instance_info("waiting").error().code == ErrorCode::NotFound);
    CHECK(client.list_executions("waiting").error().code == ErrorCode::NotFound);
    CHECK(client.raise_event("waiting", "Go", "late").error().code == ErrorCode::NotFound);
    CHECK(client.delete_instance("waiting", true).error().code == ErrorCode::NotFound);

    // The other instance still runs to its end.
    REQUIRE(client.raise_event("bystander", "Go", "went"));
    CHECK(h.wait("bystander").output() == "went");

    // Its queued timer is gone with it: nothing is left for the deleted instance.
    h.stop();
    auto& store = *h.store();
    REQUIRE(store.claim_dispatch());
    const auto messages = store.fetch_messages(std::numeric_limits<TimestampMs>::max(), 1000);
    for (const auto& queued : messages.value()) CHECK(queued.message.instance_id != "waiting");
    CHECK(store.fetch_activities(0, 1000, 1s).value().empty());
    store.release_dispatch();
  }

  TEST_CASE("deleting removes sub-orchestrations recursively, refusing while one runs") {
    auto h = harness();
    auto& client = h.client();
    auto& store = *h.store();
    put_row(store, "tree", InstanceState::Completed);
    put_row(store, "tree/a", InstanceState::Completed, "tree");
    put_row(store, "tree/a/deep", InstanceState::Running, "tree/a");
    put_row(store, "tree/b", InstanceState::Failed, "tree");
    put_row(store, "treehouse", InstanceState::Completed);
    put_row(store, "loner/child", InstanceState::Completed, "treehouse");

    auto refused = client.delete_instance("tree");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::InvalidArgument);
    CHECK(refused.error().message.find("'tree/a/deep'") != std::string::npos);
    CHECK(client.list_instances().value().instances.size() == 6);

    CHECK(client.delete_instance("tree/a/deep", true).value() == 1);
    CHECK(client.delete_instance("tree").value() == 3);
    CHECK(ids_of(client.list_instances().value()) ==
          std::vector<std::string>{"loner/child", "treehouse"});
    CHECK(client.delete_instance("treehouse").value() == 2);
    CHECK(client.list_instances().value().instances.empty());
    CHECK(client.delete_instance("").error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("deleting a parent with force removes its running sub-orchestration") {
    auto h = harness();
    auto& client = h.client();
    REQUIRE(client.start_orchestration("parent", "Parent", ""));
    wait_started(h, client, "parent/child");
    CHECK(client.get_instance_info("parent/child").value().parent_id == "parent");
    auto refused = client.delete_instance("parent");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::InvalidArgument);
    CHECK(client.delete_instance("parent", true).value() == 2);
    CHECK(client.get_orchestration_status("parent").value().kind() == Kind::NotFound);
    CHECK(client.get_orchestration_status("parent/child").value().kind() == Kind::NotFound);
    CHECK(client.raise_event("parent/child", "Go", "").error().code == ErrorCode::NotFound);
  }

  TEST_CASE("purge removes finished top-level instances older than the cutoff, with children") {
    auto h = harness();
    auto& client = h.client();
    auto& store = *h.store();
    REQUIRE(h.run("p-old", "Echo", "").is_completed());
    REQUIRE(client.start_orchestration("p-running", "WaitForGo", ""));
    wait_started(h, client, "p-running");
    put_row(store, "p-tree", InstanceState::Failed);
    put_row(store, "p-tree/kid", InstanceState::Completed, "p-tree");
    put_row(store, "p-tree/kid/kid", InstanceState::Completed, "p-tree/kid");
    put_row(store, "p-busy", InstanceState::Completed);
    put_row(store, "p-busy/kid", InstanceState::Running, "p-busy");
    put_row(store, "p-orphan", InstanceState::Completed, "gone");
    // Row times are whole milliseconds: the wall clock itself must move on, past the rows
    // above and again before the rows below, and nothing but time makes it.
    std::this_thread::sleep_for(5ms);
    const auto cutoff = std::chrono::system_clock::now();
    std::this_thread::sleep_for(5ms);
    REQUIRE(h.run("p-new", "Echo", "").is_completed());

    CHECK(client.purge_instances(cutoff).value() == 5);
    CHECK(ids_of(client.list_instances().value()) ==
          std::vector<std::string>{"p-busy", "p-busy/kid", "p-new", "p-running"});
    CHECK(client.purge_instances(cutoff).value() == 0);
    CHECK(client.purge_instances(std::chrono::system_clock::now() + 1h).value() == 1);  // p-new
    REQUIRE(client.raise_event("p-running", "Go", "still here"));
    CHECK(h.wait("p-running").output() == "still here");
  }

  TEST_CASE("a second client reads while the runtime runs") {
    auto h = harness();
    REQUIRE(h.client().start_orchestration("shared", "WaitForGo", ""));
    Client other(LmdbProvider::open(h.store()->path()).value());
    wait_started(h, other, "shared");
    CHECK(other.get_instance_info("shared").value().status == Kind::Running);
    CHECK(other.read_history_json("shared", 1).value().find("\"kind\":\"EventSubscribed\"") !=
          std::string::npos);
    REQUIRE(h.client().raise_event("shared", "Go", "seen"));
    CHECK(other.wait_for_orchestration("shared", 20s).value().output() == "seen");
    CHECK(other.get_instance_info("shared").value().status == Kind::Completed);
  }

  TEST_CASE("management reads from another process while the runtime runs") {
    auto h = harness();
    REQUIRE(h.run("seen-elsewhere", "Echo", "from the parent").is_completed());
    REQUIRE(h.client().start_orchestration("still-running", "WaitForGo", ""));
    wait_started(h, h.client(), "still-running");
    CHECK(run_child_reader(h.store()->path()) == 0);
  }

  TEST_CASE("management reads from another process (child side)") {
    const char* path = std::getenv(kChildStoreVar);
    if (path == nullptr) return;  // only the child process runs this
    Client client(LmdbProvider::open(path).value());
    CHECK(ids_of(client.list_instances().value()) ==
          std::vector<std::string>{"seen-elsewhere", "still-running"});
    const auto info = client.get_instance_info("seen-elsewhere").value();
    CHECK(info.status == Kind::Completed);
    CHECK(info.output == "from the parent");
    CHECK(client.read_history_json("seen-elsewhere", 1)
              .value()
              .find("\"kind\":\"OrchestrationCompleted\"") != std::string::npos);
    InstanceListQuery running;
    running.status = Kind::Running;
    CHECK(ids_of(client.list_instances(running).value()) ==
          std::vector<std::string>{"still-running"});
  }
}
