// SPDX-License-Identifier: MIT
// Management values: what Client lists and reports about stored instances, and event kind names.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/status.hpp>

namespace duroxide {

/// One stored instance as the management calls of Client report it (see
/// Client::get_instance_info and Client::list_instances). Thread safety: a plain value type.
struct InstanceInfo {
  std::string instance_id;
  std::string name;
  /// The version the instance runs; empty until the runtime has picked the latest one for an
  /// instance started without a version.
  std::string version;
  OrchestrationStatus::Kind status = OrchestrationStatus::Kind::Running;  ///< never NotFound
  /// Running only: a runtime holds it suspended (OrchestrationStatus::is_suspended).
  bool suspended = false;
  std::uint64_t execution_id = 1;  ///< the current (latest) execution; +1 per continue-as-new
  std::chrono::system_clock::time_point created_at;  ///< when the instance was started
  std::chrono::system_clock::time_point updated_at;  ///< when its row last changed
  std::string parent_id;                             ///< empty for top-level instances
  std::optional<std::string> custom_status;
  std::string output;  ///< Completed only
  ErrorDetails error;  ///< Failed only
  /// Restarts that found work left for the instance and have not seen a step of it complete
  /// (RuntimeOptions::max_attempts bounds them; see there). Above 0 on a Running instance: its
  /// code may have crashed the process.
  std::uint32_t recovery_attempts = 0;
};

/// Which instances Client::list_instances returns, in ascending byte order of their ids.
struct InstanceListQuery {
  /// Only instances with this status (Running, Completed or Failed; NotFound is refused).
  std::optional<OrchestrationStatus::Kind> status;
  std::string id_prefix;        ///< only ids that start with this (empty: all)
  std::string start_after;      ///< paging: pass the previous page's next_start_after
  std::size_t page_size = 100;  ///< at most this many instances per page; at least 1
};

/// One page of Client::list_instances.
struct InstancePage {
  std::vector<InstanceInfo> instances;
  /// The start_after of the next page; nullopt when this is the last page.
  std::optional<std::string> next_start_after;
};

/// Store-wide figures (Client::get_store_stats). Counts are exact once the changes they count
/// are durable. Thread safety: a plain value type.
struct StoreStats {
  std::uint64_t running = 0, completed = 0, failed = 0;
  std::uint64_t suspended = 0;          ///< of the running ones
  std::uint64_t queued_messages = 0;    ///< orchestrator messages, timers included
  std::uint64_t pending_timers = 0;     ///< messages visible only in the future
  std::uint64_t queued_activities = 0;
  std::uint64_t file_bytes = 0;         ///< size of the store file (st_size)
};

/// What Client::start_orchestration does when the instance id is taken.
enum class IfExists {
  Fail,             ///< AlreadyExists (what start_orchestration without options does)
  Ignore,           ///< success, and nothing changes
  ReplaceFinished,  ///< a Completed or Failed instance is deleted (as delete_instance does) and
                    ///< started anew in the same commit; a Running one gives AlreadyExists
};

/// Options of Client::start_orchestration and of each StartRequest.
struct StartOptions {
  std::string version;  ///< empty: the latest registered version
  IfExists if_exists = IfExists::Fail;
};

/// One instance for Client::start_orchestrations to start.
struct StartRequest {
  std::string instance_id;
  std::string name;
  std::string input;
  StartOptions options;
};

/// Returns: the name of an event kind as written in Client::read_history_json, e.g.
/// "ActivityScheduled"; "Unknown" for a value that names no kind.
std::string_view to_string(EventKind kind);

}  // namespace duroxide
