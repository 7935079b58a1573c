// SPDX-License-Identifier: MIT
// Integrity check of a whole LMDB store: every record decodes and the records agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/lmdb_provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide {

/// One thing wrong with a store.
struct StoreProblem {
  /// The record or group of records, e.g. "history of 'order-1' execution 2, event 7",
  /// "row of 'order-1'", "orchestrator_queue seq 17", "meta 'next_seq'", "sub-database
  /// 'history'". Bytes of an instance id that are not printable ASCII are written as \xNN.
  std::string where;
  /// What is wrong, in words: "does not decode: Corruption: checksum mismatch ...".
  std::string what;

  friend bool operator==(const StoreProblem&, const StoreProblem&) = default;
};

/// What a check found. A plain value type.
struct StoreCheckReport {
  /// Every entry read from the five sub-databases (meta included), whether it decoded or not.
  std::uint64_t records_read = 0;
  /// Entries of `instances` (rows), of `history` (events), of `orchestrator_queue` and of
  /// `worker_queue`, decodable or not.
  std::uint64_t instances = 0;
  std::uint64_t history_events = 0;
  std::uint64_t queued_messages = 0;
  std::uint64_t queued_activities = 0;
  /// All problems found; `problems` holds the first StoreCheckOptions::max_problems of them,
  /// in the order found (meta, rows, queues, then histories in key order, then rows without
  /// history).
  std::uint64_t problem_count = 0;
  std::vector<StoreProblem> problems;

  bool ok() const { return problem_count == 0; }

  friend bool operator==(const StoreCheckReport&, const StoreCheckReport&) = default;
};

struct StoreCheckOptions {
  /// Most problems kept in StoreCheckReport::problems (all are counted).
  std::size_t max_problems = 1000;
};

/// Checks every record of an open store.
///
/// What is checked (format in storage/FORMAT.md):
/// - meta: `magic`, `format_version` (this build's) and `next_seq` (8 bytes) are present and
///   well-formed, and `next_seq` is above the seq of every queued message and activity.
/// - every record of every sub-database decodes with the strict decoders (checksum first),
///   its key decodes, a row's instance_id equals its key and an event's id equals the last 8
///   bytes of its key.
/// - each execution's history: event ids dense from 1; the first event is
///   OrchestrationStarted; a completion names an earlier event of the kind that schedules it
///   (ActivityCompleted, ActivityFailed, ActivityAbandoned: ActivityScheduled; TimerFired:
///   TimerCreated; SubOrchestrationCompleted, SubOrchestrationFailed:
///   SubOrchestrationScheduled; CancelRequested: ActivityScheduled or
///   SubOrchestrationScheduled, or source_id 0); at most one terminal event
///   (OrchestrationCompleted, OrchestrationFailed, OrchestrationContinuedAsNew) in effect and
///   nothing after it, except that an OrchestrationFailed may be followed at once by an
///   ExecutionRewound whose source_id is above 1 and at most the failure's id: the events
///   from source_id through the rewind are set aside and the history goes on (and may end
///   again with one terminal event); ExecutionSuspended and ExecutionResumed alternate,
///   starting with a suspension, across rewinds. An execution with an event that does not
///   decode is checked for density only.
/// - queued messages and activities name instances that have a row; a work item whose
///   execution has history names an ActivityScheduled event of it (id = activity_id, same
///   name). A message for an instance deleted meanwhile (a child's result for a deleted
///   parent) is reported too, although the runtime drops such messages harmlessly.
/// - rows agree with their histories: no history above the row's execution_id; an earlier
///   execution with history ends with OrchestrationContinuedAsNew; for the current one, a
///   Completed row has OrchestrationCompleted as its terminal event in effect, with the row's
///   output as data; a Failed row has OrchestrationFailed, named by the row's error kind; a
///   Running row has no terminal event in effect and, if the execution has no history yet, a
///   StartOrchestration for the instance (execution 0 or the current one) is queued; a
///   Running row is suspended exactly when the execution's last ExecutionSuspended or
///   ExecutionResumed is a suspension; a finished row is not suspended; history without a row
///   is reported.
///
/// Runs in one read transaction (a consistent snapshot), beside a live runtime of this or
/// another process: readers never block LMDB's writer. Two costs of a long check: pages freed
/// meanwhile are not reused until it ends (the file may grow), and a commit of this process
/// that must grow the map waits for it to end (LMDB resizes only with no txn open).
/// Memory: the rows and queued records are held, histories one execution at a time.
/// LMDB does not checksum its pages: a file whose B-tree itself is damaged can crash the
/// reading process; check a file that may be damaged with check_store_file.
/// Returns: the report; Corruption or IOError only if the store cannot be read at all (no
/// read txn); InvalidArgument if `store` is not the LMDB provider of this library.
/// Thread safety: any thread; blocks (never suspends a fiber); not for an orchestration fiber.
Result<StoreCheckReport, Error> check_store(LmdbProvider& store, StoreCheckOptions options = {});

/// Checks the store file at `path` as check_store does, in a child process (fork) that opens
/// it read-only, so that a damaged file can never kill the caller by a signal: a child that
/// dies reading it gives a report with the problem "reading the store crashed (SIGSEGV): its
/// LMDB structure is damaged" (where: the sub-database it was reading). The child sends its
/// report over a pipe and exits; the file is not modified (LMDB's `<path>-lock` is created if
/// missing, as by any reader). The file may be open in this process or another (a live
/// runtime). A healthy store gives the same report as check_store.
/// Returns: NotFound if there is no file at `path` (nothing is created); Incompatible for a
/// file that is not a duroxide store (not LMDB, no `meta`, another magic) or of another
/// format version; a report with problems for a store that does not open as Corruption
/// (truncated, a sub-database or meta key missing or malformed); IOError if the file cannot
/// be opened or the child not started; Internal if the child ends without a report and
/// without a signal.
/// Thread safety: any thread; blocks until the child ends. The child runs only this check
/// (it calls no atexit handlers); a crashed child may leave a stale LMDB reader slot, which
/// the next open of the store clears.
Result<StoreCheckReport, Error> check_store_file(const std::string& path,
                                                 StoreCheckOptions options = {});

}  // namespace duroxide
