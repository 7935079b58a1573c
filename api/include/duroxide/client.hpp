// SPDX-License-Identifier: MIT
// Client: starts instances, raises events, reads status and manages stored instances.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/limits.hpp>  // kMaxInstanceIdBytes and friends, reachable from here
#include <duroxide/management.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>
#include <duroxide/status.hpp>

namespace duroxide {

/// Talks to a store: each call is one durable write or one read. Works without a runtime in
/// the process (the runtime of another process picks the work up). Cheap to copy.
/// Thread safety: all methods may be called from any thread (not from orchestration code).
class Client {
 public:
  explicit Client(std::shared_ptr<Provider> store) : store_(std::move(store)) {}

  /// Creates instance `instance_id` of the latest registered version of `name`, durably.
  /// Returns: AlreadyExists if the id is taken; InvalidArgument for an empty or oversized id,
  /// name or input.
  Result<void, Error> start_orchestration(std::string_view instance_id, std::string_view name,
                                          std::string input);
  /// Same, pinned to `version`.
  Result<void, Error> start_orchestration_versioned(std::string_view instance_id,
                                                    std::string_view name, std::string_view version,
                                                    std::string input);
  /// Same, with a version (empty: the latest registered) and what to do when the id is taken
  /// (see IfExists). Returns: AlreadyExists for IfExists::Fail and a taken id, and for
  /// IfExists::ReplaceFinished and a Running instance, or a finished one with a running
  /// sub-orchestration (named in the message: ReplaceFinished never deletes a running
  /// instance); success for IfExists::Ignore whenever the store finds the id taken.
  /// ReplaceFinished of a finished instance reads every row to find its sub-orchestrations,
  /// as delete_instance does; the "absent or finished" check is repeated inside the commit.
  Result<void, Error> start_orchestration(std::string_view instance_id, std::string_view name,
                                          std::string input, StartOptions options);
  /// Starts many instances in one commit. Each request is checked on its own, in order, as
  /// start_orchestration with its options would check it; of two requests with one id, the
  /// later one meets the earlier as an existing instance. Returns once the accepted ones are
  /// durable: one result per request, in order.
  std::vector<Result<void, Error>> start_orchestrations(std::vector<StartRequest> requests);
  /// Delivers event `event_name` with `data` to the instance, durably. Events are buffered:
  /// a wait scheduled later still receives it. Returns: NotFound for a missing instance.
  Result<void, Error> raise_event(std::string_view instance_id, std::string_view event_name,
                                  std::string data);
  /// Asks the instance to stop: it ends as Failed with category Application, kind "Cancelled"
  /// and display "canceled: {reason}", at its next wait; activities it has running see
  /// ActivityContext::is_cancelled() turn true and their results are dropped. Cancelling a
  /// finished instance does nothing. Returns: NotFound for a missing instance.
  Result<void, Error> cancel_instance(std::string_view instance_id, std::string reason);

  // Operating instances. Each sends a request that a runtime (of any process) takes in the
  // order requests were made; each is durable and shows in the instance's history with its
  // reason. NotFound for a missing instance.

  /// Holds the instance: once a runtime has taken the request, its code runs no more until
  /// resume_instance. What arrives meanwhile (events, activity results, fired timers, child
  /// results) is recorded in its history, in order, and delivered after the resume; activities
  /// already running finish. The status stays Running, with is_suspended() true from when a
  /// runtime took the request until it took the resume. A cancel takes effect after the
  /// resume; terminate and delete work on a suspended instance. Suspending a finished instance
  /// changes nothing and succeeds. Everything queued for the instance after this returns is
  /// held; the one exception is an activity result that a runtime hands to the instance in
  /// memory in the moment before its dispatcher has fetched the request (docs/ENGINE.md,
  /// section 5): the code may see that one result first.
  Result<void, Error> suspend_instance(std::string_view instance_id, std::string reason);
  /// Ends a suspension (see suspend_instance): the held messages are delivered in the order
  /// they arrived. Resuming an instance that is not suspended changes nothing and succeeds.
  Result<void, Error> resume_instance(std::string_view instance_id, std::string reason);
  /// Ends the instance without running its code again: Failed, category Application, kind
  /// "Terminated", display "terminated: {reason}". Its running children are terminated with
  /// the reason "parent terminated"; its running activities see is_cancelled(). Terminating a
  /// finished instance changes nothing and succeeds.
  Result<void, Error> terminate_instance(std::string_view instance_id, std::string reason);
  /// Runs a Failed instance (any failure kind) again; it is Running when this returns.
  /// Activities and children that completed successfully are not run again (their recorded
  /// results are reused); the calls that failed, and what the code did after them, run again
  /// under the code registered now; a failure with no failed call (a panic, a divergence, a
  /// cancel) runs the code again from its last recorded result. Failed children that the
  /// instance still waits for are rewound first. History stays append-only: the failed
  /// attempt stays readable, followed by an ExecutionRewound event that sets it aside.
  /// Returns: InvalidArgument for an instance that is not Failed.
  Result<void, Error> rewind_instance(std::string_view instance_id, std::string reason);

  /// Returns: the figures of the whole store (see StoreStats), without scanning its instances.
  Result<StoreStats, Error> get_store_stats();

  /// Returns: the instance's status (Kind::NotFound if there is none).
  Result<OrchestrationStatus, Error> get_orchestration_status(std::string_view instance_id);
  /// Blocks until the instance completes or fails, or `timeout` passes (error Timeout).
  /// Returns: NotFound if the instance does not exist.
  Result<OrchestrationStatus, Error> wait_for_orchestration(std::string_view instance_id,
                                                            std::chrono::milliseconds timeout);

  // Management: inspecting and removing stored instances. These use only Provider reads and
  // commits, so they work while a runtime runs, and from a program without a runtime.

  /// Returns: one page of the instances matching `query`, in ascending byte order of their ids.
  /// Pass next_start_after as the next query's start_after to read the following page.
  /// InvalidArgument for a page_size of 0, a status of NotFound, or an id_prefix or start_after
  /// longer than kMaxInstanceIdBytes.
  Result<InstancePage, Error> list_instances(const InstanceListQuery& query = {});
  /// Returns: what the store holds about the instance; NotFound if there is none.
  Result<InstanceInfo, Error> get_instance_info(std::string_view instance_id);
  /// Returns: the ids of the instance's executions that have history, ascending (1, 2, ... one
  /// per continue-as-new; empty until the runtime has begun the first). NotFound if the
  /// instance does not exist.
  Result<std::vector<std::uint64_t>, Error> list_executions(std::string_view instance_id);
  /// Returns: the history of one execution in event order. NotFound if the instance does not
  /// exist or that execution has no history.
  Result<std::vector<HistoryEvent>, Error> read_history(std::string_view instance_id,
                                                        std::uint64_t execution_id);
  /// Returns: the same history as a JSON array with one object per event, e.g.
  /// `[{"event_id":1,"kind":"OrchestrationStarted","timestamp":1700000000000,"name":"Hello",
  /// "version":"1.0.0","input":"Ada"}, ...]`. Each object has "event_id" and "kind" (the name
  /// to_string(EventKind) gives), "timestamp" (ms since the Unix epoch) when the event records
  /// one, and the fields that kind uses:
  ///   OrchestrationStarted                  name, version, input
  ///   TurnStarted                           -
  ///   ActivityScheduled                     name, input
  ///   ActivityCompleted                     source_id, output
  ///   ActivityFailed                        source_id, error
  ///   TimerCreated                          fire_at (ms; instead of timestamp)
  ///   TimerFired                            source_id
  ///   EventSubscribed                       name
  ///   EventRaised                           name, data
  ///   OrchestrationCompleted                output
  ///   OrchestrationFailed                   category, error_kind, message
  ///   OrchestrationContinuedAsNew           input
  ///   SubOrchestrationScheduled             name, instance_id, input
  ///   SubOrchestrationCompleted             source_id, output
  ///   SubOrchestrationFailed                source_id, error_kind, message
  ///   OrchestrationScheduled                name, instance_id, input
  ///   CancelRequested                       source_id, reason
  ///   ExecutionSuspended                    reason
  ///   ExecutionResumed                      reason
  ///   ActivityAbandoned                     source_id, error_kind, message
  ///   ExecutionRewound                      source_id, reason
  /// source_id is the event_id of the scheduling event (CancelRequested with source_id 0: a
  /// cancel of the instance held while it was suspended; ExecutionRewound: the first event of
  /// the failed attempt it sets aside); category is "application" etc.
  /// Numbers are JSON integers; payloads are JSON strings (not parsed), with `"` `\` and
  /// control characters escaped (\n \t \r \b \f, others and DEL as \u00XX). Payloads are
  /// bytes: each byte that does not begin a well-formed UTF-8 sequence is replaced by U+FFFD
  /// (written \ufffd), so the text is always valid UTF-8 and valid JSON.
  /// Errors: as read_history.
  Result<std::string, Error> read_history_json(std::string_view instance_id,
                                               std::uint64_t execution_id);
  /// Removes the instance with its sub-orchestrations (the instances whose parent_id is it,
  /// recursively), their histories and their queued work (events, timers, activities), in one
  /// commit. Reads every instance row once to find the children.
  /// Returns: how many instances were removed. NotFound if the instance does not exist.
  /// InvalidArgument naming the instance if it or one of its children is Running and `force`
  /// is false; then nothing is deleted. With `force`, running instances are removed too: a
  /// runtime that has one in memory drops its next step, and later raise_event and
  /// get_orchestration_status calls see NotFound.
  Result<std::size_t, Error> delete_instance(std::string_view instance_id, bool force = false);
  /// Deletes every finished (Completed or Failed) top-level instance whose row last changed
  /// before `finished_before`, with its sub-orchestrations. An instance with a Running
  /// sub-orchestration (at any depth) is kept whole. A sub-orchestration whose parent is gone
  /// counts as top-level. Reads every instance row once; commits in batches, so on an error
  /// the instances of the earlier batches are already gone.
  /// Returns: how many instances were removed.
  Result<std::size_t, Error> purge_instances(std::chrono::system_clock::time_point finished_before);
  /// Deletes the history of every execution of the instance before its current one (what
  /// continue_as_new leaves behind), running or not; the current execution is untouched.
  /// Returns: how many executions were deleted. NotFound if the instance does not exist.
  Result<std::size_t, Error> purge_executions(std::string_view instance_id);

  const std::shared_ptr<Provider>& store() const { return store_; }

 private:
  std::shared_ptr<Provider> store_;
};

}  // namespace duroxide
