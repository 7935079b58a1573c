// SPDX-License-Identifier: MIT
// Instance: one orchestration instance on its fiber, from load or start to the end or eviction.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <duroxide/provider.hpp>

#include "engine/activity_result.hpp"
#include "engine/execution.hpp"
#include "engine/fiber_stacks.hpp"
#include "engine/fiber_wakeup.hpp"
#include "engine/recovery_gate.hpp"
#include "engine/router.hpp"
#include "engine/services.hpp"
#include "engine/step.hpp"

namespace duroxide::engine {

class Shard;

/// One entry of an instance's inbox: a message leased from the store (its step deletes the
/// message) or an activity's outcome handed over in memory (its step deletes the work item).
using InboxEntry = std::variant<QueuedMessage, ActivityResult>;
using Inbox = std::vector<InboxEntry>;

/// Runs one instance: loads its row and history, replays or starts the execution, runs the
/// user's function, and makes each step durable in one commit (docs/ENGINE.md, sections 1-2).
/// Between steps the fiber stays parked on its inbox, so the next messages resume the code
/// where it waits, without replay.
///
/// Lifetime: `shard`, `services` and `router` outlive the instance; the shard owns it.
/// Thread safety: every method runs on the shard's thread (the fiber or the shard's loop).
class Instance final : public ExecutionHost {
 public:
  Instance(Shard& shard, const Services& services, Router& router, std::string instance_id);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  /// Returns: how many Instance objects (hence fibers) exist in the process; for tests.
  static std::size_t live_count();

  const std::string& id() const { return id_; }
  /// Fiber entry: never throws. Ends by handing the instance back to the shard
  /// (Shard::on_instance_done).
  void run() noexcept;
  /// Queues messages for the instance and wakes it if it waits.
  void deliver(std::vector<QueuedMessage> messages);
  /// Queues an activity's outcome handed over in memory: the step that takes it also deletes
  /// its work item.
  void deliver_result(ActivityResult result);
  /// Takes the outcomes handed over in memory that no durable step recorded (those taken by a
  /// step that did not commit, then those still queued), for the caller to commit.
  std::vector<ActivityResult> take_unrecorded_results();
  /// Asks the fiber to unwind at its next wait (eviction, shutdown).
  void request_unwind();
  /// Returns: the keys of messages the execution took but did not commit.
  const std::vector<QueueKey>& uncommitted_keys() const { return step_.consumed(); }
  /// Takes the messages delivered but not handed to the execution, in delivery order.
  /// Requires: take_unrecorded_results() was called first (no outcome is left queued).
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
  // Loading and the recovery gate. Each suspends.
  void execute();
  bool begin(Inbox& first);
  bool begin_without_row(Inbox& first);
  bool count_recovery(Inbox& first);
  void record_recovery(Inbox& first);
  void fail_poisoned(Inbox& first);
  void load_without_running(Inbox& first);
  std::optional<ErrorDetails> termination(const Inbox& queued) const;
  void end_stopped(Inbox& queued, ErrorDetails details);
  void split_at_request(Inbox& queued);
  void enter_recovery_gate(RecoveryGate::Mode mode, std::uint32_t count, Inbox& held);
  void wait_for_suspects(Inbox& held);
  bool start_new(Inbox& first);
  void leave_recovery_gate();
  void put_back(Inbox& first);
  // Taking messages.
  Inbox take_queued(bool wait, bool evictable = true);  // Suspends.
  std::vector<OrchestratorMessage> hand_over(Inbox queued);
  bool is_foreign_start(const OrchestratorMessage& message) const;
  void refuse_start(const OrchestratorMessage& start);
  // Running and committing.
  const OrchestrationFn* resolve_function();
  void run_function(const OrchestrationFn* fn);           // Suspends.
  void commit_step();                                     // Suspends.
  Result<void, Error> commit_and_wait(WriteBatch batch);  // Suspends.
  void step_durable(Step::Durable durable);
  // Ending. Each suspends but cancel_children and notify_parent.
  void finish(Result<std::string> result);
  void finish_failed(ErrorDetails details);
  void continue_as_new();
  void cancel_children(const std::set<std::string>& unstarted);
  void record_unseen();
  void notify_parent(MessageKind kind, std::string error_kind, std::string data);

  Shard& shard_;
  const Services& services_;
  Router& router_;
  std::string id_;

  FiberWakeup wakeup_;  // the fiber sleeps on it while parked
  Inbox inbox_;         // delivered, in delivery order
  bool unwind_requested_ = false;
  bool unwinding_ = false;
  bool failed_ = false;

  std::unique_ptr<Execution> execution_;
  InstanceRecord row_;
  bool row_stored_ = false;  // the row exists in the store (read, or written by this fiber)
  Step step_;                // produced and consumed since the last commit
  // Woke the instance; handed to the execution at its first wait (if it never waits, they
  // go back to the inbox, for whoever handles the instance next). Delivered before inbox_.
  Inbox deliver_first_;
  // Set while the instance holds the recovery gate: from its count until its step is durable.
  std::optional<RecoveryGate::Mode> in_recovery_gate_;
};

}  // namespace duroxide::engine
