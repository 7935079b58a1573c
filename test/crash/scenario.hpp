// SPDX-License-Identifier: MIT
// The crash scenario shared by the worker process and the checking test.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <duroxide/duroxide.hpp>

namespace duroxide::crash {

inline ActivityRegistry scenario_activities() {
  return ActivityRegistry::builder()
      .register_activity("Append", [](ActivityContext&, std::string in) { return in + "."; })
      .build();
}

/// Four chained activities, a short timer, then three in parallel.
inline std::string scenario(OrchestrationContext& ctx, std::string input) {
  std::string text = input;
  for (int i = 0; i < 4; ++i) {
    text = ctx.schedule_activity("Append", text + std::to_string(i)).into_activity().value();
    if (i == 1) ctx.schedule_timer(std::chrono::milliseconds(30)).into_timer();
  }
  std::vector<DurableFuture> parallel;
  for (int i = 0; i < 3; ++i) parallel.push_back(ctx.schedule_activity("Append", text));
  for (auto& out : ctx.join(std::move(parallel))) text += "|" + out.result.value();
  return text;
}

/// What scenario(input) returns when nothing goes wrong.
inline std::string expected_output(const std::string& input) {
  std::string text = input;
  for (int i = 0; i < 4; ++i) text = text + std::to_string(i) + ".";
  const std::string step = text + ".";
  for (int i = 0; i < 3; ++i) text += "|" + step;
  return text;
}

inline OrchestrationRegistry scenario_orchestrations() {
  return OrchestrationRegistry::builder().register_orchestration("Scenario", scenario).build();
}

inline std::string instance_name(int i) { return "crash-" + std::to_string(i); }

}  // namespace duroxide::crash
