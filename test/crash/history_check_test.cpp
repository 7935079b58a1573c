// SPDX-License-Identifier: MIT
// The history checker of the torture test finds what it is meant to find.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "history_check.hpp"

using namespace duroxide;
using duroxide::crash::history_problems;

namespace {

HistoryEvent event(std::uint64_t id, EventKind kind, std::uint64_t source = 0) {
  HistoryEvent e;
  e.event_id = id;
  e.kind = kind;
  e.source_id = source;
  return e;
}

// Started, an activity and a timer scheduled and completed, completed.
std::vector<HistoryEvent> good() {
  return {event(1, EventKind::OrchestrationStarted),  event(2, EventKind::ActivityScheduled),
          event(3, EventKind::TimerCreated),          event(4, EventKind::TurnStarted),
          event(5, EventKind::ActivityCompleted, 2),  event(6, EventKind::TimerFired, 3),
          event(7, EventKind::OrchestrationCompleted)};
}

}  // namespace

TEST_SUITE("crash.history_check") {
  TEST_CASE("history checker: accepts a well-formed history, names each flaw") {
    CHECK(history_problems(good(), EventKind::OrchestrationCompleted, true).empty());
    CHECK(history_problems({}, EventKind::OrchestrationCompleted, false).size() == 1);

    auto gap = good();
    gap[3].event_id = 9;
    CHECK(!history_problems(gap, EventKind::OrchestrationCompleted, true).empty());

    auto wrong_end = good();
    CHECK(!history_problems(wrong_end, EventKind::OrchestrationContinuedAsNew, true).empty());

    auto two_ends = good();
    two_ends.push_back(event(8, EventKind::OrchestrationCompleted));
    CHECK(!history_problems(two_ends, EventKind::OrchestrationCompleted, true).empty());

    auto no_end = good();
    no_end.pop_back();
    CHECK(!history_problems(no_end, EventKind::OrchestrationCompleted, true).empty());

    auto twice = good();
    twice.insert(twice.end() - 1, event(7, EventKind::ActivityFailed, 2));
    twice.back().event_id = 8;
    CHECK(!history_problems(twice, EventKind::OrchestrationCompleted, true).empty());

    auto wrong_kind = good();
    wrong_kind[5].source_id = 2;  // a timer firing for the activity
    CHECK(!history_problems(wrong_kind, EventKind::OrchestrationCompleted, false).empty());

    auto pending = good();
    pending.erase(pending.begin() + 5);  // the timer never fires
    for (std::size_t k = 0; k < pending.size(); ++k) pending[k].event_id = k + 1;
    CHECK(history_problems(pending, EventKind::OrchestrationCompleted, false).empty());
    CHECK(!history_problems(pending, EventKind::OrchestrationCompleted, true).empty());
  }
}
