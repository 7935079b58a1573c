// SPDX-License-Identifier: MIT
// Function chaining: each activity's output is the next one's input.
#include <chrono>
#include <cstdio>
#include <string>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  auto store = LmdbProvider::open_temporary().value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity(
              "Reserve", [](ActivityContext&, std::string order) { return order + " reserved"; })
          .register_activity(
              "Charge", [](ActivityContext&, std::string order) { return order + ", charged"; })
          .register_activity(
              "Ship", [](ActivityContext&, std::string order) { return order + ", shipped"; })
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Fulfil",
              [](OrchestrationContext& ctx, std::string order) -> Result<std::string> {
                std::string state = order;
                for (const char* step : {"Reserve", "Charge", "Ship"}) {
                  auto next = ctx.schedule_activity(step, state).into_activity();
                  if (!next) return Err(next.error());  // stop the chain at the first failure
                  state = next.value();
                }
                return state;
              })
          .build();
  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);
  client.start_orchestration("order-7", "Fulfil", "order 7").value();
  auto status = client.wait_for_orchestration("order-7", std::chrono::seconds(10)).value();
  std::printf("%s\n", status.output().c_str());
  return status.output() == "order 7 reserved, charged, shipped" ? 0 : 1;
}
