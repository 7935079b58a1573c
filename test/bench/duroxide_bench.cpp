// SPDX-License-Identifier: MIT
// duroxide-bench: workloads against a fresh store, one line per figure:
// "duroxide-cpp WORKLOAD METRIC VALUE". Only the hello workload exists so far.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <duroxide/duroxide.hpp>

using namespace duroxide;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int n = 10000;
  int clients = 8;  // client threads starting instances concurrently
  bool sync = true;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      return arg.rfind(name, 0) == 0 ? argv[i] + name.size() : nullptr;
    };
    if (auto v = value("--n=")) options.n = std::atoi(v);
    if (auto v = value("--clients=")) options.clients = std::max(1, std::atoi(v));
    if (auto v = value("--durability=")) options.sync = std::string_view(v) != "nosync";
  }
  return options;
}

void print(const char* workload, const char* metric, double value) {
  std::printf("duroxide-cpp %s %s %.3f\n", workload, metric, value);
}

// W1: n instances started by `clients` threads, each calling one activity.
int hello(const Options& options) {
  LmdbOptions store_options;
  store_options.sync = options.sync;
  auto store = LmdbProvider::open_temporary(store_options).value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity(
              "Greet", [](ActivityContext&, std::string name) { return "Hello, " + name + "!"; })
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Hello",
              [](OrchestrationContext& ctx, std::string name) {
                return ctx.schedule_activity("Greet", name).into_activity().value();
              })
          .build();
  RuntimeOptions runtime_options;
  runtime_options.log_level = LogLevel::Error;
  auto runtime = Runtime::start_with_options(store, activities, orchestrations, runtime_options);
  Client client(store);

  const auto begin = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < options.clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = c; i < options.n; i += options.clients) {
        client.start_orchestration("hello-" + std::to_string(i), "Hello", "bench").value();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < options.n; ++i) {
    auto status =
        client.wait_for_orchestration("hello-" + std::to_string(i), std::chrono::minutes(5));
    if (!status || status->output() != "Hello, bench!") {
      std::fprintf(stderr, "hello-%d did not complete\n", i);
      return 1;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  print("hello", "orch_per_s", options.n / seconds);
  print("hello", "wall_s", seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return hello(parse(argc, argv)); }
