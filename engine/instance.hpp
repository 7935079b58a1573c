// SPDX-License-Identifier: MIT
// Instance: one orchestration instance on its fiber, from load or start to the end or eviction.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <duroxide/provider.hpp>

#include "engine/execution.hpp"
#include "engine/fiber_stacks.hpp"
#include "engine/fiber_wakeup.hpp"
#include "engine/recovery_gate.hpp"
#include "engine/services.hpp"

namespace duroxide::engine {

class Shard;

/// Runs one instance: loads its row and history, replays or starts the execution, runs the
/// user's function, and makes each step durable (events, consumed messages and new work in one
/// commit). Between steps the fiber stays parked on its inbox, so the next messages resume the
/// code where it waits, without replay.
///
/// Thread safety: every method runs on the shard's thread (the fiber or the shard's loop).
class Instance final : public ExecutionHost {
 public:
  Instance(Shard& shard, const Services& services, std::string instance_id);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  /// Returns: how many Instance objects (hence fibers) exist in the process; for tests.
  static std::size_t live_count();

  const std::string& id() const { return id_; }
  /// Fiber entry: never throws. Ends by handing the instance back to the shard.
  void run() noexcept;
  /// Queues messages for the instance and wakes it if it waits.
  void deliver(std::vector<QueuedMessage> messages);
  /// Queues an activity's outcome handed over in memory (see ActivityResult): the step that
  /// takes it also deletes its work item.
  void deliver_result(ActivityResult result);
  /// Takes the outcomes handed over in memory that no durable step recorded (those still
  /// queued, and those taken by a step that did not commit), for the caller to commit.
  std::vector<ActivityResult> take_unrecorded_results();
  /// Asks the fiber to unwind at its next wait (eviction, shutdown).
  void request_unwind();
  /// Returns: the keys of messages the execution took but did not commit.
  const std::vector<QueueKey>& uncommitted_keys() const { return consumed_; }
  /// Takes the messages delivered but not handed to the execution, in delivery order.
  std::vector<QueuedMessage> take_inbox();
  /// True when the instance stopped on an error (a failed commit or load), not by design.
  bool failed() const { return failed_; }

  /// The stack the instance's fiber runs on.
  StackRange stack;
  /// Position in the shard's list of parked instances, when parked.
  std::optional<std::list<Instance*>::iterator> parked_at;

 private:
  std::vector<OrchestratorMessage> next_messages(StepOutput output) override;  // Suspends.
  TimestampMs now() const override;
  const Logger& logger() const override { return services_.logger; }
  std::uint64_t max_history_events() const override { return services_.options.max_history_events; }

  [[noreturn]] void unwind();
  void enter_recovery_gate(RecoveryGate::Mode mode, std::uint32_t count,
                           std::vector<QueuedMessage>& held);  // Suspends.
  void wait_for_suspects(std::vector<QueuedMessage>& held);     // Suspends.
  void leave_recovery_gate();
  void execute();                                     // Suspends.
  std::vector<QueuedMessage> take_queued(bool wait);  // Suspends.
  std::vector<OrchestratorMessage> hand_over(std::vector<QueuedMessage> queued);
  void commit_step();                                      // Suspends.
  Result<void, Error> commit_and_wait(WriteBatch batch);   // Suspends.
  bool begin(std::vector<QueuedMessage>& first);           // Suspends.
  bool count_recovery(std::vector<QueuedMessage>& first);  // Suspends.
  void fail_poisoned(std::vector<QueuedMessage>& first);   // Suspends.
  bool start_new(std::vector<QueuedMessage>& first);
  bool is_foreign_start(const OrchestratorMessage& message) const;
  void refuse_start(const OrchestratorMessage& start);
  const OrchestrationFn* resolve_function();
  void run_function(const OrchestrationFn* fn);  // Suspends.
  void finish(Result<std::string> result);
  void finish_failed(ErrorDetails details);
  void notify_parent(MessageKind kind, std::string error_kind, std::string data);
  void continue_as_new();
  void add_output(StepOutput output);

  Shard& shard_;
  const Services& services_;
  std::string id_;

  FiberWakeup wakeup_;  // the fiber sleeps on it while parked
  std::vector<QueuedMessage> inbox_;
  bool unwind_requested_ = false;
  bool unwinding_ = false;
  bool failed_ = false;

  std::unique_ptr<Execution> execution_;
  InstanceRecord row_;
  bool row_dirty_ = false;
  bool row_stored_ = false;         // the row exists in the store (read, or written by this fiber)
  StepOutput step_;                 // produced since the last commit
  std::vector<QueueKey> consumed_;  // handed to the execution since the last commit
  // Woke the instance; handed to the execution at its first wait (if it never waits, they
  // go back to the inbox, for whoever handles the instance next).
  std::vector<QueuedMessage> deliver_first_;
  // Outcomes handed over in memory. In the inbox they stand as messages with a key marked by
  // kResultMark and the serial below; their work items and what to restore are kept here.
  std::map<std::uint64_t, ActivityResult> results_;  // queued, by serial
  std::vector<ActivityResult> results_taken_;        // taken since the last commit
  std::uint64_t result_serial_ = 0;
  // Set while the instance holds the recovery gate: from its count until its step is durable.
  std::optional<RecoveryGate::Mode> in_recovery_gate_;
};

}  // namespace duroxide::engine
