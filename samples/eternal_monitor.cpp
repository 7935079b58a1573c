// SPDX-License-Identifier: MIT
// An eternal monitor: check, sleep, continue as new, so history never grows without bound.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  std::atomic<int> load{70};
  auto store = LmdbProvider::open_temporary().value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity("ReadLoad",
                             [&load](ActivityContext&, std::string) {
                               return std::to_string(load += 10);  // a system under rising load
                             })
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Monitor",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                const int percent =
                    std::stoi(ctx.schedule_activity("ReadLoad", "").into_activity().value());
                ctx.set_custom_status("load " + std::to_string(percent) + "%");
                if (percent >= 100) {
                  return "alert after " + std::to_string(ctx.execution_id()) + " checks";
                }
                ctx.schedule_timer(std::chrono::milliseconds(50)).into_timer();
                return ctx.continue_as_new("");  // a fresh execution for the next check
              })
          .build();
  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);
  client.start_orchestration("monitor", "Monitor", "").value();
  auto status = client.wait_for_orchestration("monitor", std::chrono::seconds(10)).value();
  std::printf("%s (%s)\n", status.output().c_str(), status.custom_status().value_or("").c_str());
  return status.output() == "alert after 3 checks" ? 0 : 1;
}
