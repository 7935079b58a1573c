// SPDX-License-Identifier: MIT
// `duroxide history ID`: one execution's events, grouped into turns, with activity durations.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/arg_checks.hpp"
#include "cli/store.hpp"
#include "cli/table.hpp"
#include "cli/text.hpp"
#include "cli/time_format.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

struct HistoryArgs {
  std::string id;
  std::uint64_t execution = 0;  // 0: the current one
};

bool opens_turn(EventKind kind) {
  return kind == EventKind::OrchestrationStarted || kind == EventKind::TurnStarted ||
         kind == EventKind::ExecutionResumed;
}

// Reads an execution's events once and describes each with what the events before it said.
class Describer {
 public:
  explicit Describer(TimestampMs now) : now_(now) {}

  // Returns: the detail column of `e`; call once per event, in order.
  std::string describe(const HistoryEvent& e) {
    if (opens_turn(e.kind) && e.timestamp != 0) turn_time_ = e.timestamp;
    scheduled_[e.event_id] = Scheduled{e.name, turn_time_, e.timestamp};
    switch (e.kind) {
      case EventKind::OrchestrationStarted:
        return fmt::format("{} {} input {}", printable(e.name), printable(e.version),
                           payload(e.data));
      case EventKind::TurnStarted:
        return "";
      case EventKind::ActivityScheduled:
        return fmt::format("{} input {}", printable(e.name), payload(e.data));
      case EventKind::ActivityCompleted:
      case EventKind::SubOrchestrationCompleted:
        return fmt::format("{} output {}", completion(e), payload(e.data));
      case EventKind::ActivityFailed:
        return fmt::format("{} error {}", completion(e), payload(e.data));
      case EventKind::TimerCreated:
        return fmt::format("due {}", when(e.timestamp, now_));
      case EventKind::TimerFired:
        return fmt::format("#{} (due {})", e.source_id, iso_time(source(e).due));
      case EventKind::EventSubscribed:
        return printable(e.name);
      case EventKind::EventRaised:
        return fmt::format("{} data {}", printable(e.name), payload(e.data));
      case EventKind::OrchestrationCompleted:
        return fmt::format("output {}", payload(e.data));
      case EventKind::OrchestrationFailed:
        return fmt::format("{} / {}: {}", to_string(e.category), printable(e.name),
                           payload(e.data, 200));
      case EventKind::OrchestrationContinuedAsNew:
        return fmt::format("input {}", payload(e.data));
      case EventKind::SubOrchestrationScheduled:
      case EventKind::OrchestrationScheduled:
        return fmt::format("{} as {} input {}", printable(e.name), printable(e.instance),
                           payload(e.data));
      case EventKind::SubOrchestrationFailed:
      case EventKind::ActivityAbandoned:
        return fmt::format("{} {}: {}", completion(e), printable(e.name), payload(e.data, 200));
      case EventKind::CancelRequested:
        return fmt::format("{} reason {}",
                           e.source_id == 0 ? "the instance" : fmt::format("#{}", e.source_id),
                           payload(e.data));
      case EventKind::ExecutionSuspended:
      case EventKind::ExecutionResumed:
        return fmt::format("reason {}", payload(e.data));
      case EventKind::ExecutionRewound:
        return fmt::format("sets aside #{}..#{} reason {}", e.source_id, e.event_id,
                           payload(e.data));
    }
    return "";
  }

 private:
  struct Scheduled {
    std::string name;
    TimestampMs turn_time = 0;  // the time of the turn that scheduled it
    TimestampMs due = 0;        // TimerCreated: when it fires
  };

  const Scheduled& source(const HistoryEvent& e) {
    static const Scheduled unknown;
    const auto found = scheduled_.find(e.source_id);
    return found == scheduled_.end() ? unknown : found->second;
  }

  // "Greet #3 took 12 ms": the scheduling call, and the time from its turn to this event.
  std::string completion(const HistoryEvent& e) {
    const Scheduled& from = source(e);
    std::string out = from.name.empty() ? fmt::format("#{}", e.source_id)
                                        : fmt::format("{} #{}", printable(from.name), e.source_id);
    if (from.turn_time != 0 && e.timestamp != 0) {
      out += " took ";
      out += duration_text(std::chrono::milliseconds(e.timestamp - from.turn_time));
    }
    return out;
  }

  TimestampMs now_;
  TimestampMs turn_time_ = 0;
  std::map<std::uint64_t, Scheduled> scheduled_;
};

void print_history(const HistoryArgs& args, std::uint64_t execution, std::uint64_t last_execution,
                   const std::vector<HistoryEvent>& events) {
  std::fputs(fmt::format("instance {}, execution {} of {}, {} events\n", printable(args.id),
                         execution, last_execution, events.size())
                 .c_str(),
             stdout);
  const TimestampMs now = now_ms();
  Describer describer(now);
  Table table({"#", "TURN", "TIME", "EVENT", "DETAIL"});
  std::size_t turn = 0;
  for (const auto& e : events) {
    const bool opens = opens_turn(e.kind);
    if (opens) ++turn;
    const bool timed = e.timestamp != 0 && e.kind != EventKind::TimerCreated;
    table.add({std::to_string(e.event_id), opens ? std::to_string(turn) : "",
               timed ? iso_time(e.timestamp) : "", std::string(to_string(e.kind)),
               describer.describe(e)});
  }
  table.print(stdout);
}

int run_history(VerbEnv& env, const HistoryArgs& args) {
  auto executions = env.client.list_executions(args.id);
  if (!executions) return fail(executions.error());
  std::uint64_t execution = args.execution;
  if (execution == 0) {
    if (executions->empty()) {
      // The instance exists, but no runtime has begun it yet.
      if (env.global.json) {
        std::puts("[]");
      } else {
        std::fputs(fmt::format("instance {} has no history yet\n", printable(args.id)).c_str(),
                   stdout);
      }
      return kExitOk;
    }
    execution = executions->back();
  }
  if (env.global.json) {
    auto json = env.client.read_history_json(args.id, execution);
    if (!json) return fail(json.error());
    std::fputs(json->c_str(), stdout);
    std::fputc('\n', stdout);
    return kExitOk;
  }
  auto events = env.client.read_history(args.id, execution);
  if (!events) return fail(events.error());
  print_history(args, execution, executions->back(), *events);
  return kExitOk;
}

}  // namespace

VerbSetup define_history(CLI::App& command) {
  auto args = std::make_shared<HistoryArgs>();
  command.add_option("ID", args->id, "The instance id")->required();
  command.add_option("--execution", args->execution, "Execution N (default: the current one)")
      ->check(count_validator())
      ->type_name("N");
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_history(env, *args); }};
}

}  // namespace duroxide::cli
