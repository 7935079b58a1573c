// SPDX-License-Identifier: MIT
// Replay engine without fibers or a store: scripted turns in, recorded steps out.
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "engine/execution.hpp"

using namespace duroxide;
using namespace duroxide::engine;

namespace {

// Plays the part of the instance: each wait for messages records the step and hands out the
// next scripted batch; an empty script unwinds (the instance would park).
class ScriptedHost final : public ExecutionHost {
 public:
  std::deque<std::vector<OrchestratorMessage>> script;
  std::vector<HistoryEvent> history;  // every event recorded so far, in order
  std::vector<ActivityWorkItem> activities;
  std::vector<OrchestratorMessage> timers;
  int waits = 0;
  TimestampMs clock = 1'000'000;

  std::vector<OrchestratorMessage> next_messages(StepOutput output) override {
    record(std::move(output));
    ++waits;
    if (script.empty()) throw Unwind{};
    auto batch = std::move(script.front());
    script.pop_front();
    return batch;
  }
  TimestampMs now() const override { return clock; }
  const Logger& logger() const override { return logger_; }

  void record(StepOutput output) {
    for (auto& e : output.events) history.push_back(std::move(e));
    for (auto& a : output.activities) activities.push_back(std::move(a));
    for (auto& m : output.messages) timers.push_back(std::move(m));
  }

 private:
  Logger logger_{LogLevel::Off, {}};
};

// The instance id is assigned as a std::string, not a literal: g++ 12 at -O3 reports a false
// -Wrestrict for assigning a literal to the default-constructed member (GCC bug 105329).
OrchestratorMessage completed(std::uint64_t source, std::string output) {
  OrchestratorMessage m;
  m.instance_id = std::string("i");
  m.execution_id = 1;
  m.kind = MessageKind::ActivityCompleted;
  m.source_id = source;
  m.data = std::move(output);
  return m;
}

OrchestratorMessage failed(std::uint64_t source, std::string error) {
  auto m = completed(source, std::move(error));
  m.kind = MessageKind::ActivityFailed;
  return m;
}

OrchestratorMessage raised(std::string name, std::string data) {
  OrchestratorMessage m;
  m.instance_id = std::string("i");
  m.kind = MessageKind::ExternalEvent;
  m.name = std::move(name);
  m.data = std::move(data);
  return m;
}

OrchestratorMessage fired(std::uint64_t source) {
  auto m = completed(source, "");
  m.kind = MessageKind::TimerFired;
  return m;
}

using Code = std::function<std::string(OrchestrationContext&)>;

// Runs `code` as a new execution against `host`; returns its output, or "<unwound>".
std::string run_new(ScriptedHost& host, const Code& code) {
  Execution execution(host, ExecutionIdentity{"i", 1, "Test", "1.0.0"}, "in");
  OrchestrationContext ctx(execution);
  try {
    std::string out = code(ctx);
    execution.complete(out);
    host.record(execution.take_output());
    return out;
  } catch (const Unwind&) {
    return "<unwound>";
  }
}

// Replays `code` from `history`; no new messages are available.
std::string replay(std::vector<HistoryEvent> history, const Code& code, int* waits = nullptr) {
  ScriptedHost host;
  Execution execution(host, 1, "i", std::move(history));
  OrchestrationContext ctx(execution);
  try {
    std::string out = code(ctx);
    execution.complete(out);
    if (waits) *waits = host.waits;
    return out;
  } catch (const Unwind&) {
    if (waits) *waits = host.waits;
    return "<unwound>";
  }
}

std::string chain(OrchestrationContext& ctx) {
  auto a = ctx.schedule_activity("A", "1").into_activity().value();
  auto b = ctx.schedule_activity("B", a).into_activity().value();
  return a + "," + b;
}

// The full history of chain() when A returns "x" and B returns "y".
std::vector<HistoryEvent> chain_history() {
  ScriptedHost host;
  host.script.push_back({completed(2, "x")});
  host.script.push_back({completed(5, "y")});
  run_new(host, chain);
  return host.history;
}

}  // namespace

TEST_SUITE("engine.execution") {
  TEST_CASE("a new execution records the start and each scheduled call") {
    ScriptedHost host;
    host.script.push_back({completed(2, "x")});
    host.script.push_back({completed(5, "y")});
    CHECK(run_new(host, chain) == "x,y");
    REQUIRE(host.history.size() == 8);
    CHECK(host.history[0].kind == EventKind::OrchestrationStarted);
    CHECK(host.history[0].data == "in");
    CHECK(host.history[1].kind == EventKind::ActivityScheduled);
    CHECK(host.history[2].kind == EventKind::TurnStarted);
    CHECK(host.history[3].kind == EventKind::ActivityCompleted);
    CHECK(host.history[4].kind == EventKind::ActivityScheduled);
    CHECK(host.history[4].data == "x");
    CHECK(host.history[7].kind == EventKind::OrchestrationCompleted);
    for (std::size_t i = 0; i < host.history.size(); ++i) {
      CHECK(host.history[i].event_id == i + 1);  // dense ids from 1
    }
    REQUIRE(host.activities.size() == 2);
    CHECK(host.activities[1].activity_id == 5);
  }

  TEST_CASE("replaying the full history gives the same output without waiting") {
    auto history = chain_history();
    history.pop_back();  // drop the terminal event: replay must reach it again
    int waits = -1;
    CHECK(replay(history, chain, &waits) == "x,y");
    CHECK(waits == 0);
  }

  TEST_CASE("replay of a partial history continues live where history ends") {
    ScriptedHost first;
    first.script.push_back({completed(2, "x")});
    CHECK(run_new(first, chain) == "<unwound>");  // waits for B after one turn

    ScriptedHost host;
    Execution execution(host, 1, "i", first.history);
    CHECK(execution.is_replaying());
    host.script.push_back({completed(5, "y")});
    OrchestrationContext ctx(execution);
    CHECK(chain(ctx) == "x,y");
    host.record(execution.take_output());
    CHECK_FALSE(execution.is_replaying());
    CHECK(host.waits == 1);             // only the live wait for B
    REQUIRE(host.history.size() == 2);  // the new turn: marker and B's completion
    CHECK(host.history[0].event_id == 6);
  }

  TEST_CASE("a different activity name on replay is nondeterminism naming both calls") {
    const auto history = chain_history();
    auto other = [](OrchestrationContext& ctx) {
      ctx.schedule_activity("A", "1").into_activity().value();
      return ctx.schedule_activity("C", "x").into_activity().value();
    };
    try {
      replay(history, other);
      FAIL("no nondeterminism detected");
    } catch (const NondeterminismDetected& e) {
      CHECK(e.message.find("call #2") != std::string::npos);
      CHECK(e.message.find("\"C\"") != std::string::npos);
      CHECK(e.message.find("\"B\"") != std::string::npos);
    }
  }

  TEST_CASE("a different input on replay is nondeterminism") {
    const auto history = chain_history();
    auto other = [](OrchestrationContext& ctx) {
      return ctx.schedule_activity("A", "2").into_activity().value();
    };
    CHECK_THROWS_AS(replay(history, other), NondeterminismDetected);
  }

  TEST_CASE("code that skips a recorded call is nondeterminism") {
    auto history = chain_history();
    history.pop_back();
    auto shorter = [](OrchestrationContext& ctx) {
      return ctx.schedule_activity("A", "1").into_activity().value();
    };
    CHECK_THROWS_AS(replay(history, shorter), NondeterminismDetected);
  }

  TEST_CASE("select picks the completion that comes first in history, also on replay") {
    auto race = [](OrchestrationContext& ctx) {
      auto slow = ctx.schedule_activity("Slow", "");  // scheduled first: event 2
      auto fast = ctx.schedule_activity("Fast", "");
      auto [index, output] = ctx.select2(std::move(slow), std::move(fast));
      return std::to_string(index) + ":" + output.result.value();
    };
    ScriptedHost host;
    host.script.push_back({completed(3, "fast"), completed(2, "slow")});  // one turn, B first
    CHECK(run_new(host, race) == "1:fast");
    auto history = host.history;
    history.pop_back();
    CHECK(replay(history, race) == "1:fast");
  }

  TEST_CASE("join returns results in argument order whatever the completion order") {
    auto fan = [](OrchestrationContext& ctx) {
      std::vector<DurableFuture> all;
      for (int i = 0; i < 3; ++i) all.push_back(ctx.schedule_activity("W", std::to_string(i)));
      std::string out;
      for (auto& r : ctx.join(std::move(all))) out += r.result.value();
      return out;
    };
    ScriptedHost host;
    host.script.push_back({completed(4, "c")});
    host.script.push_back({completed(2, "a"), completed(3, "b")});
    CHECK(run_new(host, fan) == "abc");
  }

  TEST_CASE("an event raised before its wait is buffered, not dropped") {
    auto approval = [](OrchestrationContext& ctx) {
      ctx.schedule_activity("Prepare", "").into_activity().value();
      return ctx.schedule_wait("Approve").into_event();
    };
    ScriptedHost host;
    host.script.push_back({raised("Approve", "yes"), completed(2, "ok")});
    CHECK(run_new(host, approval) == "yes");
    auto history = host.history;
    history.pop_back();
    CHECK(replay(history, approval) == "yes");
  }

  TEST_CASE("the Nth wait for a name receives the Nth event of that name") {
    auto two = [](OrchestrationContext& ctx) {
      auto first = ctx.schedule_wait("E").into_event();
      auto second = ctx.schedule_wait("E").into_event();
      return first + second;
    };
    ScriptedHost host;
    host.script.push_back({raised("Other", "z"), raised("E", "1")});
    host.script.push_back({raised("E", "2")});
    CHECK(run_new(host, two) == "12");
  }

  TEST_CASE("a failed activity reaches the code as an error, and a repeat completion is dropped") {
    auto code = [](OrchestrationContext& ctx) {
      auto r = ctx.schedule_activity("A", "").into_activity();
      return r ? std::string("ok") : "error: " + r.error();
    };
    ScriptedHost host;
    host.script.push_back({failed(2, "boom"), completed(2, "late"), completed(99, "unknown")});
    CHECK(run_new(host, code) == "error: boom");
    int completions = 0;
    for (auto& e : host.history) {
      completions += e.kind == EventKind::ActivityCompleted || e.kind == EventKind::ActivityFailed;
    }
    CHECK(completions == 1);
  }

  TEST_CASE("timers fire at utc_now plus the delay and replay to the same time") {
    auto sleepy = [](OrchestrationContext& ctx) {
      ctx.schedule_timer(std::chrono::milliseconds(250)).into_timer();
      return std::to_string(ctx.utc_now().time_since_epoch().count() > 0);
    };
    ScriptedHost host;
    host.script.push_back({fired(2)});
    CHECK(run_new(host, sleepy) == "1");
    REQUIRE(host.timers.size() == 1);
    CHECK(host.timers[0].visible_at == 1'000'000 + 250);
    CHECK(host.history[1].timestamp == 1'000'000 + 250);
  }

  TEST_CASE("new_guid and utc_now are the same on replay") {
    std::vector<std::string> seen;
    auto code = [&seen](OrchestrationContext& ctx) {
      auto g1 = ctx.new_guid();
      ctx.schedule_activity("A", "").into_activity().value();
      auto g2 = ctx.new_guid();
      auto t = std::to_string(ctx.utc_now().time_since_epoch().count());
      seen.push_back(g1 + g2 + t);
      CHECK(g1 != g2);
      CHECK(g1.size() == 36);
      return g1;
    };
    ScriptedHost host;
    host.script.push_back({completed(2, "")});
    host.clock = 5'000'000;
    run_new(host, code);
    auto history = host.history;
    history.pop_back();
    replay(history, code);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == seen[1]);
  }

  TEST_CASE("is_replaying stays true through the last recorded turn, false once live") {
    std::vector<bool> flags;
    auto code = [&flags](OrchestrationContext& ctx) {
      flags.push_back(ctx.is_replaying());
      auto a = ctx.schedule_activity("A", "1").into_activity().value();
      flags.push_back(ctx.is_replaying());
      auto b = ctx.schedule_activity("B", a).into_activity().value();
      flags.push_back(ctx.is_replaying());
      return b;
    };
    ScriptedHost first;
    first.script.push_back({completed(2, "x")});
    CHECK(run_new(first, code) == "<unwound>");  // recorded: A done, B scheduled
    CHECK(flags == std::vector<bool>{false, false});

    flags.clear();
    ScriptedHost host;
    host.script.push_back({completed(5, "y")});
    Execution execution(host, 1, "i", first.history);
    OrchestrationContext ctx(execution);
    CHECK(code(ctx) == "y");
    // The code ran up to B's wait before the restart; only what follows B's result is new.
    CHECK(flags == std::vector<bool>{true, true, false});
  }
}
