// SPDX-License-Identifier: MIT
// Torture: a worker process running a few hundred mixed orchestrations is SIGKILLed and
// restarted round after round at random (seeded) instants; then a final runtime finishes the
// work, and every output, every history and every activity run is checked.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "history_check.hpp"
#include "scenario.hpp"

using namespace duroxide;
using namespace duroxide::crash;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kRounds = 40;
// A worker needs some tens of milliseconds to start and replay: the shortest rounds die
// during start-up, the longest get through a good part of the work.
constexpr int kMinDelayMs = 10;
constexpr int kMaxDelayMs = 160;

// ---- the events the parent raises ----------------------------------------------------------

// The round during which the parent raises the event of `execution` of instance i, or -1:
// right after the start, before any runtime ran (the event waits, buffered).
int raise_round(int i, std::uint64_t execution) {
  if (i % 4 == 0) return -1;
  return 1 + i % 11 + 11 * static_cast<int>(execution - 1);
}
static_assert(1 + 10 + 11 * (kContinuedExecutions - 1) < kRounds, "every event is raised");

// Raises the events due in `round`, in execution order per instance. Returns: how many.
int raise_events(Client& client, int round) {
  int raised = 0;
  for (int i = 0; i < kInstances; ++i) {
    for (std::uint64_t e = 1; e <= executions_of(i); ++e) {
      if (raise_round(i, e) != round) continue;
      client.raise_event(instance_name(i), "Go", event_data(i, e)).value();
      ++raised;
    }
  }
  return raised;
}

// ---- rounds --------------------------------------------------------------------------------

unsigned choose_seed() {
  // DUROXIDE_CRASH_SEED=N repeats the kill timings of an earlier run.
  const char* fixed = std::getenv("DUROXIDE_CRASH_SEED");
  const unsigned seed =
      fixed ? static_cast<unsigned>(std::strtoul(fixed, nullptr, 10)) : std::random_device{}();
  std::printf("crash test seed %u (DUROXIDE_CRASH_SEED=%u repeats it)\n", seed, seed);
  std::fflush(stdout);
  return seed;
}

std::string run_log_path(const fs::path& dir, int round) {
  char name[32];
  std::snprintf(name, sizeof name, "runs-%02d.log", round);
  return (dir / name).string();
}

pid_t spawn_worker(const std::string& store, const std::string& run_log) {
  const char* worker = std::getenv("DUROXIDE_CRASH_WORKER");
  REQUIRE_MESSAGE(worker != nullptr, "DUROXIDE_CRASH_WORKER is not set");
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(worker, worker, store.c_str(), run_log.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int count_completed(const std::string& path) {
  auto store = LmdbProvider::open(path).value();
  int completed = 0;
  for (int i = 0; i < kInstances; ++i) {
    auto row = store->read_instance(instance_name(i));
    completed += row && row->state == InstanceState::Completed;
  }
  return completed;
}

struct RoundsSummary {
  int killed = 0;             // rounds whose worker died of the SIGKILL
  int killed_mid_flight = 0;  // ... and left instances unfinished
  int events_raised = 0;
};

// One round: start a worker, raise this round's events while it runs, kill it.
void run_round(const std::string& path, const fs::path& dir, int round, std::mt19937& random,
               RoundsSummary& summary) {
  const int delay = std::uniform_int_distribution<int>(kMinDelayMs, kMaxDelayMs)(random);
  const int raise_at = std::uniform_int_distribution<int>(0, delay)(random);
  const auto started = Clock::now();
  const pid_t pid = spawn_worker(path, run_log_path(dir, round));
  // Real time on purpose, here and before the kill: the rounds hit the worker at random
  // moments of its run, not at states the test chooses.
  std::this_thread::sleep_until(started + milliseconds(raise_at));
  int raised = 0;
  {
    auto store = LmdbProvider::open(path).value();
    Client client(store);
    raised = raise_events(client, round);
  }
  std::this_thread::sleep_until(started + milliseconds(delay));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO("round " << round << " killed after " << delay << " ms");
  CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
  const int completed = count_completed(path);
  std::printf("round %2d: %s after %3d ms (%3d events raised at %3d ms): %3d of %d done\n", round,
              WIFSIGNALED(status) ? "killed" : "exited", delay, raised, raise_at, completed,
              kInstances);
  std::fflush(stdout);
  summary.killed += WIFSIGNALED(status);
  summary.killed_mid_flight += WIFSIGNALED(status) && completed < kInstances;
  summary.events_raised += raised;
}

void start_instances(const std::string& path, RoundsSummary& summary) {
  auto store = LmdbProvider::open(path).value();
  Client client(store);
  for (int i = 0; i < kInstances; ++i) {
    client.start_orchestration(instance_name(i), "Torture", torture_input(i, "")).value();
  }
  summary.events_raised += raise_events(client, -1);
}

// ---- checks --------------------------------------------------------------------------------

struct Tally {
  int executions = 0;  // histories checked, children included
  int children = 0;
  std::map<std::string, std::string> activities;  // "instance execution id" -> name
  int failures = 0;                               // failed checks: the store is kept for a look
};

std::string activity_key(const std::string& instance, std::uint64_t execution,
                         std::uint64_t event_id) {
  return instance + " " + std::to_string(execution) + " " + std::to_string(event_id);
}

// Fails a check naming the execution, its problems and its history.
void report(Client& client, Tally& tally, const std::string& id, std::uint64_t execution,
            const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  ++tally.failures;
  std::string text = id + " execution " + std::to_string(execution) + ":\n";
  for (const auto& problem : problems) text += "  " + problem + "\n";
  text += client.read_history_json(id, execution).value_or("(no history)");
  FAIL_CHECK(text);
}

// Events of the kind, and the completion of each scheduled call.
struct Index {
  std::map<EventKind, std::vector<const HistoryEvent*>> by_kind;
  std::map<std::uint64_t, const HistoryEvent*> completion;  // scheduled id -> its completion

  explicit Index(const std::vector<HistoryEvent>& history) {
    for (const auto& event : history) {
      by_kind[event.kind].push_back(&event);
      if (event.source_id != 0 && event.kind != EventKind::CancelRequested) {
        completion[event.source_id] = &event;
      }
    }
  }
  const std::vector<const HistoryEvent*>& operator[](EventKind kind) { return by_kind[kind]; }
};

std::vector<std::string> activity_names(Index& index) {
  std::vector<std::string> names;
  for (const auto* event : index[EventKind::ActivityScheduled]) names.push_back(event->name);
  return names;
}

void expect(bool ok, std::string what, std::vector<std::string>& problems) {
  if (!ok) problems.push_back(std::move(what));
}

void note_activities(const std::string& id, std::uint64_t execution, Index& index, Tally& tally) {
  for (const auto* event : index[EventKind::ActivityScheduled]) {
    tally.activities[activity_key(id, execution, event->event_id)] = event->name;
  }
}

void check_child(Client& client, const std::string& parent, const std::string& id,
                 const std::string& input, Tally& tally) {
  ++tally.children;
  ++tally.executions;
  std::vector<std::string> problems;
  auto row = client.store()->read_instance(id);
  expect(row && row->state == InstanceState::Completed && row->parent_id == parent &&
             row->output == expected_child_output(input),
         "row: not completed with the expected output under its parent", problems);
  auto executions = client.list_executions(id);
  expect(executions && *executions == std::vector<std::uint64_t>{1}, "not exactly execution 1",
         problems);
  const auto history = client.store()->read_history(id, 1).value();
  problems = history_problems(history, EventKind::OrchestrationCompleted, true);
  if (problems.empty()) {
    Index index(history);
    expect(history.front().name == "Child" && history.front().data == input, "started input",
           problems);
    expect(history.back().data == expected_child_output(input), "output", problems);
    expect(activity_names(index) == std::vector<std::string>{"Step", "Step"}, "activities",
           problems);
    note_activities(id, 1, index, tally);
  }
  report(client, tally, id, 1, problems);
}

// The retried activity: the first attempt (event 2) failed, the second one completed.
void check_flaky(int i, std::uint64_t e, Index& index, std::vector<std::string>& problems) {
  const auto& scheduled = index[EventKind::ActivityScheduled];
  if (scheduled.size() < 2 || scheduled[0]->name != "Flaky" || scheduled[1]->name != "Flaky") {
    problems.push_back("the execution does not begin with two Flaky attempts");
    return;
  }
  const auto* first = index.completion[scheduled[0]->event_id];
  const auto* second = index.completion[scheduled[1]->event_id];
  expect(scheduled[0]->event_id == 2 && first && first->kind == EventKind::ActivityFailed,
         "the first Flaky attempt is not event 2 failed", problems);
  // Named: a literal + a temporary string gets a false -Wrestrict from g++ 12 at -O3.
  const std::string input = flaky_input(i, e);
  expect(second && second->kind == EventKind::ActivityCompleted && second->data == "f" + input,
         "the second Flaky attempt did not complete with its output", problems);
}

// The Nth "Go" event of execution e is the event raised for execution e + N - 1.
void check_events(int i, std::uint64_t e, Index& index, std::vector<std::string>& problems) {
  const auto& waits = index[EventKind::EventSubscribed];
  expect(waits.size() == 1 && waits[0]->name == "Go", "not exactly one wait for Go", problems);
  const auto& raised = index[EventKind::EventRaised];
  expect(!raised.empty(), "no Go event raised", problems);
  for (std::size_t n = 0; n < raised.size(); ++n) {
    expect(raised[n]->name == "Go" && raised[n]->data == event_data(i, e + n),
           "raised event " + std::to_string(n + 1) + " is '" + raised[n]->data + "'", problems);
  }
}

// Returns: the child's id, or empty if the execution did not schedule it as expected.
std::string check_sub(const std::string& id, int i, std::uint64_t e, Index& index,
                      std::vector<std::string>& problems) {
  const auto& subs = index[EventKind::SubOrchestrationScheduled];
  if (subs.size() != 1) {
    problems.push_back("not exactly one child");
    return "";
  }
  const auto* sub = subs[0];
  const auto* done = index.completion[sub->event_id];
  const std::string chain = expected_chain(i, e);
  expect(sub->name == "Child" && sub->data == chain, "child name or input", problems);
  expect(sub->instance == child_name(id, e, sub->event_id), "child id '" + sub->instance + "'",
         problems);
  expect(done && done->kind == EventKind::SubOrchestrationCompleted &&
             done->data == expected_child_output(chain),
         "child completion", problems);
  return sub->instance;
}

void check_execution(Client& client, int i, std::uint64_t e, Tally& tally) {
  ++tally.executions;
  const std::string id = instance_name(i);
  const bool last = e == executions_of(i);
  const auto history = client.store()->read_history(id, e).value();
  auto problems = history_problems(
      history, last ? EventKind::OrchestrationCompleted : EventKind::OrchestrationContinuedAsNew,
      true);
  if (!problems.empty()) return report(client, tally, id, e, problems);
  Index index(history);
  expect(history.front().name == "Torture" && history.front().data == expected_input(i, e),
         "started input", problems);
  expect(history.back().data == (last ? expected_output(i) : expected_input(i, e + 1)),
         "terminal data", problems);
  expect(activity_names(index) == std::vector<std::string>{"Flaky", "Flaky", "Step", "Step", "Step",
                                                           "Square", "Square", "Square"},
         "activities", problems);
  expect(index[EventKind::TimerCreated].size() == 2, "not two timers (back-off, delay)", problems);
  check_flaky(i, e, index, problems);
  check_events(i, e, index, problems);
  const std::string child = check_sub(id, i, e, index, problems);
  note_activities(id, e, index, tally);
  report(client, tally, id, e, problems);
  if (!child.empty()) check_child(client, id, child, expected_chain(i, e), tally);
}

void check_instance(Client& client, int i, Tally& tally) {
  const std::string id = instance_name(i);
  std::vector<std::string> problems;
  auto status = client.get_orchestration_status(id);
  expect(status && status->is_completed() && status->output() == expected_output(i),
         "not completed with the expected output", problems);
  std::vector<std::uint64_t> expected;
  for (std::uint64_t e = 1; e <= executions_of(i); ++e) expected.push_back(e);
  expect(client.list_executions(id).value_or(std::vector<std::uint64_t>{}) == expected,
         "not exactly executions 1.." + std::to_string(executions_of(i)), problems);
  report(client, tally, id, executions_of(i), problems);
  for (std::uint64_t e = 1; e <= executions_of(i); ++e) check_execution(client, i, e, tally);
}

// ---- activity runs -------------------------------------------------------------------------

struct Run {
  std::size_t log;  // which process: logs sort in the order the processes ran
  std::uint32_t attempt;
};

struct RunSummary {
  std::size_t lines = 0;
  std::size_t redelivered = 0;  // runs with attempt > 1
  std::uint32_t max_attempt = 0;
  std::size_t run_twice = 0;  // activities that ran in more than one process
};

std::map<std::string, std::vector<Run>> read_runs(const fs::path& dir, Tally& tally,
                                                  RunSummary& summary) {
  std::vector<fs::path> logs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path());
  }
  std::sort(logs.begin(), logs.end());  // runs-00.log ... runs-23.log, runs-final.log
  std::map<std::string, std::vector<Run>> runs;
  for (std::size_t n = 0; n < logs.size(); ++n) {
    std::ifstream in(logs[n]);
    std::string instance, name;
    std::uint64_t execution = 0, event_id = 0;
    std::uint32_t attempt = 0;
    while (in >> instance >> execution >> event_id >> attempt >> name) {
      const std::string key = activity_key(instance, execution, event_id);
      auto scheduled = tally.activities.find(key);
      if (scheduled == tally.activities.end() || scheduled->second != name) {
        ++tally.failures;
        FAIL_CHECK("a run of an activity no history scheduled: " << key << " " << name);
      }
      runs[key].push_back(Run{n, attempt});
      ++summary.lines;
      summary.redelivered += attempt > 1;
      summary.max_attempt = std::max(summary.max_attempt, attempt);
    }
  }
  return runs;
}

// Every scheduled activity ran; a later run of one carries a higher attempt.
RunSummary check_runs(const fs::path& dir, Tally& tally) {
  RunSummary summary;
  const auto runs = read_runs(dir, tally, summary);
  for (const auto& [key, name] : tally.activities) {
    auto ran = runs.find(key);
    if (ran == runs.end()) {
      ++tally.failures;
      FAIL_CHECK("activity never ran: " << key << " " << name);
      continue;
    }
    const auto& list = ran->second;
    summary.run_twice += list.front().log != list.back().log;
    for (std::size_t n = 1; n < list.size(); ++n) {
      if (list[n].attempt <= list[n - 1].attempt) {
        ++tally.failures;
        FAIL_CHECK("a re-run without a higher attempt: " << key << " " << name);
      }
    }
  }
  return summary;
}

// ---- the final runtime ---------------------------------------------------------------------

// Runs a runtime in this process until every instance has finished (or a minute has passed).
// Returns: the instances that did not finish.
std::vector<std::string> finish_all(const std::string& path, const fs::path& dir) {
  REQUIRE(open_run_log((dir / "runs-final.log").string()));
  auto store = LmdbProvider::open(path).value();
  auto runtime = Runtime::start_with_options(store, scenario_activities(),
                                             scenario_orchestrations(), runtime_options());
  Client client(store);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::vector<std::string> unfinished;
  for (int i = 0; i < kInstances; ++i) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    auto status = client.wait_for_orchestration(instance_name(i), std::max(left, milliseconds(1)));
    if (!status || !status->is_terminal()) unfinished.push_back(instance_name(i));
  }
  runtime->shutdown();
  runtime.reset();
  close_run_log();
  return unfinished;
}

}  // namespace

TEST_SUITE("crash.crash") {
  TEST_CASE("SIGKILL torture: every instance completes, histories stay well-formed") {
    const auto test_started = Clock::now();
    const fs::path dir = fs::temp_directory_path() / ("duroxide-crash-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = (dir / "store.duro").string();
    RoundsSummary rounds;
    start_instances(path, rounds);

    std::mt19937 random(choose_seed());
    for (int round = 0; round < kRounds; ++round) run_round(path, dir, round, random, rounds);
    CHECK(rounds.killed_mid_flight > 0);  // the kills did interrupt work in flight

    const auto unfinished = finish_all(path, dir);
    if (!unfinished.empty()) {
      FAIL_CHECK(unfinished.size() << " instances did not finish, first " << unfinished.front());
    }

    Tally tally;
    RunSummary runs;
    {
      auto store = LmdbProvider::open(path).value();
      Client client(store);
      for (int i = 0; i < kInstances; ++i) check_instance(client, i, tally);
      runs = check_runs(dir, tally);
    }
    CHECK(runs.redelivered > 0);  // attempt() showed the re-deliveries

    const auto seconds = std::chrono::duration<double>(Clock::now() - test_started).count();
    std::printf(
        "%d rounds (%d killed, %d mid-flight), %d instances + %d children, %d executions "
        "checked, %d events raised; %zu activities, %zu runs, %zu re-deliveries (attempt > 1, "
        "max %u), %zu ran in more than one process; %.1f s\n",
        kRounds, rounds.killed, rounds.killed_mid_flight, kInstances, tally.children,
        tally.executions, rounds.events_raised, tally.activities.size(), runs.lines,
        runs.redelivered, runs.max_attempt, runs.run_twice, seconds);
    if (unfinished.empty() && tally.failures == 0) {
      fs::remove_all(dir);
    } else {
      std::printf("store and run logs kept in %s\n", dir.c_str());
    }
  }
}
