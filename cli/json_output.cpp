// SPDX-License-Identifier: MIT
// The JSON the command writes with --json (docs/CLI.md is its specification).
#include "cli/json_output.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include "cli/text.hpp"

namespace duroxide::cli {
namespace {

std::int64_t epoch_ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

Json text_or_null(std::string_view text) { return text.empty() ? Json(nullptr) : json_text(text); }

}  // namespace

std::string_view status_name(OrchestrationStatus::Kind kind) {
  switch (kind) {
    case OrchestrationStatus::Kind::Running:
      return "Running";
    case OrchestrationStatus::Kind::Completed:
      return "Completed";
    case OrchestrationStatus::Kind::Failed:
      return "Failed";
    case OrchestrationStatus::Kind::NotFound:
      break;
  }
  return "NotFound";
}

Json json_text(std::string_view text) { return valid_utf8(text); }

Json instance_json(const InstanceInfo& info) {
  using Kind = OrchestrationStatus::Kind;
  Json out = Json::object();
  out["instance_id"] = json_text(info.instance_id);
  out["name"] = json_text(info.name);
  out["version"] = text_or_null(info.version);
  out["status"] = std::string(status_name(info.status));
  out["suspended"] = info.status == Kind::Running && info.suspended;
  out["execution_id"] = info.execution_id;
  out["custom_status"] = info.custom_status ? json_text(*info.custom_status) : nullptr;
  out["output"] = info.status == Kind::Completed ? json_text(info.output) : nullptr;
  if (info.status == Kind::Failed) {
    out["error"] = {{"category", std::string(to_string(info.error.category()))},
                    {"kind", json_text(info.error.kind())},
                    {"message", json_text(info.error.message())}};
  } else {
    out["error"] = nullptr;
  }
  out["parent_id"] = text_or_null(info.parent_id);
  out["created_at"] = epoch_ms(info.created_at);
  out["updated_at"] = epoch_ms(info.updated_at);
  return out;
}

Json stats_json(const StoreStats& stats) {
  return {{"running", stats.running},
          {"completed", stats.completed},
          {"failed", stats.failed},
          {"suspended", stats.suspended},
          {"queued_messages", stats.queued_messages},
          {"pending_timers", stats.pending_timers},
          {"queued_activities", stats.queued_activities},
          {"file_bytes", stats.file_bytes}};
}

void print_json(const Json& value) {
  // Every string went through json_text; `replace` only guards against a slip.
  std::string text = value.dump(2, ' ', false, Json::error_handler_t::replace);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stdout);
}

}  // namespace duroxide::cli
