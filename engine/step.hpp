// SPDX-License-Identifier: MIT
// Step: what one turn of an instance writes, gathered until one commit makes it durable.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <duroxide/provider.hpp>

#include "engine/activity_result.hpp"
#include "engine/execution.hpp"

namespace duroxide::engine {

/// One step under construction: the execution's output (events, new activities, timers and
/// messages, cancelled activities, created rows), the keys of the messages it consumed, the
/// activity outcomes it took in memory, and whether the instance row changed. The instance
/// fills it while its code runs, turns it into one WriteBatch (to_batch), and calls committed()
/// once that batch is durable (docs/ENGINE.md, section 2).
///
/// Thread safety: used only on the instance's fiber.
class Step {
 public:
  /// What the instance does once the batch is durable.
  struct Durable {
    std::uint64_t execution_id = 0;  ///< the execution the batch wrote
    bool wrote_row = false;          ///< the batch wrote the instance row
    /// Activities whose cancellation the batch recorded: their deliveries are told to stop.
    std::vector<std::uint64_t> cancelled_activities;
  };

  /// Appends what the execution produced since it last ended a step.
  void add(StepOutput output);
  /// Appends a message to send with the step (a parent's notice, a refused start).
  void send(OrchestratorMessage message) { output_.messages.push_back(std::move(message)); }
  /// The execution took a message from the store: the step deletes it.
  void consume(const QueueKey& key) { consumed_.push_back(key); }
  /// The execution took an outcome handed over in memory: the step deletes its work item.
  void take_result(ActivityResult result) { results_.push_back(std::move(result)); }
  /// The instance row changed: the step writes it.
  void change_row() { row_changed_ = true; }
  bool row_changed() const { return row_changed_; }
  /// Returns: true when the step would write nothing.
  bool empty() const;

  /// Drops the work the step would start (for an instance that stops): its activities, the
  /// instances it would create, and every message but the cancels of instances it does not
  /// create. Returns: the ids of the instances it no longer creates.
  std::set<std::string> abandon_work();

  /// Moves the step's writes into one batch: the history, the new work, the consumed messages
  /// and work items, and `row` if it changed. A stored row (`row_stored`) is written only if
  /// still present, a new one only if still absent, so that a client's delete wins.
  /// The consumed keys and the taken outcomes stay held until committed(): if the batch fails,
  /// they are what the instance gives back (consumed(), take_results()).
  WriteBatch to_batch(const std::string& instance_id, std::uint64_t execution_id,
                      const InstanceRecord& row, bool row_stored);
  /// The batch from the last to_batch() is durable: forgets what it carried and starts empty.
  /// Returns: what the instance must do now.
  Durable committed();

  /// Returns: the keys of the messages taken and not yet durably consumed.
  const std::vector<QueueKey>& consumed() const { return consumed_; }
  /// Takes the outcomes taken in memory whose work items no durable step deleted.
  std::vector<ActivityResult> take_results() { return std::exchange(results_, {}); }

 private:
  StepOutput output_;
  std::vector<QueueKey> consumed_;
  std::vector<ActivityResult> results_;
  bool row_changed_ = false;
  Durable sealed_;  // set by to_batch, returned by committed
};

}  // namespace duroxide::engine
