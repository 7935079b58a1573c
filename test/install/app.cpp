// SPDX-License-Identifier: MIT
// A program written only against the public API contract, built from the installed prefix.
// It is built twice, through pkg-config and through CMake's find_package; argv[1] names the
// route, and the program prints "Hello, <route>! ok" and exits 0 when the orchestration, whose
// activity takes a typed payload (<duroxide/typed.hpp>, so Cereal), completed with that output.
#include <chrono>
#include <cstdio>
#include <string>

#include <duroxide/duroxide.hpp>
#include <duroxide/typed.hpp>

using namespace duroxide;

namespace {

// The activity's typed input: Cereal serializes it as JSON.
struct Greeting {
  std::string name;
  std::string punctuation;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(CEREAL_NVP(name), CEREAL_NVP(punctuation));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string route = argv[1];
  auto store = LmdbProvider::open_temporary();
  if (!store) return 1;
  auto activities =
      ActivityRegistry::builder()
          .register_activity("Greet", typed_activity<Greeting, std::string>(
                                          [](ActivityContext& ctx,
                                             Greeting greeting) -> Result<std::string> {
                                            if (greeting.name.empty()) return Err("no name");
                                            ctx.trace_info("greeting");
                                            return "Hello, " + greeting.name +
                                                   greeting.punctuation;
                                          }))
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Hello",
              [](OrchestrationContext& ctx, std::string input) -> Result<std::string> {
                auto greeting = schedule_activity_typed<std::string>(ctx, "Greet",
                                                                     Greeting{input, "!"})
                                    .into_activity();
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
  if (!client.start_orchestration("app-1", "Hello", route)) return 1;
  if (!client.raise_event("app-1", "Continue", "ok")) return 1;
  auto status = client.wait_for_orchestration("app-1", std::chrono::seconds(10));
  runtime->shutdown();
  if (!status || !status->is_completed()) return 1;
  std::printf("%s\n", status->output().c_str());
  return status->output() == "Hello, " + route + "! ok" ? 0 : 1;
}
