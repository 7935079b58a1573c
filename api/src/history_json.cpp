// SPDX-License-Identifier: MIT
// Event kind names and the JSON rendering of a history.
#include "api/src/history_json.hpp"

#include <cstdint>

#include <duroxide/management.hpp>

namespace duroxide {

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::OrchestrationStarted:
      return "OrchestrationStarted";
    case EventKind::TurnStarted:
      return "TurnStarted";
    case EventKind::ActivityScheduled:
      return "ActivityScheduled";
    case EventKind::ActivityCompleted:
      return "ActivityCompleted";
    case EventKind::ActivityFailed:
      return "ActivityFailed";
    case EventKind::TimerCreated:
      return "TimerCreated";
    case EventKind::TimerFired:
      return "TimerFired";
    case EventKind::EventSubscribed:
      return "EventSubscribed";
    case EventKind::EventRaised:
      return "EventRaised";
    case EventKind::OrchestrationCompleted:
      return "OrchestrationCompleted";
    case EventKind::OrchestrationFailed:
      return "OrchestrationFailed";
    case EventKind::OrchestrationContinuedAsNew:
      return "OrchestrationContinuedAsNew";
    case EventKind::SubOrchestrationScheduled:
      return "SubOrchestrationScheduled";
    case EventKind::SubOrchestrationCompleted:
      return "SubOrchestrationCompleted";
    case EventKind::SubOrchestrationFailed:
      return "SubOrchestrationFailed";
    case EventKind::OrchestrationScheduled:
      return "OrchestrationScheduled";
    case EventKind::CancelRequested:
      return "CancelRequested";
    case EventKind::ExecutionSuspended:
      return "ExecutionSuspended";
    case EventKind::ExecutionResumed:
      return "ExecutionResumed";
    case EventKind::ActivityAbandoned:
      return "ActivityAbandoned";
    case EventKind::ExecutionRewound:
      return "ExecutionRewound";
  }
  return "Unknown";
}

namespace detail {
namespace {

constexpr char kHex[] = "0123456789abcdef";

/// Returns: the length of the well-formed UTF-8 sequence at the start of `text`, or 0
/// (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t size = 0;
  unsigned char low = 0x80;  // range of the second byte
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    size = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    size = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    size = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < size || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < size; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return size;
}

void append_escaped_ascii(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (c < 0x20 || c == 0x7f) {
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
    return;
  }
  out += static_cast<char>(c);
}

/// Appends `"key":` after a comma.
void key(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

void field(std::string& out, std::string_view name, std::string_view value) {
  key(out, name);
  append_json_string(out, value);
}

void field(std::string& out, std::string_view name, std::uint64_t value) {
  key(out, name);
  out += std::to_string(value);
}

void time_field(std::string& out, std::string_view name, TimestampMs value) {
  key(out, name);
  out += std::to_string(value);
}

// The fields each kind uses; see Client::read_history_json.
void kind_fields(std::string& out, const HistoryEvent& e) {
  switch (e.kind) {
    case EventKind::OrchestrationStarted:
      field(out, "name", e.name);
      field(out, "version", e.version);
      field(out, "input", e.data);
      return;
    case EventKind::ActivityScheduled:
      field(out, "name", e.name);
      field(out, "input", e.data);
      return;
    case EventKind::ActivityCompleted:
    case EventKind::SubOrchestrationCompleted:
      field(out, "source_id", e.source_id);
      field(out, "output", e.data);
      return;
    case EventKind::ActivityFailed:
      field(out, "source_id", e.source_id);
      field(out, "error", e.data);
      return;
    case EventKind::TimerFired:
      field(out, "source_id", e.source_id);
      return;
    case EventKind::EventSubscribed:
      field(out, "name", e.name);
      return;
    case EventKind::EventRaised:
      field(out, "name", e.name);
      field(out, "data", e.data);
      return;
    case EventKind::OrchestrationCompleted:
      field(out, "output", e.data);
      return;
    case EventKind::OrchestrationFailed:
      field(out, "category", to_string(e.category));
      field(out, "error_kind", e.name);
      field(out, "message", e.data);
      return;
    case EventKind::OrchestrationContinuedAsNew:
      field(out, "input", e.data);
      return;
    case EventKind::SubOrchestrationScheduled:
    case EventKind::OrchestrationScheduled:
      field(out, "name", e.name);
      field(out, "instance_id", e.instance);
      field(out, "input", e.data);
      return;
    case EventKind::SubOrchestrationFailed:
      field(out, "source_id", e.source_id);
      field(out, "error_kind", e.name);
      field(out, "message", e.data);
      return;
    case EventKind::CancelRequested:
    case EventKind::ExecutionRewound:
      field(out, "source_id", e.source_id);
      field(out, "reason", e.data);
      return;
    case EventKind::ExecutionSuspended:
    case EventKind::ExecutionResumed:
      field(out, "reason", e.data);
      return;
    case EventKind::ActivityAbandoned:
      field(out, "source_id", e.source_id);
      field(out, "error_kind", e.name);
      field(out, "message", e.data);
      return;
    case EventKind::TurnStarted:
    case EventKind::TimerCreated:
      return;
  }
}

void append_event(std::string& out, const HistoryEvent& e) {
  out += "{\"event_id\":";
  out += std::to_string(e.event_id);
  field(out, "kind", to_string(e.kind));
  if (e.kind == EventKind::TimerCreated) {
    time_field(out, "fire_at", e.timestamp);
  } else if (e.timestamp != 0) {
    time_field(out, "timestamp", e.timestamp);
  }
  kind_fields(out, e);
  out += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    const std::size_t size = utf8_sequence(text);
    if (size == 0) {
      out += "\\ufffd";
      text.remove_prefix(1);
    } else if (size == 1) {
      append_escaped_ascii(out, static_cast<unsigned char>(text[0]));
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, size));
      text.remove_prefix(size);
    }
  }
  out += '"';
}

std::string history_json(const std::vector<HistoryEvent>& events) {
  std::string out = "[";
  for (const auto& event : events) {
    if (out.size() > 1) out += ',';
    append_event(out, event);
  }
  out += ']';
  return out;
}

}  // namespace detail
}  // namespace duroxide
