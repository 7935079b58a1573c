// SPDX-License-Identifier: MIT
// Provider: the storage interface the runtime and the client use, and the records it stores.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/result.hpp>

namespace duroxide {

struct StoreStats;  // <duroxide/management.hpp>

/// Milliseconds since the Unix epoch; the unit of every durable timestamp.
using TimestampMs = std::int64_t;

/// What a history event records. Values are stored on disk: append only, never renumber.
enum class EventKind : std::uint8_t {
  OrchestrationStarted = 1,     ///< name, version, data = input, timestamp = start; opens turn 1
  TurnStarted = 2,              ///< timestamp = the turn's utc_now(); opens every later turn
  ActivityScheduled = 3,        ///< name, data = input
  ActivityCompleted = 4,        ///< source_id, data = output
  ActivityFailed = 5,           ///< source_id, data = error message
  TimerCreated = 6,             ///< timestamp = when it fires
  TimerFired = 7,               ///< source_id
  EventSubscribed = 8,          ///< name: a schedule_wait(name) call
  EventRaised = 9,              ///< name, data
  OrchestrationCompleted = 10,  ///< data = output
  OrchestrationFailed = 11,     ///< category, name = kind, data = message
  OrchestrationContinuedAsNew = 12,  ///< data = the input of the next execution
  SubOrchestrationScheduled = 13,    ///< name, instance = the child's id, data = input
  SubOrchestrationCompleted = 14,    ///< source_id, data = the child's output
  SubOrchestrationFailed = 15,       ///< source_id, name = kind, data = the child's display message
  OrchestrationScheduled = 16,       ///< a detached start: name, instance, data = input
  CancelRequested = 17,  ///< source_id = a dropped activity or child, data = reason; source_id 0:
                         ///< a cancel of the instance that arrived while it was suspended
  ExecutionSuspended = 18,  ///< data = reason; what arrives from here on is held (not applied)
  ExecutionResumed = 19,    ///< data = reason; opens a turn: the held events apply, in order
  ActivityAbandoned = 20,   ///< source_id, name = the error kind, data = why: the activity
                            ///< will not run; recorded only while suspended (it is held)
  /// source_id = the first event it sets aside, data = reason. The events from source_id up to
  /// and including this one no longer count: replay skips them (the failed attempt stays
  /// readable). Written by Client::rewind_instance after the OrchestrationFailed it undoes.
  ExecutionRewound = 21,
};

/// One entry of an execution's history. Event ids are dense from 1 within an execution.
struct HistoryEvent {
  std::uint64_t event_id = 0;
  EventKind kind = EventKind::TurnStarted;
  std::uint64_t source_id = 0;  ///< completions: event_id of the scheduling event
  TimestampMs timestamp = 0;
  ErrorCategory category = ErrorCategory::Application;  ///< OrchestrationFailed only
  std::string name;
  std::string version;  ///< OrchestrationStarted only
  std::string data;
  std::string instance;  ///< SubOrchestrationScheduled, OrchestrationScheduled: the started id

  friend bool operator==(const HistoryEvent&, const HistoryEvent&) = default;
};

/// What an orchestrator message asks of an instance. Stored on disk: append only.
enum class MessageKind : std::uint8_t {
  StartOrchestration = 1,         ///< name, version, data = input
  ActivityCompleted = 2,          ///< source_id, data = output
  ActivityFailed = 3,             ///< source_id, data = error message
  TimerFired = 4,                 ///< source_id
  ExternalEvent = 5,              ///< name, data
  CancelRequested = 6,            ///< data = the reason
  SubOrchestrationCompleted = 7,  ///< source_id, data = the child's output
  SubOrchestrationFailed = 8,     ///< source_id, name = kind, data = the child's display message
  ActivityAbandoned = 9,          ///< source_id: the activity will not run; name = the error kind
                          ///< ("Poison", "UnregisteredActivity"), data = why; fails the instance
  SuspendRequested = 10,    ///< data = the reason (Client::suspend_instance)
  ResumeRequested = 11,     ///< data = the reason (Client::resume_instance)
  TerminateRequested = 12,  ///< data = the reason (Client::terminate_instance, a parent's end)
  /// data = the reason: wakes an instance that Client::rewind_instance made Running again, so
  /// that its code runs from the last recorded result. It adds nothing to history.
  RewindRequested = 13,
};

/// A message for one instance, visible to the dispatcher from `visible_at` on.
struct OrchestratorMessage {
  std::string instance_id;
  std::uint64_t execution_id = 0;  ///< 0: whatever execution is current (client messages)
  MessageKind kind = MessageKind::ExternalEvent;
  std::uint64_t source_id = 0;
  TimestampMs visible_at = 0;
  std::string name;
  std::string version;
  std::string data;
  /// StartOrchestration of a sub-orchestration: the parent, whose event `source_id` of
  /// execution `parent_execution_id` scheduled it. Empty for top-level starts.
  std::string parent_id;
  std::uint64_t parent_execution_id = 0;

  friend bool operator==(const OrchestratorMessage&, const OrchestratorMessage&) = default;
};

/// An activity to run on a worker.
struct ActivityWorkItem {
  std::string instance_id;
  std::uint64_t execution_id = 0;
  std::string orchestration_name;
  std::uint64_t activity_id = 0;  ///< event_id of the ActivityScheduled event
  std::string name;
  std::string input;
  /// 1 on first delivery; a provider raises it each time it hands out the item again.
  std::uint32_t attempt = 1;

  friend bool operator==(const ActivityWorkItem&, const ActivityWorkItem&) = default;
};

/// Lifecycle of an instance as stored in its row.
enum class InstanceState : std::uint8_t { Running = 1, Completed = 2, Failed = 3 };

/// The row of one instance: what status queries read.
struct InstanceRecord {
  std::string instance_id;
  std::string name;
  std::string version;
  InstanceState state = InstanceState::Running;
  std::uint64_t execution_id = 1;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  std::string output;  ///< Completed: the output
  ErrorDetails error;  ///< Failed: why
  std::optional<std::string> custom_status;
  std::string parent_id;                  ///< empty for top-level instances
  std::uint64_t parent_execution_id = 0;  ///< the parent's execution that scheduled this child
  std::uint64_t parent_event_id = 0;      ///< the parent's SubOrchestrationScheduled event
  /// How often a runtime began to run this instance on messages queued before it started
  /// (left behind by a crash, or by a stop) since the instance last completed a step. Each
  /// such start is made durable before the code runs, so code that crashes the process counts
  /// too; above RuntimeOptions::max_attempts the instance fails as Poison instead of running.
  std::uint32_t recovery_attempts = 0;
  /// Running instances only: a runtime took a suspend request (its history holds an
  /// ExecutionSuspended with no ExecutionResumed after it). Its code runs no more until resumed.
  bool suspended = false;

  friend bool operator==(const InstanceRecord& a, const InstanceRecord& b) {
    return a.instance_id == b.instance_id && a.name == b.name && a.version == b.version &&
           a.state == b.state && a.execution_id == b.execution_id && a.created_at == b.created_at &&
           a.updated_at == b.updated_at && a.output == b.output &&
           a.error.category() == b.error.category() && a.error.kind() == b.error.kind() &&
           a.error.message() == b.error.message() && a.custom_status == b.custom_status &&
           a.parent_id == b.parent_id && a.parent_execution_id == b.parent_execution_id &&
           a.parent_event_id == b.parent_event_id && a.recovery_attempts == b.recovery_attempts &&
           a.suspended == b.suspended;
  }
};

/// Position of a queued record: ordered by visibility time, then by a store-wide sequence.
struct QueueKey {
  TimestampMs visible_at = 0;
  std::uint64_t seq = 0;
  friend auto operator<=>(const QueueKey&, const QueueKey&) = default;
};

struct QueuedMessage {
  QueueKey key;
  OrchestratorMessage message;
};

struct QueuedActivity {
  QueueKey key;
  ActivityWorkItem item;
};

/// Everything one step changes, applied atomically: all of it or none of it.
struct WriteBatch {
  /// Checked inside the commit against `instance_id`; a failed check fails only this batch.
  enum class Precondition {
    None,
    InstanceAbsent,   ///< fails with AlreadyExists if the row exists
    InstancePresent,  ///< fails with NotFound if the row does not exist
    /// fails with AlreadyExists if the row exists and is Running (a replacing start: absent,
    /// Completed and Failed pass)
    InstanceAbsentOrFinished,
  };
  std::string instance_id;
  Precondition precondition = Precondition::None;
  std::optional<InstanceRecord> instance;  ///< row to write (replaces the old one)
  std::uint64_t execution_id = 0;          ///< execution that `history` belongs to
  std::vector<HistoryEvent> history;  ///< appended; an event id already present fails the batch
  std::vector<QueueKey> consumed_messages;    ///< removed from the orchestrator queue
  std::vector<QueueKey> consumed_activities;  ///< removed from the worker queue
  std::vector<OrchestratorMessage> messages;  ///< enqueued at their visible_at
  std::vector<ActivityWorkItem> activities;   ///< enqueued, visible at once
  /// Rewrites the stored `attempt` of queued activities (a worker records that a delivery
  /// started, so a crash during it still counts). A record that is gone is skipped.
  std::vector<std::pair<QueueKey, std::uint32_t>> activity_attempts;
  /// Instances removed whole: the row, the history of every execution, and the queued
  /// messages and activities addressed to them (their leases end as if consumed). An id
  /// without a row is skipped. The precondition is checked before anything is deleted.
  /// Deletions are applied before everything the batch writes, so a batch may delete its own
  /// `instance_id` and write it again (row, history, messages and activities addressed to
  /// it): the instance is replaced, and its history checked against nothing. A batch must
  /// not delete any other instance and write to it (its row or history, or messages or
  /// activities addressed to it): such a batch fails with InvalidArgument. Consuming or
  /// rewriting records that a deletion removes is harmless.
  std::vector<std::string> deleted_instances;
  /// Rows of instances this step starts (children, detached starts), written only where no
  /// row exists: an id already in use keeps its row untouched.
  std::vector<InstanceRecord> created_instances;
  /// (instance, execution): deletes the history of that instance's executions before this
  /// one (old executions of an instance that continued as new). Missing ones are skipped.
  std::vector<std::pair<std::string, std::uint64_t>> purged_executions;

  bool empty() const {
    return !instance && history.empty() && consumed_messages.empty() &&
           consumed_activities.empty() && messages.empty() && activities.empty() &&
           activity_attempts.empty() && deleted_instances.empty() && created_instances.empty() &&
           purged_executions.empty();
  }
};

/// What a commit (of this process or, when detected, of another) may have made available.
struct ChangeNotice {
  bool messages = false;    ///< orchestrator messages were enqueued
  bool activities = false;  ///< activities were enqueued (or leases released)
  std::optional<TimestampMs> earliest_visible_at;  ///< earliest visible_at among new messages
  bool instances = false;  ///< instance rows were written (a status may have changed)
  bool foreign = false;    ///< another process changed the store: anything may have changed
};

/// Which instance rows list_instances returns: ids in ascending byte order.
struct InstanceQuery {
  std::optional<InstanceState> state;  ///< only instances in this state
  std::string id_prefix;               ///< only ids that start with this
  std::string start_after;             ///< paging: only ids greater than this one
  std::size_t limit = 100;             ///< at most this many rows (0: no limit)
};

/// Storage of instances, histories and queues. Implemented by LmdbProvider; a user may
/// implement it for another store.
///
/// Thread safety: every method may be called from any thread at any time. No method suspends
/// a fiber; reads and fetches block the calling thread briefly, commits are asynchronous.
///
/// Leases: fetch_messages/fetch_activities hand out records under an in-memory lease held by
/// the dispatching runtime of this process (see claim_dispatch). A leased record is not handed
/// out again until it is consumed by a commit, released, or (activities) its lease expires.
class Provider {
 public:
  using CommitCallback = std::function<void(Result<void, Error>)>;
  using ChangeListener = std::function<void(const ChangeNotice&)>;

  virtual ~Provider() = default;

  /// Queues `batch` for the next group commit. `done` is called exactly once, from the
  /// provider's writer thread, after the batch is durable (or has failed). It must not block.
  virtual void commit(WriteBatch batch, CommitCallback done) = 0;

  /// Commits `batch` and blocks the calling thread until it is durable.
  /// Not for fiber threads: an orchestration fiber waits through commit() and a fiber future.
  Result<void, Error> commit_sync(WriteBatch batch);

  using GroupCallback = std::function<void(std::vector<Result<void, Error>>)>;
  /// Commits `batches` together: applied in order, each checked on its own (a precondition
  /// or history check that fails fails only that batch, and a later batch sees what the
  /// earlier ones wrote). `done` is called exactly once, after every batch is durable or has
  /// failed, with one result per batch in order; it must not block. A provider that can
  /// should make them one atomic write (LmdbProvider: one transaction, one fsync, unless an
  /// I/O failure of the shared transaction makes it redo the batches one by one to find the
  /// culprit); the default commits each batch through commit() and so promises no more than
  /// each batch's own atomicity.
  virtual void commit_group(std::vector<WriteBatch> batches, GroupCallback done);
  /// commit_group, blocking the calling thread until every batch is durable or has failed.
  /// Not for fiber threads.
  std::vector<Result<void, Error>> commit_group_sync(std::vector<WriteBatch> batches);

  /// Returns: the store-wide figures (see StoreStats), pending_timers counted against `now`.
  /// The default reads every instance row page by page, reports no queued records (it cannot
  /// count queues through this interface) and a file size of 0; a provider that keeps counts
  /// should override it (LmdbProvider answers without scanning instances).
  virtual Result<StoreStats, Error> store_stats(TimestampMs now);

  /// Returns: the instance row, or NotFound.
  virtual Result<InstanceRecord, Error> read_instance(const std::string& instance_id) = 0;

  /// Returns: the history of one execution in event id order (empty if there is none).
  virtual Result<std::vector<HistoryEvent>, Error> read_history(const std::string& instance_id,
                                                                std::uint64_t execution_id) = 0;

  /// Returns: the rows matching `query`, in id order.
  virtual Result<std::vector<InstanceRecord>, Error> list_instances(const InstanceQuery& query) = 0;
  /// Returns: the ids of the executions of an instance with history in the store, ascending
  /// (empty if there is none).
  virtual Result<std::vector<std::uint64_t>, Error> list_executions(
      const std::string& instance_id) = 0;

  /// Leases up to `max` unleased orchestrator messages visible at `now`, in queue order.
  virtual Result<std::vector<QueuedMessage>, Error> fetch_messages(TimestampMs now,
                                                                   std::size_t max) = 0;
  /// Returns leased messages to the queue unconsumed.
  virtual void release_messages(const std::vector<QueueKey>& keys) = 0;
  /// Returns: the earliest visible_at of an unleased orchestrator message, if any.
  virtual std::optional<TimestampMs> next_message_due() = 0;

  /// Leases up to `max` unleased activities until `now + lease`; an expired lease makes the
  /// item available again with `attempt` one higher. The first hand-out in a claim gives the
  /// stored attempt; a later one gives max(stored, first + hand-outs so far), so that a stored
  /// attempt raised through WriteBatch::activity_attempts is not counted twice.
  virtual Result<std::vector<QueuedActivity>, Error> fetch_activities(
      TimestampMs now, std::size_t max, std::chrono::milliseconds lease) = 0;
  /// Returns leased activities to the queue unconsumed; the hand-out counts as an attempt.
  virtual void release_activities(const std::vector<QueueKey>& keys) = 0;
  /// Returns leased activities to the queue as though this hand-out had not happened: it does
  /// not count as an attempt. For activities the caller did not start (their start could not
  /// be recorded, they wait for a registration, or the runtime stops before running them).
  virtual void return_activities(const std::vector<QueueKey>& keys) = 0;

  /// Returns: a number above the seq of every record queued so far; records queued later get
  /// it or more. A runtime takes it at start to tell messages left from before it.
  virtual Result<std::uint64_t, Error> next_queue_seq() = 0;

  /// Makes the caller the one dispatching runtime of this store. Returns Busy if another
  /// runtime (of this process or another) holds it. Leases are only handed out to the claimant.
  virtual Result<void, Error> claim_dispatch() = 0;
  /// Gives the claim up and drops every lease, so the records are handed out again, with their
  /// stored attempts (as to a runtime of a new process).
  virtual void release_dispatch() = 0;

  /// Registers `listener`, called on the writer thread after commits (it must not block).
  /// Returns: a token for unsubscribe.
  virtual std::uint64_t subscribe(ChangeListener listener) = 0;
  virtual void unsubscribe(std::uint64_t token) = 0;
};

}  // namespace duroxide
