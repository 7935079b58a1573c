// SPDX-License-Identifier: MIT
// A long-running service on one store, to operate from the shell with the `duroxide` command
// (README, "Operating a store"): orders that ship through a sub-orchestration, one whose card
// is declined until the file `card-updated` exists beside the store, and an approval that
// waits for an event.
//
//   build/samples/shop_service shop.duro &      # serves until stopped (or --seconds N)
//   duroxide list --store shop.duro
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

ActivityRegistry activities(std::filesystem::path fixed_flag) {
  return ActivityRegistry::builder()
      .register_activity("Reserve",
                         [](ActivityContext&, std::string item) { return "reserved " + item; })
      .register_activity("Charge",
                         [fixed_flag](ActivityContext&, std::string card) -> Result<std::string> {
                           if (card == "declined-card" && !std::filesystem::exists(fixed_flag)) {
                             return Err("card declined");
                           }
                           return "charged " + card;
                         })
      .register_activity("Label", [](ActivityContext& ctx,
                                     std::string) { return "label for " + ctx.instance_id(); })
      .build();
}

OrchestrationRegistry orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration(
          "Order",
          [](OrchestrationContext& ctx, std::string card) -> Result<std::string> {
            ctx.set_custom_status("reserving");
            auto reserved = ctx.schedule_activity("Reserve", "book").into_activity();
            if (!reserved) return Err(reserved.error());
            ctx.set_custom_status("charging");
            auto charged = ctx.schedule_activity("Charge", card).into_activity();
            if (!charged) return Err("payment failed: " + charged.error());
            ctx.set_custom_status("shipping");
            auto shipped = ctx.schedule_sub_orchestration("Ship", "").into_sub_orchestration();
            if (!shipped) return Err(shipped.error());
            ctx.set_custom_status("done");
            return charged.value() + ", " + shipped.value();
          })
      .register_orchestration("Ship",
                              [](OrchestrationContext& ctx, std::string) {
                                return ctx.schedule_activity("Label", "").into_activity();
                              })
      .register_orchestration("Approval",
                              [](OrchestrationContext& ctx, std::string) {
                                return "approved: " + ctx.schedule_wait("approve").into_event();
                              })
      .build();
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "shop.duro";
  int seconds = -1;  // serve until a signal
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::stoi(argv[++i]);
    } else {
      path = argv[i];
    }
  }
  auto store = LmdbProvider::open(path);
  if (!store) {
    std::fprintf(stderr, "shop_service: %s\n", store.error().to_string().c_str());
    return 1;
  }
  const auto fixed_flag = std::filesystem::absolute(path).parent_path() / "card-updated";
  auto runtime = Runtime::start_with_store(*store, activities(fixed_flag), orchestrations());
  Client client(*store);
  // A second run on the same store finds its instances and starts none again.
  const StartOptions once{"", IfExists::Ignore};
  std::vector<StartRequest> starts = {{"order-1", "Order", "good-card", once},
                                      {"order-2", "Order", "declined-card", once},
                                      {"approval-7", "Approval", "", once}};
  for (auto& started : client.start_orchestrations(std::move(starts))) {
    if (!started) {
      std::fprintf(stderr, "shop_service: %s\n", started.error().to_string().c_str());
      return 1;
    }
  }
  std::printf("serving %s\n", path.c_str());
  std::fflush(stdout);
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (stop_requested == 0 && (seconds < 0 || std::chrono::steady_clock::now() < until)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  runtime->shutdown();
  // As a test: order-1 completes and order-2 fails (no card-updated file in a fresh directory).
  auto first = client.get_orchestration_status("order-1").value();
  return first.is_completed() ? 0 : 1;
}
