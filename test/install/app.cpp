// SPDX-License-Identifier: MIT
// A program written only against the public API contract, built through pkg-config.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  auto store = LmdbProvider::open_temporary();
  if (!store) return 1;
  auto activities =
      ActivityRegistry::builder()
          .register_activity("Greet",
                             [](ActivityContext& ctx, std::string name) -> Result<std::string> {
                               if (name.empty()) return Err("no name");
                               ctx.trace_info("greeting");
                               return "Hello, " + name + "!";
                             })
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Hello",
              [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
                auto greeting = ctx.schedule_activity("Greet", input).into_activity();
                if (!greeting) return Err(greeting.error());
                auto event = ctx.schedule_wait("Continue");
                auto timer = ctx.schedule_timer(std::chrono::seconds(30));
                auto [winner, output] = ctx.select2(std::move(event), std::move(timer));
                if (winner != 0) return Err("no event");
                return greeting.value() + " " + output.result.value();
              })
          .build();
  auto runtime = Runtime::start_with_store(*store, activities, orchestrations);
  Client client(*store);
  if (!client.start_orchestration("app-1", "Hello", "pkg-config")) return 1;
  if (!client.raise_event("app-1", "Continue", "ok")) return 1;
  auto status = client.wait_for_orchestration("app-1", std::chrono::seconds(10));
  runtime->shutdown();
  if (!status || !status->is_completed()) return 1;
  std::printf("%s\n", status->output().c_str());
  return status->output() == "Hello, pkg-config! ok" ? 0 : 1;
}
