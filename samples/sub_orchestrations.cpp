// SPDX-License-Identifier: MIT
// Sub-orchestrations: a parent fans out to child orchestrations, handles a failed child, and
// starts a detached instance that outlives it.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <duroxide/duroxide.hpp>

using namespace duroxide;
using namespace std::chrono_literals;

int main() {
  auto store = LmdbProvider::open_temporary().value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity("SumSales",
                             [](ActivityContext&, std::string region) -> Result<std::string> {
                               if (region == "atlantis") return Err("no sales data for atlantis");
                               return std::to_string(100 * region.size());
                             })
          .register_activity(
              "StoreReport",
              [](ActivityContext&, std::string report) { return "archived \"" + report + "\""; })
          .build();

  auto orchestrations =
      OrchestrationRegistry::builder()
          // A child: an orchestration of its own, with its own history and instance id.
          .register_orchestration("ProcessRegion",
                                  [](OrchestrationContext& ctx, std::string region) {
                                    return ctx.schedule_activity("SumSales", region)
                                        .into_activity();  // its error fails the child
                                  })
          .register_orchestration(
              "Archive",
              [](OrchestrationContext& ctx, std::string report) {
                return ctx.schedule_activity("StoreReport", report).into_activity();
              })
          .register_orchestration(
              "SalesReport",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                // Fan out: all children start with this step and run in parallel.
                const std::vector<std::string> regions{"north", "south", "east", "west"};
                std::vector<DurableFuture> children;
                for (const auto& region : regions) {
                  children.push_back(ctx.schedule_sub_orchestration("ProcessRegion", region));
                }
                long total = 0;
                for (auto& child : ctx.join(std::move(children))) {
                  total += std::stol(child.result.value());  // a failed region fails the report
                }
                // A failed child fails only its future: the parent decides what that means.
                auto atlantis = ctx.schedule_sub_orchestration("ProcessRegion", "atlantis")
                                    .into_sub_orchestration();
                const std::string note = atlantis ? "atlantis " + atlantis.value()
                                                  : "atlantis skipped (" + atlantis.error() + ")";

                std::string report = "total " + std::to_string(total) + " from " +
                                     std::to_string(regions.size()) + " regions; " + note;
                // Fire and forget: the start is recorded with this step, exactly once, and
                // the archive runs on after the report has returned.
                ctx.schedule_orchestration("Archive", "archive-" + ctx.instance_id(), report);
                return report;
              })
          .build();

  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);
  client.start_orchestration("report-1", "SalesReport", "").value();
  auto report = client.wait_for_orchestration("report-1", 10s).value();
  std::printf("report-1: %s\n", report.output().c_str());

  // The detached instance's row is written with the parent's step that starts it, so once the
  // report has completed, the archive can be waited on like any other instance.
  auto archive = client.wait_for_orchestration("archive-report-1", 10s);
  runtime->shutdown();
  if (!archive) {
    std::fprintf(stderr, "archive: %s\n", archive.error().to_string().c_str());
    return 1;
  }
  std::printf("archive-report-1: %s\n", archive->output().c_str());

  const std::string expected =
      "total 1800 from 4 regions; atlantis skipped (no sales data for atlantis)";
  const bool ok =
      report.output() == expected && archive->output() == "archived \"" + expected + "\"";
  return ok ? 0 : 1;
}
