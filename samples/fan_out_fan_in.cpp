// SPDX-License-Identifier: MIT
// Fan-out/fan-in: start many activities at once, then join their results.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  auto store = LmdbProvider::open_temporary().value();
  auto activities = ActivityRegistry::builder()
                        .register_activity("CountWords",
                                           [](ActivityContext&, std::string text) {
                                             std::size_t words = 0;
                                             bool in_word = false;
                                             for (char c : text) {
                                               const bool letter = c != ' ';
                                               words += letter && !in_word;
                                               in_word = letter;
                                             }
                                             return std::to_string(words);
                                           })
                        .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "WordCount",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                const std::vector<std::string> pages{"a durable engine", "replays your code",
                                                     "after a crash", "and carries on"};
                std::vector<DurableFuture> counts;
                for (const auto& page : pages) {
                  counts.push_back(ctx.schedule_activity("CountWords", page));
                }
                long total = 0;
                for (auto& count : ctx.join(std::move(counts))) {
                  total += std::stol(count.result.value());  // a failed page fails the whole
                }
                return std::to_string(total) + " words in " + std::to_string(pages.size()) +
                       " pages";
              })
          .build();
  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);
  client.start_orchestration("count-1", "WordCount", "").value();
  auto status = client.wait_for_orchestration("count-1", std::chrono::seconds(10)).value();
  std::printf("%s\n", status.output().c_str());
  return status.output() == "12 words in 4 pages" ? 0 : 1;
}
