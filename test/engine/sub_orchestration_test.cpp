// SPDX-License-Identifier: MIT
// Sub-orchestrations and detached starts: results, failures, cancellation, restarts.
#include <atomic>
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

ActivityRegistry activities() {
  return ActivityRegistry::builder()
      .register_activity("Upper",
                         [](ActivityContext&, std::string in) {
                           for (auto& c : in) c = static_cast<char>(std::toupper(c));
                           return in;
                         })
      .build();
}

OrchestrationRegistry::Builder children() {
  return std::move(
      OrchestrationRegistry::builder()
          .register_orchestration("Child",
                                  [](OrchestrationContext& ctx, std::string in) {
                                    return ctx.schedule_activity("Upper", in).into_activity();
                                  })
          .register_orchestration("FailingChild",
                                  [](OrchestrationContext&, std::string in) -> Result<std::string> {
                                    return Err("child says no to " + in);
                                  })
          .register_orchestration("WaitingChild", [](OrchestrationContext& ctx, std::string) {
            return ctx.schedule_wait("Go").into_event();
          }));
}

// Children and detached instances appear once their parent's step is committed.
void wait_until_exists(Harness& h, const std::string& id) {
  h.wait_until([&] { return h.store()->read_instance(id).has_value(); });
  REQUIRE(h.store()->read_instance(id).has_value());
}

}  // namespace

TEST_SUITE("engine.sub_orchestration") {
  TEST_CASE("a child's output completes the parent's future; the child has a derived id") {
    auto registry =
        children()
            .register_orchestration(
                "Parent",
                [](OrchestrationContext& ctx, std::string in) {
                  auto a = ctx.schedule_sub_orchestration("Child", in).into_sub_orchestration();
                  return a.value() + "!";
                })
            .build();
    Harness h(activities(), registry);
    auto status = h.run("p", "Parent", "hi");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "HI!");
    // The child is an instance of its own, with the parent recorded.
    auto history = h.store()->read_history("p", 1).value();
    std::string child_id;
    for (const auto& event : history) {
      if (event.kind == EventKind::SubOrchestrationScheduled) {
        child_id = event.instance;
        CHECK(child_id == "p::sub::" + std::to_string(event.event_id));
      }
    }
    REQUIRE_FALSE(child_id.empty());
    auto child = h.store()->read_instance(child_id).value();
    CHECK(child.state == InstanceState::Completed);
    CHECK(child.parent_id == "p");
    CHECK(child.output == "HI");
    CHECK(h.client().get_orchestration_status(child_id).value().output() == "HI");
  }

  TEST_CASE("a failed child fails only its future; the parent decides") {
    auto registry =
        children()
            .register_orchestration(
                "Parent",
                [](OrchestrationContext& ctx, std::string) {
                  auto r =
                      ctx.schedule_sub_orchestration("FailingChild", "x").into_sub_orchestration();
                  return r ? std::string("unexpected") : "handled: " + r.error();
                })
            .build();
    Harness h(activities(), registry);
    auto status = h.run("p", "Parent", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "handled: child says no to x");
  }

  TEST_CASE("children with chosen ids run in parallel and join in argument order") {
    auto registry = children()
                        .register_orchestration(
                            "Parent",
                            [](OrchestrationContext& ctx, std::string) {
                              std::vector<DurableFuture> futures;
                              for (int i = 0; i < 5; ++i) {
                                // Named: a literal + a temporary string gets a false
                                // -Wrestrict from g++ 12 at -O3.
                                const std::string n = std::to_string(i);
                                futures.push_back(ctx.schedule_sub_orchestration_with_id(
                                    "Child", "kid-" + n, "c" + n));
                              }
                              std::string out;
                              for (auto& output : ctx.join(std::move(futures)))
                                out += output.result.value();
                              return out;
                            })
                        .build();
    Harness h(activities(), registry);
    auto status = h.run("p", "Parent", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "C0C1C2C3C4");
    CHECK(h.store()->read_instance("kid-3").value().parent_id == "p");
  }

  TEST_CASE("parent and children survive a restart while the children wait") {
    auto registry =
        children()
            .register_orchestration(
                "Parent",
                [](OrchestrationContext& ctx, std::string) {
                  auto a = ctx.schedule_sub_orchestration_with_id("WaitingChild", "w1", "");
                  auto b = ctx.schedule_sub_orchestration_with_id("WaitingChild", "w2", "");
                  std::vector<DurableFuture> both;
                  both.push_back(std::move(a));
                  both.push_back(std::move(b));
                  std::string out;
                  for (auto& o : ctx.join(std::move(both))) {
                    out += o.result.value();
                  }
                  return out;
                })
            .build();
    Harness h(activities(), registry);
    h.client().start_orchestration("p", "Parent", "").value();
    wait_until_exists(h, "w2");
    h.restart();
    h.client().raise_event("w2", "Go", "two").value();
    h.restart();
    h.client().raise_event("w1", "Go", "one").value();
    auto status = h.wait("p");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "onetwo");
  }

  TEST_CASE("cancelling a parent cancels its running children with 'parent canceled'") {
    auto registry = children()
                        .register_orchestration("Parent",
                                                [](OrchestrationContext& ctx, std::string) {
                                                  auto a = ctx.schedule_sub_orchestration_with_id(
                                                      "WaitingChild", "kid", "");
                                                  return a.into_sub_orchestration();
                                                })
                        .build();
    Harness h(activities(), registry);
    h.client().start_orchestration("p", "Parent", "").value();
    wait_until_exists(h, "kid");
    REQUIRE(h.client().cancel_instance("p", "user_request"));
    auto parent = h.wait("p");
    REQUIRE(parent.is_failed());
    CHECK(parent.details().display_message() == "canceled: user_request");
    auto child = h.wait("kid");
    REQUIRE(child.is_failed());
    CHECK(child.details().kind() == "Cancelled");
    CHECK(child.details().display_message() == "canceled: parent canceled");
    // Cancelling a finished instance changes nothing.
    REQUIRE(h.client().cancel_instance("p", "again"));
    REQUIRE(h.flush_messages("p"));  // had the cancel queued anything, it is taken by now
    CHECK(h.client().get_orchestration_status("p").value().details().display_message() ==
          "canceled: user_request");
  }

  TEST_CASE("a child that loses a select is cancelled, and the cancel is in history") {
    auto registry =
        children()
            .register_orchestration(
                "Parent",
                [](OrchestrationContext& ctx, std::string) {
                  auto child = ctx.schedule_sub_orchestration_with_id("WaitingChild", "slow", "");
                  auto timer = ctx.schedule_timer(50ms);
                  auto [index, output] = ctx.select2(std::move(child), std::move(timer));
                  return std::to_string(index);
                })
            .build();
    Harness h(activities(), registry);
    auto status = h.run("p", "Parent", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "1");
    auto child = h.wait("slow");
    REQUIRE(child.is_failed());
    CHECK(child.details().display_message() == "canceled: parent canceled");
    bool recorded = false;
    const auto history = h.store()->read_history("p", 1).value();
    for (const auto& event : history) {
      recorded = recorded || event.kind == EventKind::CancelRequested;
    }
    CHECK(recorded);
  }

  TEST_CASE("a detached start happens exactly once, across replays and restarts") {
    static std::atomic<int> detached_runs{0};
    detached_runs = 0;
    auto registry =
        OrchestrationRegistry::builder()
            .register_orchestration("Detached",
                                    [](OrchestrationContext& ctx, std::string in) {
                                      if (!ctx.is_replaying()) ++detached_runs;
                                      return in;
                                    })
            .register_orchestration("Starter",
                                    [](OrchestrationContext& ctx, std::string) {
                                      ctx.schedule_orchestration("Detached", "free", "on my own");
                                      ctx.schedule_timer(100ms).into_timer();
                                      ctx.schedule_wait("Go").into_event();
                                      return std::string("started");
                                    })
            .build();
    RuntimeOptions options = testlib::quiet_options();
    options.max_parked_instances = 1;  // evictions: every step replays the starter
    Harness h(activities(), registry, options);
    h.client().start_orchestration("s", "Starter", "").value();
    wait_until_exists(h, "free");
    auto free = h.wait("free");
    REQUIRE(free.is_completed());
    CHECK(free.output() == "on my own");
    h.restart();
    h.client().raise_event("s", "Go", "").value();
    REQUIRE(h.wait("s").is_completed());
    CHECK(h.store()->read_instance("free").value().parent_id.empty());
    CHECK(h.store()->list_executions("free").value_or(std::vector<std::uint64_t>{1}).size() == 1);
    CHECK(detached_runs == 1);
  }

  TEST_CASE("a child id already in use fails the parent's future and leaves that instance alone") {
    auto registry = children()
                        .register_orchestration(
                            "Parent",
                            [](OrchestrationContext& ctx, std::string) {
                              auto r = ctx.schedule_sub_orchestration_with_id("Child", "taken", "x")
                                           .into_sub_orchestration();
                              return r ? "child ran: " + r.value() : "refused: " + r.error();
                            })
                        .build();
    Harness h(activities(), registry);
    REQUIRE(h.run("taken", "Child", "first").is_completed());
    auto status = h.run("p", "Parent", "");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "refused: sub-orchestration id 'taken' is already in use");
    CHECK(h.wait("taken").output() == "FIRST");
  }

  TEST_CASE("a child is visible to clients as soon as the parent's step is durable") {
    auto registry =
        children()
            .register_orchestration(
                "Parent",
                [](OrchestrationContext& ctx, std::string) {
                  return ctx.schedule_sub_orchestration_with_id("WaitingChild", "visible", "")
                      .into_sub_orchestration();
                })
            .build();
    Harness h(activities(), registry);
    h.client().start_orchestration("p", "Parent", "").value();
    wait_until_exists(h, "visible");
    auto row = h.store()->read_instance("visible").value();
    CHECK(row.parent_id == "p");
    CHECK(row.name == "WaitingChild");
    h.client().raise_event("visible", "Go", "done").value();
    CHECK(h.wait("p").output() == "done");
  }

  TEST_CASE("children of later executions get ids of their own after continue_as_new") {
    auto registry =
        children()
            .register_orchestration(
                "Eternal",
                [](OrchestrationContext& ctx, std::string gen) -> Result<std::string> {
                  auto out =
                      ctx.schedule_sub_orchestration("Child", "g" + gen).into_sub_orchestration();
                  if (!out) return Err("gen " + gen + ": " + out.error());
                  if (gen == "3") return out.value();
                  return ctx.continue_as_new(std::to_string(std::stoi(gen) + 1));
                })
            .build();
    Harness h(activities(), registry);
    auto status = h.run("e", "Eternal", "1");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "G3");
    CHECK(h.store()->read_instance("e::sub::2").value().output == "G1");
    CHECK(h.store()->read_instance("e::sub::3.2").value().output == "G3");
  }

  TEST_CASE("a child id naming a loaded instance or the parent itself fails the future") {
    auto registry = children()
                        .register_orchestration(
                            "Parent",
                            [](OrchestrationContext& ctx, std::string target) {
                              auto r = ctx.schedule_sub_orchestration_with_id("Child", target, "x")
                                           .into_sub_orchestration();
                              return r ? "ran " + r.value() : "refused: " + r.error();
                            })
                        .build();
    Harness h(activities(), registry);
    h.client().start_orchestration("hot", "WaitingChild", "").value();
    REQUIRE(h.wait_for_events("hot", EventKind::EventSubscribed));  // parked on its wait
    CHECK(h.run("p1", "Parent", "hot").output() ==
          "refused: sub-orchestration id 'hot' is already in use");
    CHECK(h.run("self", "Parent", "self").output() ==
          "refused: sub-orchestration id 'self' is already in use");
    h.client().raise_event("hot", "Go", "still mine").value();
    CHECK(h.wait("hot").output() == "still mine");
  }

  TEST_CASE("a cancel in the step that starts a child starts no child") {
    auto registry =
        children()
            .register_orchestration(
                "Parent",
                [](OrchestrationContext& ctx, std::string) {
                  return ctx.schedule_sub_orchestration_with_id("WaitingChild", "c3", "")
                      .into_sub_orchestration();
                })
            .build();
    Harness h(activities(), registry);
    h.stop();
    h.client().start_orchestration("p3", "Parent", "").value();
    h.client().cancel_instance("p3", "user").value();
    h.start();
    auto status = h.wait("p3");
    REQUIRE(status.is_failed());
    CHECK(status.details().display_message() == "canceled: user");
    h.stop();  // whatever the failing step started is durable once the runtime is gone
    CHECK(h.store()->read_instance("c3").error().code == ErrorCode::NotFound);
  }
}
