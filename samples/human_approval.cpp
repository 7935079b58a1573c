// SPDX-License-Identifier: MIT
// Human approval with a timeout: wait for an event or a durable timer, whichever comes first.
#include <chrono>
#include <cstdio>
#include <string>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  auto store = LmdbProvider::open_temporary().value();
  auto activities = ActivityRegistry::builder()
                        .register_activity("AskManager",
                                           [](ActivityContext& ctx, std::string) {
                                             return "asked about " + ctx.instance_id();
                                           })
                        .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Expense",
              [](OrchestrationContext& ctx, std::string timeout_ms) {
                ctx.schedule_activity("AskManager", "").into_activity().value();
                // Schedule into variables first: the order of calls is part of history.
                auto approval = ctx.schedule_wait("Approval");
                auto timeout = ctx.schedule_timer(std::chrono::milliseconds(std::stol(timeout_ms)));
                auto [winner, output] = ctx.select2(std::move(approval), std::move(timeout));
                return winner == 0 ? "approved by " + output.result.value()
                                   : std::string("escalated: no answer in time");
              })
          .build();
  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);

  client.start_orchestration("expense-1", "Expense", "60000").value();
  client.raise_event("expense-1", "Approval", "Grace").value();  // buffered if early
  auto approved = client.wait_for_orchestration("expense-1", std::chrono::seconds(10)).value();
  std::printf("expense-1: %s\n", approved.output().c_str());

  client.start_orchestration("expense-2", "Expense", "200").value();  // nobody answers
  auto escalated = client.wait_for_orchestration("expense-2", std::chrono::seconds(10)).value();
  std::printf("expense-2: %s\n", escalated.output().c_str());

  return approved.output() == "approved by Grace" &&
                 escalated.output() == "escalated: no answer in time"
             ? 0
             : 1;
}
