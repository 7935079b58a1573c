// SPDX-License-Identifier: MIT
// Versioned upgrade: new code ships as a new version; running instances finish on the old one.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include <duroxide/duroxide.hpp>

using namespace duroxide;
using namespace std::chrono_literals;

// Version 1.0.0: wait for the payment, done.
Result<std::string> order_v1(OrchestrationContext& ctx, std::string order) {
  const std::string amount = ctx.schedule_wait("Pay").into_event();
  return "order " + order + " paid " + amount + " on " + ctx.orchestration_version();
}

// Version 2.0.0 checks stock before waiting. Replaying a 1.0.0 history with this code would
// meet a wait where it schedules an activity (nondeterminism): hence a new version rather
// than an edit of the old one.
Result<std::string> order_v2(OrchestrationContext& ctx, std::string order) {
  const auto stock = ctx.schedule_activity("CheckStock", order).into_activity();
  if (!stock) return Err(stock.error());
  const std::string amount = ctx.schedule_wait("Pay").into_event();
  return "order " + order + " (" + stock.value() + ") paid " + amount + " on " +
         ctx.orchestration_version();
}

// Returns: the version the instance runs, once the runtime has fixed it at the instance's first
// step (a client does not know which versions are registered), or "" after 5 s.
std::string wait_for_version(Client& client, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto info = client.get_instance_info(id);
    if (info && !info->version.empty()) return info->version;
    std::this_thread::sleep_for(5ms);
  }
  return "";
}

int main() {
  auto store = LmdbProvider::open_temporary().value();
  Client client(store);
  auto activities =
      ActivityRegistry::builder()
          .register_activity("CheckStock", [](ActivityContext&, std::string) { return "in stock"; })
          .build();

  // The old deployment: only 1.0.0 exists. Instance A starts on it and waits for payment.
  auto old_runtime = Runtime::start_with_store(
      store, activities,
      OrchestrationRegistry::builder().register_orchestration("Order", order_v1).build());
  client.start_orchestration("A", "Order", "A").value();
  // Shut down only once A has begun: an instance that has not taken its first step yet would
  // get the latest version of whichever runtime runs it first.
  std::printf("A runs %s\n", wait_for_version(client, "A").c_str());
  old_runtime->shutdown();
  old_runtime.reset();  // one runtime dispatches from a store at a time

  // The new deployment keeps 1.0.0 registered for the instances still running on it.
  auto runtime = Runtime::start_with_store(store, activities,
                                           OrchestrationRegistry::builder()
                                               .register_versioned("Order", "1.0.0", order_v1)
                                               .register_versioned("Order", "2.0.0", order_v2)
                                               .build());
  client.start_orchestration("B", "Order", "B").value();                     // the latest: 2.0.0
  client.start_orchestration_versioned("C", "Order", "1.0.0", "C").value();  // pinned
  std::printf("B runs %s, C runs %s\n", wait_for_version(client, "B").c_str(),
              wait_for_version(client, "C").c_str());

  const std::pair<const char*, const char*> expected[] = {
      {"A", "order A paid 10 EUR on 1.0.0"},
      {"B", "order B (in stock) paid 10 EUR on 2.0.0"},
      {"C", "order C paid 10 EUR on 1.0.0"}};
  for (const auto& [id, output] : expected) client.raise_event(id, "Pay", "10 EUR").value();
  bool ok = true;
  for (const auto& [id, output] : expected) {
    auto status = client.wait_for_orchestration(id, 10s).value();
    const std::string got =
        status.is_completed() ? status.output() : "failed: " + status.details().display_message();
    std::printf("%s: %s\n", id, got.c_str());
    ok = ok && got == output;
  }
  runtime->shutdown();
  return ok ? 0 : 1;
}
