// SPDX-License-Identifier: MIT
// The store check's rules for one execution's history.
#include "storage/lmdb_check_history.hpp"

#include <string_view>
#include <unordered_map>

namespace duroxide::storage {
namespace {

// The storage layer keeps its own names: to_string(EventKind) lives above it (management.hpp).
std::string_view kind_name(EventKind kind) {
  static constexpr std::string_view kNames[] = {"?",
                                                "OrchestrationStarted",
                                                "TurnStarted",
                                                "ActivityScheduled",
                                                "ActivityCompleted",
                                                "ActivityFailed",
                                                "TimerCreated",
                                                "TimerFired",
                                                "EventSubscribed",
                                                "EventRaised",
                                                "OrchestrationCompleted",
                                                "OrchestrationFailed",
                                                "OrchestrationContinuedAsNew",
                                                "SubOrchestrationScheduled",
                                                "SubOrchestrationCompleted",
                                                "SubOrchestrationFailed",
                                                "OrchestrationScheduled",
                                                "CancelRequested",
                                                "ExecutionSuspended",
                                                "ExecutionResumed",
                                                "ActivityAbandoned",
                                                "ExecutionRewound"};
  const auto index = static_cast<std::size_t>(kind);
  return index < std::size(kNames) ? kNames[index] : kNames[0];
}
static_assert(static_cast<int>(EventKind::ExecutionRewound) == 21);

bool is_terminal(EventKind kind) {
  return kind == EventKind::OrchestrationCompleted || kind == EventKind::OrchestrationFailed ||
         kind == EventKind::OrchestrationContinuedAsNew;
}

/// Returns: whether `scheduled` is a kind that `completion` may name; nullopt for an event
/// that names none.
std::optional<bool> completes(EventKind completion, EventKind scheduled) {
  switch (completion) {
    case EventKind::ActivityCompleted:
    case EventKind::ActivityFailed:
    case EventKind::ActivityAbandoned:
      return scheduled == EventKind::ActivityScheduled;
    case EventKind::TimerFired:
      return scheduled == EventKind::TimerCreated;
    case EventKind::SubOrchestrationCompleted:
    case EventKind::SubOrchestrationFailed:
      return scheduled == EventKind::SubOrchestrationScheduled;
    case EventKind::CancelRequested:
      return scheduled == EventKind::ActivityScheduled ||
             scheduled == EventKind::SubOrchestrationScheduled;
    default:
      return std::nullopt;
  }
}

std::string named(std::string_view text, std::uint64_t id) {
  std::string out(text);
  out += ' ';
  out += std::to_string(id);
  return out;
}

/// Walks one decoded execution in id order, keeping the state the rules need.
class Walker {
 public:
  Walker(const ExecutionHistory& history, ProblemSink& problems)
      : history_(history), problems_(problems) {}

  ExecutionSummary run() {
    for (const auto& [id, event] : history_.events) visit(*event);
    summary_.terminal = terminal_;
    summary_.suspended = suspended_;
    return std::move(summary_);
  }

 private:
  void report(const HistoryEvent& event, std::string what) {
    problems_.add(history_where(history_.instance_id, history_.execution_id, event.event_id),
                  std::move(what));
  }

  void visit(const HistoryEvent& event) {
    if (first_) {
      first_ = false;
      if (event.kind != EventKind::OrchestrationStarted) {
        std::string what("the first event is ");
        what += kind_name(event.kind);
        report(event, what += ", not OrchestrationStarted");
      }
    }
    check_source(event);
    kinds_.emplace(event.event_id, event.kind);
    if (event.kind == EventKind::ActivityScheduled) {
      summary_.activities.emplace(event.event_id, event.name);
    }
    if (terminal_) {
      after_terminal(event);
    } else if (event.kind == EventKind::ExecutionRewound) {
      report(event, "ExecutionRewound does not follow an OrchestrationFailed");
    } else if (is_terminal(event.kind)) {
      terminal_ = event;
    }
    check_suspension(event);
  }

  void check_source(const HistoryEvent& event) {
    if (event.kind == EventKind::CancelRequested && event.source_id == 0) return;
    const auto expected = completes(event.kind, EventKind::ActivityScheduled);
    if (!expected) return;
    auto found = event.source_id < event.event_id ? kinds_.find(event.source_id) : kinds_.end();
    std::string what(kind_name(event.kind));
    if (found == kinds_.end()) {
      report(event,
             named(what += " names source_id", event.source_id) += ", which is no earlier event");
    } else if (!*completes(event.kind, found->second)) {
      what = named(what += " names source_id", event.source_id);
      what += ", a ";
      report(event, (what += kind_name(found->second)) += " event");
    }
  }

  // Only a rewind may follow the terminal event, and only a failure's, at once.
  void after_terminal(const HistoryEvent& event) {
    if (event.kind == EventKind::ExecutionRewound &&
        terminal_->kind == EventKind::OrchestrationFailed) {
      if (event.source_id <= 1 || event.source_id > terminal_->event_id) {
        std::string what = named("ExecutionRewound names source_id", event.source_id);
        report(event,
               named(what += ": it must be above 1 and at most the failure", terminal_->event_id));
      }
      terminal_.reset();  // the failure is set aside: the history goes on
      return;
    }
    if (reported_after_) return;  // one problem for everything after a terminal event
    reported_after_ = true;
    std::string what(is_terminal(event.kind) ? "a second terminal event, " : "");
    what += kind_name(event.kind);
    what += " follows the terminal event ";
    what += kind_name(terminal_->kind);
    report(event, named(what += " at event", terminal_->event_id));
  }

  void check_suspension(const HistoryEvent& event) {
    if (event.kind == EventKind::ExecutionSuspended) {
      if (suspended_) report(event, "ExecutionSuspended while already suspended");
      suspended_ = true;
    } else if (event.kind == EventKind::ExecutionResumed) {
      if (!suspended_) report(event, "ExecutionResumed while not suspended");
      suspended_ = false;
    }
  }

  const ExecutionHistory& history_;
  ProblemSink& problems_;
  ExecutionSummary summary_;
  std::unordered_map<std::uint64_t, EventKind> kinds_;
  std::optional<HistoryEvent> terminal_;
  bool first_ = true;
  bool suspended_ = false;
  bool reported_after_ = false;
};

// Event ids are dense from 1: one problem per gap or repeat.
void check_dense(const ExecutionHistory& history, ProblemSink& problems) {
  std::uint64_t expected = 1;
  for (const auto& [id, event] : history.events) {
    if (id != expected) {
      std::string what = named("event ids are not dense: expected event", expected);
      problems.add(history_where(history.instance_id, history.execution_id, id),
                   named(what += ", found event", id));
    }
    expected = id + 1;
  }
}

}  // namespace

std::string history_where(const std::string& instance_id, std::uint64_t execution_id) {
  std::string where("history of ");
  where += quote_id(instance_id);
  return named(where += " execution", execution_id);
}

std::string history_where(const std::string& instance_id, std::uint64_t execution_id,
                          std::uint64_t event_id) {
  return named(history_where(instance_id, execution_id) += ", event", event_id);
}

ExecutionSummary check_execution(const ExecutionHistory& history, ProblemSink& problems) {
  check_dense(history, problems);
  for (const auto& [id, event] : history.events) {
    if (!event) {
      ExecutionSummary unknown;
      unknown.decoded = false;
      return unknown;
    }
  }
  return Walker(history, problems).run();
}

}  // namespace duroxide::storage
