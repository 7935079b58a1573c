// SPDX-License-Identifier: MIT
// The quick-start patterns through the public API only: chaining, fan-out, approval.
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

ActivityRegistry activities() {
  return ActivityRegistry::builder()
      .register_activity("Greet",
                         [](ActivityContext&, std::string name) { return "Hello, " + name + "!"; })
      .register_activity("Square",
                         [](ActivityContext&, std::string n) {
                           const long v = std::stol(n);
                           return std::to_string(v * v);
                         })
      .register_activity("Notify", [](ActivityContext& ctx,
                                      std::string) { return "notified " + ctx.instance_id(); })
      .build();
}

Result<std::string> chaining(OrchestrationContext& ctx, std::string input) {
  auto first = ctx.schedule_activity("Greet", input).into_activity();
  if (!first) return Err(first.error());
  auto second = ctx.schedule_activity("Greet", first.value()).into_activity();
  if (!second) return Err(second.error());
  return second.value();
}

std::string fan_out(OrchestrationContext& ctx, std::string input) {
  const int n = std::stoi(input);
  std::vector<DurableFuture> squares;
  for (int i = 1; i <= n; ++i)
    squares.push_back(ctx.schedule_activity("Square", std::to_string(i)));
  long sum = 0;
  for (auto& out : ctx.join(std::move(squares))) sum += std::stol(out.result.value());
  return std::to_string(sum);
}

// Waits for "Approval" or gives up after `input` milliseconds.
std::string approval(OrchestrationContext& ctx, std::string input) {
  ctx.schedule_activity("Notify", "").into_activity().value();
  auto approved = ctx.schedule_wait("Approval");
  auto timeout = ctx.schedule_timer(std::chrono::milliseconds(std::stol(input)));
  auto [winner, output] = ctx.select2(std::move(approved), std::move(timeout));
  if (winner == 0) return "approved: " + output.result.value();
  return "timed out";
}

OrchestrationRegistry orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Chaining", chaining)
      .register_orchestration("FanOut", fan_out)
      .register_orchestration("Approval", approval)
      .build();
}

}  // namespace

TEST_SUITE("api.patterns") {
  TEST_CASE("function chaining passes each output to the next activity") {
    Harness h(activities(), orchestrations());
    auto status = h.run("chain-1", "Chaining", "Ada");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "Hello, Hello, Ada!!");
  }

  TEST_CASE("fan-out/fan-in joins 50 activities") {
    Harness h(activities(), orchestrations());
    auto status = h.run("fan-1", "FanOut", "50");
    REQUIRE(status.is_completed());
    CHECK(status.output() == std::to_string(50 * 51 * 101 / 6));
  }

  TEST_CASE("approval arrives before the timeout") {
    Harness h(activities(), orchestrations());
    h.client().start_orchestration("appr-1", "Approval", "10000").value();
    h.client().raise_event("appr-1", "Approval", "by Grace").value();
    auto status = h.wait("appr-1");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "approved: by Grace");
  }

  TEST_CASE("approval times out when no event comes") {
    Harness h(activities(), orchestrations());
    auto status = h.run("appr-2", "Approval", "200");
    REQUIRE(status.is_completed());
    CHECK(status.output() == "timed out");
  }

  TEST_CASE("an event after the timeout is ignored without harm") {
    Harness h(activities(), orchestrations());
    auto status = h.run("appr-3", "Approval", "100");
    CHECK(status.output() == "timed out");
    CHECK(h.client().raise_event("appr-3", "Approval", "too late"));
    REQUIRE(h.flush_messages("appr-3"));  // the late event is taken by now
    CHECK(h.client().get_orchestration_status("appr-3").value().output() == "timed out");
  }
}
