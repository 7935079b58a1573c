// SPDX-License-Identifier: MIT
// Step: gathering a turn's writes and turning them into one WriteBatch.
#include "engine/step.hpp"

#include <iterator>
#include <utility>

namespace duroxide::engine {

namespace {
// Moves `from` to the end of `to`; takes the buffer whole when `to` is empty (the usual case:
// one output per step).
template <class T>
void append(std::vector<T>& to, std::vector<T>& from) {
  if (to.empty()) {
    to = std::move(from);
  } else {
    std::move(from.begin(), from.end(), std::back_inserter(to));
  }
}
}  // namespace

void Step::add(StepOutput output) {
  append(output_.events, output.events);
  append(output_.activities, output.activities);
  append(output_.messages, output.messages);
  append(output_.cancelled_activities, output.cancelled_activities);
  append(output_.created_instances, output.created_instances);
}

// Cancelled activities are not counted: their cancellation is an event of the same step.
bool Step::empty() const {
  return output_.events.empty() && output_.activities.empty() && output_.messages.empty() &&
         output_.created_instances.empty() && consumed_.empty() && results_.empty() &&
         !row_changed_;
}

std::set<std::string> Step::abandon_work() {
  std::set<std::string> unstarted;
  for (const auto& row : output_.created_instances) unstarted.insert(row.instance_id);
  output_.activities.clear();
  output_.created_instances.clear();
  std::erase_if(output_.messages, [&](const OrchestratorMessage& m) {
    // What stays: the cancels and terminates of children started before this step.
    const bool stop =
        m.kind == MessageKind::CancelRequested || m.kind == MessageKind::TerminateRequested;
    return !stop || unstarted.contains(m.instance_id);
  });
  return unstarted;
}

WriteBatch Step::to_batch(const std::string& instance_id, std::uint64_t execution_id,
                          const InstanceRecord& row, bool row_stored) {
  WriteBatch batch;
  batch.instance_id = instance_id;
  batch.precondition = row_stored     ? WriteBatch::Precondition::InstancePresent
                       : row_changed_ ? WriteBatch::Precondition::InstanceAbsent
                                      : WriteBatch::Precondition::None;
  batch.execution_id = execution_id;
  batch.history = std::move(output_.events);
  batch.activities = std::move(output_.activities);
  batch.messages = std::move(output_.messages);
  batch.consumed_messages = consumed_;
  for (const auto& result : results_) batch.consumed_activities.push_back(result.activity_key);
  batch.created_instances = std::move(output_.created_instances);
  if (row_changed_) batch.instance = row;
  sealed_ = Durable{execution_id, row_changed_, std::move(output_.cancelled_activities)};
  output_ = {};
  return batch;
}

Step::Durable Step::committed() {
  consumed_.clear();
  results_.clear();
  row_changed_ = false;
  return std::exchange(sealed_, {});
}

}  // namespace duroxide::engine
