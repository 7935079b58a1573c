// SPDX-License-Identifier: MIT
// Crash at every write point: a scenario is cut at its k-th commit (lost or landed) for every k,
// and a fresh runtime on the surviving state must finish it exactly as an uninterrupted run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "engine/instance.hpp"
#include "test/testlib/commit_watcher.hpp"
#include "test/testlib/crashing_provider.hpp"
#include "test/testlib/faulty_provider.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::CrashingProvider;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimerDelay = 20ms;
constexpr auto kRetryDelay = 10ms;
// Commit numbers tried past the last one an uninterrupted run makes: the count varies a little
// with timing (workers mark several activities started in one batch, or one each).
constexpr std::uint64_t kExtraCommits = 4;

// What the activities of one run of the scenario did, shared by the crashed runtime and the one
// that finishes the run (one process: the crash is simulated).
struct RunLog {
  std::mutex mutex;
  // (instance, execution, activity id) of every activity that ran, at least once.
  std::set<std::tuple<std::string, std::uint64_t, std::uint64_t>> ran;
  // Retried call (instance, execution, input) -> activity id of its first attempt, which fails.
  std::map<std::tuple<std::string, std::uint64_t, std::string>, std::uint64_t> first_attempt;
};

void record_run(RunLog& log, const ActivityContext& ctx) {
  std::lock_guard lock(log.mutex);
  log.ran.emplace(ctx.instance_id(), ctx.execution_id(), ctx.activity_id());
}

ActivityRegistry scenario_activities(const std::shared_ptr<RunLog>& log) {
  return ActivityRegistry::builder()
      .register_activity("Wrap",
                         [log](ActivityContext& ctx, std::string in) {
                           record_run(*log, ctx);
                           return "[" + in + "]";
                         })
      // Fails the first attempt of each retried call, and only it: the decision depends on
      // history (the attempt's activity id), so a re-delivery after a crash decides the same.
      .register_activity("Flaky",
                         [log](ActivityContext& ctx, std::string in) -> Result<std::string> {
                           record_run(*log, ctx);
                           std::lock_guard lock(log->mutex);
                           const auto first = log->first_attempt.emplace(
                               std::make_tuple(ctx.instance_id(), ctx.execution_id(), in),
                               ctx.activity_id());
                           if (first.first->second == ctx.activity_id()) {
                             return Err("flaky first attempt of " + in);
                           }
                           return "ok " + in;
                         })
      .build();
}

std::string wrap(OrchestrationContext& ctx, std::string in) {
  return ctx.schedule_activity("Wrap", std::move(in)).into_activity().value();
}

std::string retried(OrchestrationContext& ctx, std::string in) {
  return ctx
      .schedule_activity_with_retry("Flaky", std::move(in),
                                    RetryPolicy(3).with_backoff(Backoff::fixed(kRetryDelay)))
      .into_activity()
      .value();
}

OrchestrationRegistry scenario_orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Chain",
                              [](OrchestrationContext& ctx, std::string in) {
                                return wrap(ctx, wrap(ctx, wrap(ctx, in)));
                              })
      .register_orchestration("Fan",
                              [](OrchestrationContext& ctx, std::string in) {
                                std::vector<DurableFuture> calls;
                                for (char c : in)
                                  calls.push_back(ctx.schedule_activity("Wrap", {c}));
                                std::string out;
                                for (auto& done : ctx.join(std::move(calls))) {
                                  out += done.result.value();
                                }
                                ctx.schedule_timer(kTimerDelay).into_timer();
                                return out + " after the timer";
                              })
      .register_orchestration("Approve",
                              [](OrchestrationContext& ctx, std::string) {
                                return wrap(ctx, ctx.schedule_wait("Approval").into_event());
                              })
      .register_orchestration(
          "Parent",
          [](OrchestrationContext& ctx, std::string in) {
            auto child =
                ctx.schedule_sub_orchestration("Child", in).into_sub_orchestration().value();
            return child + " " + retried(ctx, in);
          })
      .register_orchestration("Child",
                              [](OrchestrationContext& ctx, std::string in) {
                                ctx.schedule_timer(kTimerDelay).into_timer();
                                return wrap(ctx, "child of " + in);
                              })
      .register_orchestration("Retry", [](OrchestrationContext& ctx,
                                          std::string in) { return retried(ctx, std::move(in)); })
      // Three executions; each takes one "Tick" (all raised before the start, so two carry
      // over) and wraps it onto what the previous execution passed on.
      .register_orchestration("Loop",
                              [](OrchestrationContext& ctx, std::string in) -> Result<std::string> {
                                auto out = wrap(ctx, in + ctx.schedule_wait("Tick").into_event());
                                if (ctx.execution_id() < 3) return ctx.continue_as_new(out);
                                return out;
                              })
      .build();
}

const std::vector<std::string> kTopLevel = {"chain", "fan", "approve", "parent", "retry", "loop"};

// Everything a client writes before any runtime runs: durable before the first crash point.
void start_scenario(Client& client) {
  client.start_orchestration("chain", "Chain", "c").value();
  client.start_orchestration("fan", "Fan", "xyz").value();
  client.start_orchestration("approve", "Approve", "").value();
  client.raise_event("approve", "Approval", "yes").value();
  client.start_orchestration("parent", "Parent", "p").value();
  client.start_orchestration("retry", "Retry", "r").value();
  client.start_orchestration("loop", "Loop", "").value();
  for (const char* tick : {"t1", "t2", "t3"}) client.raise_event("loop", "Tick", tick).value();
}

RuntimeOptions scenario_options(std::size_t threads, bool crashing) {
  RuntimeOptions options = testlib::quiet_options(threads);
  // The crashed runtime reports every failed commit at Error level: expected, so not printed.
  if (crashing) options.log_sink = [](LogLevel, std::string_view) {};
  return options;
}

bool all_finished(Provider& store) {
  return std::all_of(kTopLevel.begin(), kTopLevel.end(), [&store](const std::string& id) {
    auto row = store.read_instance(id);
    return row && row->state != InstanceState::Running;
  });
}

bool is_terminal(EventKind kind) {
  return kind == EventKind::OrchestrationCompleted || kind == EventKind::OrchestrationFailed ||
         kind == EventKind::OrchestrationContinuedAsNew;
}

// The scheduling event a completion refers to, or nullopt for other events.
std::optional<EventKind> scheduled_by(EventKind kind) {
  switch (kind) {
    case EventKind::ActivityCompleted:
    case EventKind::ActivityFailed:
      return EventKind::ActivityScheduled;
    case EventKind::TimerFired:
      return EventKind::TimerCreated;
    case EventKind::SubOrchestrationCompleted:
    case EventKind::SubOrchestrationFailed:
      return EventKind::SubOrchestrationScheduled;
    default:
      return std::nullopt;
  }
}

bool is_scheduling(EventKind kind) {
  return kind == EventKind::ActivityScheduled || kind == EventKind::TimerCreated ||
         kind == EventKind::SubOrchestrationScheduled;
}

// What the orchestration code asked for in one execution, independent of timing: its input,
// its calls in order and how it ended (turn boundaries and completion order may differ).
std::vector<std::string> calls_of(const std::vector<HistoryEvent>& history) {
  std::vector<std::string> calls;
  for (const auto& e : history) {
    const std::string kind = std::to_string(static_cast<int>(e.kind));
    if (e.kind == EventKind::TimerCreated) {
      calls.push_back(kind);
    } else if (e.kind == EventKind::OrchestrationStarted || is_scheduling(e.kind) ||
               e.kind == EventKind::EventSubscribed || is_terminal(e.kind)) {
      calls.push_back(kind + " " + e.name + " " + e.data);
    }
  }
  return calls;
}

// Appends to `problems` what is wrong with one execution's history: ids not dense from 1, a
// first event other than OrchestrationStarted, not exactly one terminal event (last, and of
// kind `terminal`), a completion without its earlier scheduling event, a call completed twice
// or never (the scenario awaits every call), an activity result that no activity run produced.
void check_history(const std::vector<HistoryEvent>& history, EventKind terminal,
                   const std::string& id, std::uint64_t execution, RunLog& log,
                   std::vector<std::string>& problems) {
  auto problem = [&](const std::string& what) {
    problems.push_back(id + " execution " + std::to_string(execution) + ": " + what);
  };
  if (history.empty()) return problem("empty history");
  std::map<std::uint64_t, EventKind> kinds;  // event id -> kind, of the events before
  std::map<std::uint64_t, int> completions;  // scheduling event id -> completions
  int terminals = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const HistoryEvent& e = history[i];
    const std::string at = "event " + std::to_string(e.event_id);
    if (e.event_id != i + 1) problem(at + " at position " + std::to_string(i + 1));
    if ((i == 0) != (e.kind == EventKind::OrchestrationStarted)) {
      problem(at + ": OrchestrationStarted misplaced or missing");
    }
    if (is_terminal(e.kind)) ++terminals;
    if (is_scheduling(e.kind)) completions.emplace(e.event_id, 0);
    kinds.emplace(e.event_id, e.kind);
    const auto source = scheduled_by(e.kind);
    if (!source) continue;
    const auto scheduling = kinds.find(e.source_id);
    if (e.source_id >= e.event_id || scheduling == kinds.end() || scheduling->second != *source) {
      problem(at + ": completes " + std::to_string(e.source_id) + ", not its scheduling event");
      continue;
    }
    ++completions[e.source_id];
    if (*source == EventKind::ActivityScheduled) {
      std::lock_guard lock(log.mutex);
      if (!log.ran.contains({id, execution, e.source_id})) {
        problem(at + ": a result of activity " + std::to_string(e.source_id) + " that never ran");
      }
    }
  }
  if (terminals != 1) problem(std::to_string(terminals) + " terminal events");
  if (history.back().kind != terminal) {
    problem("ends with kind " + std::to_string(static_cast<int>(history.back().kind)) +
            ", expected " + std::to_string(static_cast<int>(terminal)));
  }
  for (const auto& [scheduled, count] : completions) {
    if (count != 1) {
      problem("call " + std::to_string(scheduled) + " completed " + std::to_string(count) +
              " times");
    }
  }
}

// One instance at the end of a run, in the terms the comparison with the baseline uses.
struct InstanceOutcome {
  InstanceState state = InstanceState::Running;
  std::string output;
  std::string parent_id;
  std::vector<std::vector<std::string>> executions;  // calls_of each execution
  friend bool operator==(const InstanceOutcome&, const InstanceOutcome&) = default;
};

struct RunOutcome {
  bool crashed = false;
  std::uint64_t commits = 0;
  std::size_t executions = 0;
  std::map<std::string, InstanceOutcome> instances;
  std::vector<std::string> problems;
  std::string dump;  // every history as JSON, filled when there are problems
};

void read_outcome(Provider& store, RunLog& log, RunOutcome& run) {
  InstanceQuery all;
  all.limit = 0;
  const auto rows = store.list_instances(all).value();
  for (const auto& row : rows) {
    const std::string& id = row.instance_id;
    InstanceOutcome& outcome = run.instances[id];
    outcome.state = row.state;
    outcome.output = row.state == InstanceState::Completed ? row.output : row.error.message();
    outcome.parent_id = row.parent_id;
    if (row.state == InstanceState::Running) run.problems.push_back(id + ": still running");
    std::vector<std::uint64_t> expected(row.execution_id);
    for (std::uint64_t e = 0; e < row.execution_id; ++e) expected[e] = e + 1;
    if (store.list_executions(id).value() != expected) {
      run.problems.push_back(id + ": executions are not 1.." + std::to_string(row.execution_id));
    }
    for (std::uint64_t execution = 1; execution <= row.execution_id; ++execution) {
      auto history = store.read_history(id, execution).value();
      const EventKind terminal =
          execution < row.execution_id         ? EventKind::OrchestrationContinuedAsNew
          : row.state == InstanceState::Failed ? EventKind::OrchestrationFailed
                                               : EventKind::OrchestrationCompleted;
      check_history(history, terminal, id, execution, log, run.problems);
      if (execution == row.execution_id && row.state == InstanceState::Completed &&
          !history.empty() && history.back().data != row.output) {
        run.problems.push_back(id + ": output differs from its completion event");
      }
      outcome.executions.push_back(calls_of(history));
      ++run.executions;
    }
  }
}

std::string dump_histories(Client& client) {
  std::string dump;
  InstanceQuery all;
  all.limit = 0;
  const auto rows = client.store()->list_instances(all).value();
  for (const auto& row : rows) {
    for (std::uint64_t execution = 1; execution <= row.execution_id; ++execution) {
      dump += row.instance_id + "#" + std::to_string(execution) + " (state " +
              std::to_string(static_cast<int>(row.state)) +
              "): " + client.read_history_json(row.instance_id, execution).value_or("<none>") +
              "\n";
    }
  }
  return dump;
}

// Returns: how `run` differs from the uninterrupted `baseline`.
std::vector<std::string> differences(const RunOutcome& baseline, const RunOutcome& run) {
  std::vector<std::string> out;
  for (const auto& [id, expected] : baseline.instances) {
    auto found = run.instances.find(id);
    if (found == run.instances.end()) {
      out.push_back(id + ": missing");
    } else if (found->second.state != expected.state || found->second.output != expected.output) {
      out.push_back(id + ": ended with '" + found->second.output + "' instead of '" +
                    expected.output + "'");
    } else if (found->second != expected) {
      out.push_back(id + ": different calls, executions or parent than uninterrupted");
    }
  }
  for (const auto& [id, outcome] : run.instances) {
    if (!baseline.instances.contains(id)) out.push_back(id + ": an instance too many");
  }
  return out;
}

// Runs the scenario on a fresh store with a runtime of `threads` orchestration threads that crashes
// at commit `crash_at` (0: never), then finishes it with a fresh runtime on what the store holds,
// and reads the result; with a `baseline`, what differs from it counts as a problem too.
RunOutcome run_scenario(std::size_t threads, std::uint64_t crash_at, CrashingProvider::Mode mode,
                        const RunOutcome* baseline = nullptr) {
  RunOutcome run;
  auto store = LmdbProvider::open_temporary().value();
  auto log = std::make_shared<RunLog>();
  Client client(store);
  start_scenario(client);
  auto crashing = std::make_shared<CrashingProvider>(store, crash_at, mode);
  {
    auto runtime =
        Runtime::start_with_options(crashing, scenario_activities(log), scenario_orchestrations(),
                                    scenario_options(threads, true));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!crashing->wait_crashed(2ms) && !all_finished(*store) &&
           std::chrono::steady_clock::now() < deadline) {
    }
    runtime->shutdown(0ms);
  }
  run.crashed = crashing->crashed();
  run.commits = crashing->commits();
  {
    auto runtime =
        Runtime::start_with_options(store, scenario_activities(log), scenario_orchestrations(),
                                    scenario_options(threads, false));
    for (const auto& id : kTopLevel) {
      auto status = client.wait_for_orchestration(id, 10s);
      if (!status) run.problems.push_back(id + ": " + status.error().to_string());
    }
    runtime->shutdown();
  }
  read_outcome(*store, *log, run);
  if (baseline) {
    for (auto& difference : differences(*baseline, run)) run.problems.push_back(difference);
  }
  if (!run.problems.empty()) run.dump = dump_histories(client);
  return run;
}

// A runtime frees its instances before its destructor returns: none may outlive it.
void check_no_live_instances() { CHECK(engine::Instance::live_count() == 0); }

}  // namespace

TEST_SUITE("engine.crash_points") {
  TEST_CASE("a crash at every commit, lost or landed, finishes as an uninterrupted run") {
    {
      const std::size_t threads = testlib::test_threads();  // the matrix runs 1 and 4
      CAPTURE(threads);
      const RunOutcome baseline = run_scenario(threads, 0, CrashingProvider::Mode::Lost);
      INFO("uninterrupted run: " << baseline.problems.size() << " problems");
      REQUIRE(baseline.problems.empty());
      REQUIRE(!baseline.crashed);
      REQUIRE(baseline.instances.size() == kTopLevel.size() + 1);  // and the child
      for (const auto& instance : baseline.instances) {
        CAPTURE(instance.first);  // CAPTURE makes a lambda: no structured binding (clang 14)
        CHECK(instance.second.state == InstanceState::Completed);
      }
      CHECK(baseline.instances.at("loop").output == "[[[t1]t2]t3]");
      CHECK(baseline.instances.at("parent").output == "[child of p] ok p");

      std::size_t crashed = 0;
      std::size_t runs = 0;
      std::size_t instances = 0;
      std::size_t executions = 0;
      std::string failed;
      const std::uint64_t last = baseline.commits + kExtraCommits;
      for (std::uint64_t k = 1; k <= last; ++k) {
        for (auto mode : {CrashingProvider::Mode::Lost, CrashingProvider::Mode::Landed}) {
          const std::string mode_name = mode == CrashingProvider::Mode::Lost ? "lost" : "landed";
          CAPTURE(k);
          CAPTURE(mode_name);
          const RunOutcome run = run_scenario(threads, k, mode, &baseline);
          ++runs;
          crashed += run.crashed ? 1 : 0;
          instances += run.instances.size();
          executions += run.executions;
          std::string report;
          for (const auto& p : run.problems) report += "  " + p + "\n";
          INFO("problems:\n" << report << "histories:\n" << run.dump);
          CHECK(run.problems.empty());
          if (!run.problems.empty()) failed += " k=" + std::to_string(k) + " " + mode_name;
          // Every crash point within what an uninterrupted run commits is reached.
          if (k + kExtraCommits <= baseline.commits) CHECK(run.crashed);
        }
      }
      MESSAGE(threads << " orchestration thread(s): commits in the scenario: " << baseline.commits
                      << "; write points crashed: " << crashed << " of " << runs << " runs (k = 1.."
                      << last << " x lost/landed); instances checked: " << instances << " ("
                      << executions << " executions)"
                      << (failed.empty() ? std::string() : "; failing:" + failed));
    }
    check_no_live_instances();
  }

  // Found by the sweep above: a runtime whose commits fail (as the crashed one's do) re-fetches
  // an activity whose start it could not record at once, and every hand-out counts as a
  // delivery, so the next runtime in the process poisons an activity that never ran. Here the
  // first RuntimeOptions::max_attempts start records fail; none of those deliveries started.
  // (Only activities left from before a runtime's start get a start record: a first runtime,
  // which lacks the activity, leaves it queued.)
  TEST_CASE(
      "regression: start records that fail to commit do not poison an activity that never ran") {
    auto store = LmdbProvider::open_temporary().value();
    std::atomic<int> ran{0};
    auto activities = ActivityRegistry::builder()
                          .register_activity("Wrap",
                                             [&ran](ActivityContext&, std::string in) {
                                               ++ran;
                                               return "[" + in + "]";
                                             })
                          .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("One", [](OrchestrationContext& ctx,
                                              std::string in) { return wrap(ctx, std::move(in)); })
            .build();
    auto options = scenario_options(1, true);
    Client client(store);
    {
      auto watcher = std::make_shared<testlib::CommitWatcher>(store);
      auto lacking = Runtime::start_with_options(watcher, ActivityRegistry::builder().build(),
                                                 orchestrations, options);
      client.start_orchestration("one", "One", "x").value();
      watcher->wait_until([&] {
        const auto history = client.read_history("one", 1);
        return history && history->size() >= 2;  // the activity is scheduled
      });
      lacking->shutdown();
    }
    REQUIRE(client.read_history("one", 1).value().size() >= 2);
    auto faulty = std::make_shared<testlib::FaultyProvider>(
        store, [](const WriteBatch& batch) { return !batch.activity_attempts.empty(); },
        static_cast<int>(options.max_attempts));
    auto runtime = Runtime::start_with_options(faulty, activities, orchestrations, options);
    auto status = client.wait_for_orchestration("one", 10s).value();
    runtime->shutdown();
    CHECK(faulty->failed() == static_cast<int>(options.max_attempts));
    INFO("status: " << (status.is_failed() ? status.details().display_message() : status.output()));
    CHECK(status.is_completed());
    CHECK(status.output() == "[x]");
    CHECK(ran.load() == 1);
  }
}
