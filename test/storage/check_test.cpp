// SPDX-License-Identifier: MIT
// check_store on hand-made stores: a healthy one, and each kind of damage reported in its place.
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <duroxide/store_check.hpp>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "test/storage/check_raw.hpp"
#include "test/storage/raw_lmdb.hpp"
#include "test/storage/store_fixture.hpp"

using namespace duroxide;
using namespace duroxide::storage;
using namespace duroxide::storage::testing;

namespace {

HistoryEvent ev(std::uint64_t id, EventKind kind, std::uint64_t source = 0, std::string name = "",
                std::string data = "") {
  HistoryEvent e;
  e.event_id = id;
  e.kind = kind;
  e.source_id = source;
  e.timestamp = 1000 + static_cast<TimestampMs>(id);
  e.name = std::move(name);
  e.data = std::move(data);
  return e;
}

HistoryEvent started(std::uint64_t id = 1) {
  return ev(id, EventKind::OrchestrationStarted, 0, "orch");
}

WriteBatch instance(const std::string& id, InstanceState state, std::vector<HistoryEvent> history,
                    std::string output = "") {
  WriteBatch batch;
  batch.instance_id = id;
  batch.instance = row(id);
  batch.instance->state = state;
  batch.instance->output = std::move(output);
  batch.execution_id = 1;
  batch.history = std::move(history);
  return batch;
}

void commit(Provider& store, WriteBatch batch) {
  auto done = store.commit_sync(std::move(batch));
  REQUIRE_MESSAGE(done.has_value(), done.error().to_string());
}

/// A healthy store of every shape the check knows: finished, running, suspended, rewound,
/// continued as new, not yet started, with queued work.
void write_healthy(Provider& store) {
  using K = EventKind;
  commit(store,
         instance("done", InstanceState::Completed,
                  {started(), ev(2, K::ActivityScheduled, 0, "act"), ev(3, K::TurnStarted),
                   ev(4, K::ActivityCompleted, 2), ev(5, K::OrchestrationCompleted, 0, "", "out")},
                  "out"));
  WriteBatch failed = instance("failed", InstanceState::Failed,
                               {started(), ev(2, K::TimerCreated), ev(3, K::TimerFired, 2),
                                ev(4, K::OrchestrationFailed, 0, "Panicked", "boom")});
  failed.instance->error = ErrorDetails(ErrorCategory::Application, "Panicked", "boom");
  commit(store, std::move(failed));
  commit(store, instance("rewound", InstanceState::Completed,
                         {started(), ev(2, K::ActivityScheduled, 0, "act"),
                          ev(3, K::ActivityFailed, 2), ev(4, K::OrchestrationFailed, 0, "X"),
                          ev(5, K::ExecutionRewound, 3), ev(6, K::TurnStarted),
                          ev(7, K::ActivityScheduled, 0, "act"), ev(8, K::ActivityCompleted, 7),
                          ev(9, K::OrchestrationCompleted, 0, "", "again")},
                         "again"));
  WriteBatch running = instance(
      "running", InstanceState::Running,
      {started(), ev(2, K::ActivityScheduled, 0, "act"),
       ev(3, K::SubOrchestrationScheduled, 0, "child"), ev(4, K::CancelRequested, 3),
       ev(5, K::ExecutionSuspended), ev(6, K::ExecutionResumed), ev(7, K::ExecutionSuspended)});
  running.instance->suspended = true;
  ActivityWorkItem item = activity("running", 2);
  item.name = "act";
  running.activities.push_back(item);
  running.messages.push_back(message("running", 50));
  commit(store, std::move(running));
  // Continued as new: execution 1 ends so, execution 2 is queued to start.
  WriteBatch continued = instance("continued", InstanceState::Running,
                                  {started(), ev(2, K::OrchestrationContinuedAsNew, 0, "", "2")});
  continued.instance->execution_id = 2;
  OrchestratorMessage next = message("continued", 10);
  next.kind = MessageKind::StartOrchestration;
  next.execution_id = 2;
  continued.messages.push_back(next);
  commit(store, std::move(continued));
  WriteBatch fresh = instance("fresh", InstanceState::Running, {});
  OrchestratorMessage start = message("fresh", 10);
  start.kind = MessageKind::StartOrchestration;
  fresh.messages.push_back(start);
  commit(store, std::move(fresh));
}

constexpr std::uint64_t kHealthyEvents = 5 + 4 + 9 + 7 + 2;

/// A temporary store file with the healthy instances, closed.
class Fixture {
 public:
  Fixture() {
    auto store = open_store(path());
    write_healthy(*store);
  }
  std::string path() const { return dir_.file("app.duro"); }
  /// Runs both checks (in process and in a child) and returns the report, which must agree.
  StoreCheckReport check() const {
    auto store = open_store(path());
    auto report = check_store(*store);
    REQUIRE_MESSAGE(report.has_value(), report.error().to_string());
    auto from_file = check_store_file(path());
    REQUIRE_MESSAGE(from_file.has_value(), from_file.error().to_string());
    CHECK(*from_file == *report);
    for (const auto& problem : report->problems) MESSAGE(problem.where << ": " << problem.what);
    return *report;
  }
  void add(WriteBatch batch) const {
    auto store = open_store(path());
    commit(*store, std::move(batch));
  }

 private:
  TempDir dir_;
};

bool has(const StoreCheckReport& report, const std::string& where, const std::string& what) {
  for (const auto& problem : report.problems) {
    if (problem.where == where && problem.what.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_SUITE("storage.check") {
  TEST_CASE("a healthy store has no problems and is counted whole") {
    Fixture f;
    const auto report = f.check();
    CHECK(report.ok());
    CHECK(report.problems.empty());
    CHECK(report.instances == 6);
    CHECK(report.history_events == kHealthyEvents);
    CHECK(report.queued_messages == 3);
    CHECK(report.queued_activities == 1);
    // Four meta keys: magic, format_version, next_seq, instance_counts.
    CHECK(report.records_read == 4 + 6 + kHealthyEvents + 3 + 1);
  }

  TEST_CASE("instance counters that disagree with the rows are reported") {
    Fixture f;
    std::string counts;
    for (std::uint64_t n : {9, 1, 1, 0}) put_be64(counts, n);
    raw_put(f.path(), "meta", "instance_counts", counts);
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "meta 'instance_counts'", "says running 9, completed 1, failed 1"));
  }

  TEST_CASE("a flipped byte in a record is a checksum problem at that record") {
    Fixture f;
    const std::string key = encode_history_key("done", 1, 3);
    std::string value;
    for (const auto& [k, v] : raw_entries(f.path(), "history")) {
      if (k == key) value = v;
    }
    REQUIRE_FALSE(value.empty());
    value[value.size() / 2] ^= 0x10;
    raw_put(f.path(), "history", key, value);
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "history of 'done' execution 1, event 3", "checksum"));
    CHECK(report.history_events == kHealthyEvents);
  }

  TEST_CASE("a flipped byte in a row is reported at the row") {
    Fixture f;
    std::string value = raw_entries(f.path(), "instances").front().second;
    value[6] ^= 0x01;
    raw_put(f.path(), "instances", raw_entries(f.path(), "instances").front().first, value);
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "row of 'continued'", "does not decode"));
  }

  TEST_CASE("an undecodable key is reported with its bytes") {
    Fixture f;
    raw_put(f.path(), "history", "xyz", "whatever");
    raw_put(f.path(), "orchestrator_queue", "short", "whatever");
    const auto report = f.check();
    CHECK(report.problem_count == 2);
    CHECK(has(report, "history key 78797a", "does not decode"));
    CHECK(has(report, "orchestrator_queue key 73686f7274", "does not decode"));
    CHECK(report.history_events == kHealthyEvents + 1);
  }

  TEST_CASE("a deleted history event makes the ids not dense") {
    Fixture f;
    raw_del(f.path(), "history", encode_history_key("done", 1, 3));
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "history of 'done' execution 1, event 4", "expected event 3"));
  }

  TEST_CASE("an event whose id is not its key's is reported") {
    Fixture f;
    raw_put(f.path(), "history", encode_history_key("done", 1, 6),
            encode(ev(7, EventKind::TurnStarted)));
    const auto report = f.check();
    CHECK(has(report, "history of 'done' execution 1, event 6", "the event's id is 7"));
  }

  TEST_CASE("a history without OrchestrationStarted is reported at its first event") {
    Fixture f;
    f.add(instance("headless", InstanceState::Running,
                   {ev(1, EventKind::TurnStarted), ev(2, EventKind::ActivityScheduled, 0, "a")}));
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "history of 'headless' execution 1, event 1", "not OrchestrationStarted"));
  }

  TEST_CASE("two terminal events are reported at the second") {
    Fixture f;
    f.add(instance("twice", InstanceState::Completed,
                   {started(), ev(2, EventKind::OrchestrationCompleted, 0, "", "x"),
                    ev(3, EventKind::OrchestrationFailed, 0, "Panicked")},
                   "x"));
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "history of 'twice' execution 1, event 3", "a second terminal event"));
  }

  TEST_CASE("a completion that names no scheduling event of its kind is reported") {
    Fixture f;
    f.add(instance("lost", InstanceState::Running,
                   {started(), ev(2, EventKind::TimerCreated),
                    ev(3, EventKind::ActivityCompleted, 2), ev(4, EventKind::TimerFired, 9)}));
    const auto report = f.check();
    CHECK(report.problem_count == 2);
    CHECK(has(report, "history of 'lost' execution 1, event 3", "a TimerCreated event"));
    CHECK(has(report, "history of 'lost' execution 1, event 4", "no earlier event"));
  }

  TEST_CASE("a rewind naming a bad source is reported; one not after a failure too") {
    Fixture f;
    using K = EventKind;
    f.add(instance("badrewind", InstanceState::Running,
                   {started(), ev(2, K::ActivityScheduled, 0, "a"),
                    ev(3, K::OrchestrationFailed, 0, "X"), ev(4, K::ExecutionRewound, 1)}));
    f.add(instance(
        "late", InstanceState::Running,
        {started(), ev(2, K::OrchestrationFailed, 0, "X"), ev(3, K::ExecutionRewound, 4)}));
    f.add(instance("stray", InstanceState::Running, {started(), ev(2, K::ExecutionRewound, 2)}));
    const auto report = f.check();
    CHECK(report.problem_count == 3);
    CHECK(has(report, "history of 'badrewind' execution 1, event 4", "names source_id 1"));
    CHECK(has(report, "history of 'late' execution 1, event 3", "names source_id 4"));
    CHECK(has(report, "history of 'stray' execution 1, event 2", "does not follow"));
  }

  TEST_CASE("suspensions that do not alternate are reported") {
    Fixture f;
    f.add(instance("resumed", InstanceState::Running,
                   {started(), ev(2, EventKind::ExecutionResumed)}));
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "history of 'resumed' execution 1, event 2", "while not suspended"));
  }

  TEST_CASE("orphan queued messages and activities are reported") {
    Fixture f;
    WriteBatch orphans;
    orphans.messages.push_back(message("ghost", 10));
    orphans.activities.push_back(activity("ghost", 2));
    f.add(std::move(orphans));
    const auto report = f.check();
    CHECK(report.problem_count == 2);
    bool message_found = false;
    bool activity_found = false;
    for (const auto& problem : report.problems) {
      message_found |= problem.where.starts_with("orchestrator_queue seq ") &&
                       problem.what == "a message for instance 'ghost', which has no row";
      activity_found |= problem.where.starts_with("worker_queue seq ") &&
                        problem.what == "a work item for instance 'ghost', which has no row";
    }
    CHECK(message_found);
    CHECK(activity_found);
  }

  TEST_CASE("a work item that matches no ActivityScheduled event is reported") {
    Fixture f;
    WriteBatch work;
    work.activities.push_back(activity("running", 3));  // event 3 schedules a child
    ActivityWorkItem renamed = activity("running", 2);
    renamed.name = "other";
    work.activities.push_back(renamed);
    f.add(std::move(work));
    const auto report = f.check();
    CHECK(report.problem_count == 2);
    bool id_found = false;
    bool name_found = false;
    for (const auto& problem : report.problems) {
      id_found |= problem.what.starts_with("names activity_id 3, which is no ActivityScheduled");
      name_found |= problem.what.starts_with("names activity 'other'");
    }
    CHECK(id_found);
    CHECK(name_found);
  }

  TEST_CASE("a Completed row whose history does not end completed is reported at the row") {
    Fixture f;
    f.add(instance("early", InstanceState::Completed,
                   {started(), ev(2, EventKind::ActivityScheduled, 0, "a")}, "out"));
    f.add(instance("other", InstanceState::Completed,
                   {started(), ev(2, EventKind::OrchestrationCompleted, 0, "", "one")}, "two"));
    WriteBatch failed = instance("wrongkind", InstanceState::Failed,
                                 {started(), ev(2, EventKind::OrchestrationFailed, 0, "Panicked")});
    failed.instance->error = ErrorDetails(ErrorCategory::Application, "Poison", "boom");
    f.add(std::move(failed));
    const auto report = f.check();
    CHECK(report.problem_count == 3);
    CHECK(has(report, "row of 'early'", "is Completed, but its execution has no terminal event"));
    CHECK(has(report, "row of 'other'", "another output"));
    CHECK(has(report, "row of 'wrongkind'", "has error kind 'Poison'"));
  }

  TEST_CASE("a Running row whose history is finished is reported at the row") {
    Fixture f;
    f.add(instance("over", InstanceState::Running,
                   {started(), ev(2, EventKind::OrchestrationCompleted, 0, "", "x")}));
    const auto report = f.check();
    CHECK(report.problem_count == 1);
    CHECK(has(report, "row of 'over'", "is Running, but its execution ends at event 2"));
  }

  TEST_CASE("a suspended flag that disagrees with the history is reported at the row") {
    Fixture f;
    WriteBatch flag = instance("running", InstanceState::Running, {});
    flag.instance->suspended = false;
    f.add(std::move(flag));
    WriteBatch done =
        instance("finished", InstanceState::Completed,
                 {started(), ev(2, EventKind::OrchestrationCompleted, 0, "", "x")}, "x");
    done.instance->suspended = true;
    f.add(std::move(done));
    const auto report = f.check();
    CHECK(report.problem_count == 2);
    CHECK(has(report, "row of 'running'", "is not suspended, but its history is"));
    CHECK(has(report, "row of 'finished'", "is suspended but Completed"));
  }

  TEST_CASE("rows and executions that do not match are reported") {
    Fixture f;
    // History above the row's execution, and an earlier execution that did not continue.
    WriteBatch above = instance("done", InstanceState::Completed, {started()}, "out");
    above.execution_id = 2;
    f.add(std::move(above));
    WriteBatch skipped = instance("skipped", InstanceState::Running, {started()});
    skipped.instance->execution_id = 2;
    f.add(std::move(skipped));
    WriteBatch nostart = instance("nostart", InstanceState::Running, {});
    f.add(std::move(nostart));
    WriteBatch nohistory = instance("nohistory", InstanceState::Failed, {});
    f.add(std::move(nohistory));
    WriteBatch rowless;
    rowless.instance_id = "rowless";
    rowless.execution_id = 1;
    rowless.history.push_back(started());
    f.add(std::move(rowless));
    const auto report = f.check();
    CHECK(has(report, "history of 'done' execution 2", "above the row's execution_id 1"));
    CHECK(has(report, "history of 'skipped' execution 1", "does not end with"));
    CHECK(has(report, "row of 'skipped'", "no StartOrchestration is queued"));
    CHECK(has(report, "row of 'nostart'", "no StartOrchestration is queued"));
    CHECK(has(report, "row of 'nohistory'", "is Failed but its execution 1 has no history"));
    CHECK(has(report, "history of 'rowless' execution 1", "the instance has no row"));
    CHECK(report.problem_count == 6);
  }

  TEST_CASE("a next_seq not above every queued seq is reported at each such record") {
    Fixture f;
    std::string seq;
    put_be64(seq, 2);  // the healthy store has queued seqs 1 to 4
    raw_put(f.path(), "meta", std::string(kMetaNextSeqKey), seq);
    const auto report = f.check();
    CHECK(report.problem_count == 3);
    CHECK(has(report, "orchestrator_queue seq 4", "is not below meta next_seq 2"));
  }

  TEST_CASE("a store whose meta does not open is a problem report of check_store_file") {
    Fixture f;
    raw_put(f.path(), "meta", std::string(kMetaNextSeqKey), "bad");
    raw_del(f.path(), "meta", std::string(kMetaVersionKey));
    CHECK_FALSE(LmdbProvider::open(f.path(), test_options()).has_value());
    const auto report = check_store_file(f.path()).value();
    CHECK(report.problem_count == 2);
    CHECK(has(report, "meta 'format_version'", "is missing"));
    CHECK(has(report, "meta 'next_seq'", "is not 8 bytes"));
    CHECK(report.instances == 6);
  }

  TEST_CASE("only the first max_problems problems are kept, all are counted") {
    Fixture f;
    for (int i = 0; i < 5; ++i) {
      WriteBatch orphans;
      orphans.messages.push_back(message("ghost", 10));
      f.add(std::move(orphans));
    }
    auto store = open_store(f.path());
    StoreCheckOptions options;
    options.max_problems = 2;
    const auto report = check_store(*store, options).value();
    CHECK(report.problem_count == 5);
    CHECK(report.problems.size() == 2);
    CHECK_FALSE(report.ok());
  }
}
