// SPDX-License-Identifier: MIT
// check_store on stores a real runtime wrote: after a workload, during one, and its speed.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include <duroxide/duroxide.hpp>

#include "test/storage/store_fixture.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using namespace std::chrono_literals;
using duroxide::testlib::Harness;

namespace {

ActivityRegistry activities() {
  return ActivityRegistry::builder()
      .register_activity("Echo", [](ActivityContext&, std::string in) { return in; })
      .register_activity(
          "Fail",
          [](ActivityContext&, std::string in) -> Result<std::string> { return Err("no " + in); })
      .build();
}

OrchestrationRegistry orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Child",
                              [](OrchestrationContext& ctx, std::string in) {
                                return ctx.schedule_activity("Echo", in).into_activity();
                              })
      .register_orchestration(
          "Parent",
          [](OrchestrationContext& ctx, std::string in) -> Result<std::string> {
            auto echoed = ctx.schedule_activity("Echo", in).into_activity();
            ctx.schedule_timer(5ms).into_timer();
            auto child = ctx.schedule_sub_orchestration("Child", in).into_sub_orchestration();
            return echoed.value() + child.value();
          })
      .register_orchestration("Loop",
                              [](OrchestrationContext& ctx, std::string in) -> Result<std::string> {
                                const int n = std::stoi(in);
                                ctx.schedule_timer(1ms).into_timer();
                                if (n < 3) return ctx.continue_as_new(std::to_string(n + 1));
                                return "looped";
                              })
      .register_orchestration("Failing",
                              [](OrchestrationContext& ctx, std::string in) -> Result<std::string> {
                                auto failed = ctx.schedule_activity("Fail", in).into_activity();
                                if (!failed) return Err(failed.error());
                                return "unreachable";
                              })
      .register_orchestration("Waiting",
                              [](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_wait("Go").into_event();
                              })
      .build();
}

/// Returns: the rows and events the store holds, read through the Provider.
std::pair<std::uint64_t, std::uint64_t> count_records(Provider& store) {
  InstanceQuery all;
  all.limit = 0;
  std::uint64_t events = 0;
  const auto rows = store.list_instances(all).value();
  for (const auto& row : rows) {
    const std::vector<std::uint64_t> executions = store.list_executions(row.instance_id).value();
    for (const auto execution : executions) {
      events += store.read_history(row.instance_id, execution).value().size();
    }
  }
  return {rows.size(), events};
}

StoreCheckReport checked(LmdbProvider& store) {
  auto report = check_store(store);
  REQUIRE_MESSAGE(report.has_value(), report.error().to_string());
  for (const auto& problem : report->problems) MESSAGE(problem.where << ": " << problem.what);
  return *report;
}

}  // namespace

TEST_SUITE("storage.check_workload") {
  TEST_CASE("a store after a real workload has no problems and is counted right") {
    Harness h(activities(), orchestrations());
    for (int i = 0; i < 5; ++i) {
      const std::string n = std::to_string(i);
      h.client().start_orchestration("parent-" + n, "Parent", "p" + n).value();
      h.client().start_orchestration("loop-" + n, "Loop", "0").value();
      h.client().start_orchestration("failing-" + n, "Failing", "f" + n).value();
    }
    h.client().start_orchestration("waiting", "Waiting", "").value();
    for (int i = 0; i < 5; ++i) {
      const std::string n = std::to_string(i);
      CHECK(h.wait("parent-" + n).is_completed());
      CHECK(h.wait("loop-" + n).is_completed());
      CHECK(h.wait("failing-" + n).is_failed());
    }
    REQUIRE(h.wait_for_events("waiting", EventKind::EventSubscribed));
    const auto report = checked(*h.store());
    CHECK(report.ok());
    const auto [rows, events] = count_records(*h.store());
    CHECK(report.instances == rows);
    CHECK(report.instances == 5 * 4 + 1);  // parents, children, loops, failures, the waiter
    CHECK(report.history_events == events);
    CHECK(report.queued_activities == 0);
    CHECK(report.records_read == 4 + report.instances + report.history_events +
                                     report.queued_messages + report.queued_activities);
    auto from_file = check_store_file(h.store()->path());
    REQUIRE(from_file.has_value());
    CHECK(*from_file == report);
    h.stop();
  }

  TEST_CASE("the check runs beside a busy runtime and finds no problems") {
    Harness h(activities(), orchestrations());
    std::atomic<bool> stop{false};
    std::atomic<int> started{0};
    std::thread starter([&] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string n = std::to_string(i);
        if (h.client().start_orchestration("busy-" + n, i % 2 == 0 ? "Parent" : "Loop",
                                           i % 2 == 0 ? "b" : "0")) {
          started.fetch_add(1);
        }
      }
    });
    int checks = 0;
    std::uint64_t most_instances = 0;
    while (checks < 30 || started.load() < 50) {
      const auto report = checked(*h.store());
      CHECK(report.ok());
      most_instances = std::max(most_instances, report.instances);
      if (++checks % 10 == 0) {
        auto from_file = check_store_file(h.store()->path());
        REQUIRE(from_file.has_value());
        CHECK(from_file->ok());
      }
    }
    stop = true;
    starter.join();
    MESSAGE(checks << " checks beside " << started.load() << " starts, up to " << most_instances
                   << " instances seen");
    CHECK(most_instances > 0);
    h.stop();
  }

  TEST_CASE("speed: a store of 20,000 finished instances") {
    storage::testing::TempDir dir;
    const std::string path = dir.file("big.duro");
    auto store = storage::testing::open_store(path);
    constexpr int kInstances = 20000;
    storage::testing::Completions done;
    for (int i = 0; i < kInstances; ++i) {
      const std::string id = "order-" + std::to_string(i);
      WriteBatch batch;
      batch.instance_id = id;
      batch.instance = storage::testing::row(id);
      batch.instance->state = InstanceState::Completed;
      batch.instance->output = "output of " + id;
      batch.execution_id = 1;
      const EventKind kinds[] = {EventKind::OrchestrationStarted, EventKind::ActivityScheduled,
                                 EventKind::TurnStarted, EventKind::ActivityCompleted,
                                 EventKind::OrchestrationCompleted};
      for (std::uint64_t e = 1; e <= 5; ++e) {
        HistoryEvent event;
        event.event_id = e;
        event.kind = kinds[e - 1];
        event.source_id = e == 4 ? 2 : 0;
        event.name = "step";
        event.data = e == 5 ? batch.instance->output : std::string(60, 'd');
        batch.history.push_back(std::move(event));
      }
      store->commit(std::move(batch), done.callback(static_cast<std::size_t>(i)));
    }
    done.wait(kInstances);
    const auto begin = std::chrono::steady_clock::now();
    const auto report = checked(*store);
    const auto middle = std::chrono::steady_clock::now();
    auto from_file = check_store_file(path);
    const auto end = std::chrono::steady_clock::now();
    REQUIRE(from_file.has_value());
    CHECK(report.ok());
    CHECK(report.instances == kInstances);
    CHECK(report.history_events == 5 * kInstances);
    CHECK(*from_file == report);
    using ms = std::chrono::milliseconds;
    MESSAGE("check_store of " << kInstances << " instances (" << report.records_read
                              << " records): "
                              << std::chrono::duration_cast<ms>(middle - begin).count()
                              << " ms; check_store_file: "
                              << std::chrono::duration_cast<ms>(end - middle).count() << " ms");
  }
}
