// SPDX-License-Identifier: MIT
// Hello world: an OrderProcessor orchestration joins two ProcessOrder activities, durably.
#include <chrono>
#include <cstdio>
#include <string>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  // Every step is journaled in this one file in the working directory.
  auto store = LmdbProvider::open("hello_world.duro");
  if (!store) {
    std::fprintf(stderr, "cannot open the store: %s\n", store.error().to_string().c_str());
    return 1;
  }

  // Activities: ordinary blocking code, run on worker threads, at least once.
  auto activities = ActivityRegistry::builder()
                        .register_activity("ProcessOrder",
                                           [](ActivityContext&, std::string order) {
                                             return "Processed: " + order;
                                           })
                        .build();

  // The orchestration: deterministic, blocking-style code. Each into_*() or join() suspends
  // this fiber until the result is durable; after a crash it is replayed to where it was.
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "OrderProcessor",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                ctx.trace_info("processing two orders");
                std::vector<DurableFuture> orders;
                orders.push_back(ctx.schedule_activity("ProcessOrder", "order1"));
                orders.push_back(ctx.schedule_activity("ProcessOrder", "order2"));
                auto results = ctx.join(std::move(orders));
                for (auto& result : results) result.result.value();  // fail if one failed
                return "Processed " + std::to_string(results.size()) + " orders successfully";
              })
          .build();

  auto runtime = Runtime::start_with_store(*store, activities, orchestrations);
  Client client(*store);

  // A fresh instance id per run, so that running the sample again starts a new order batch.
  const std::string id =
      "order-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  if (auto started = client.start_orchestration(id, "OrderProcessor", ""); !started) {
    std::fprintf(stderr, "start failed: %s\n", started.error().to_string().c_str());
    return 1;
  }
  auto status = client.wait_for_orchestration(id, std::chrono::seconds(10));
  runtime->shutdown();
  if (!status) {
    std::fprintf(stderr, "wait failed: %s\n", status.error().to_string().c_str());
    return 1;
  }
  if (!status->is_completed()) {
    std::fprintf(stderr, "orchestration failed: %s\n", status->details().display_message().c_str());
    return 1;
  }
  std::printf("%s\n", status->output().c_str());
  return 0;
}
