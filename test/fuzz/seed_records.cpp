// SPDX-License-Identifier: MIT
// Valid records of every kind, encoded by the store's own encoders, and keys.
#include "test/fuzz/seed_records.hpp"

#include <cstdint>
#include <string>

#include "storage/codec.hpp"
#include "storage/keys.hpp"

namespace duroxide::fuzz {
std::vector<std::pair<RecordKind, std::string>> seed_records() {
  std::vector<std::pair<RecordKind, std::string>> seeds;
  for (int kind = 1; kind <= static_cast<int>(EventKind::CancelRequested); ++kind) {
    HistoryEvent event;
    event.event_id = static_cast<std::uint64_t>(kind);
    event.kind = static_cast<EventKind>(kind);
    event.source_id = 3;
    event.timestamp = 1'700'000'000'000 + kind;
    event.category = ErrorCategory::Configuration;
    event.name = "Name" + std::to_string(kind);
    event.version = kind == 1 ? "1.0.0" : "";
    event.data = std::string(static_cast<std::size_t>(kind) * 3, 'd');
    event.instance = kind % 2 == 0 ? "child::sub::2" : "";
    seeds.emplace_back(RecordKind::HistoryEvent, storage::encode(event));
  }
  for (int kind = 1; kind <= static_cast<int>(MessageKind::ActivityAbandoned); ++kind) {
    OrchestratorMessage message;
    message.instance_id = "instance-" + std::to_string(kind);
    message.execution_id = 2;
    message.kind = static_cast<MessageKind>(kind);
    message.source_id = 7;
    message.visible_at = -5;
    message.name = "event";
    message.data = std::string("\0\1\2payload", 10);
    if (kind == 1) {
      message.parent_id = "parent";
      message.parent_execution_id = 1;
    }
    seeds.emplace_back(RecordKind::OrchestratorMessage, storage::encode(message));
  }
  ActivityWorkItem item{"instance", 1, "Orchestration", 4, "Activity", "input", 2};
  seeds.emplace_back(RecordKind::ActivityWorkItem, storage::encode(item));
  InstanceRecord row;
  row.instance_id = "row";
  row.name = "Orchestration";
  row.version = "2.0.0";
  row.state = InstanceState::Failed;
  row.execution_id = 3;
  row.created_at = 1;
  row.updated_at = 2;
  row.error = ErrorDetails(ErrorCategory::Poison, "Poison", "delivered too often");
  row.custom_status = "step 2";
  row.parent_id = "parent";
  row.parent_execution_id = 1;
  row.parent_event_id = 9;
  seeds.emplace_back(RecordKind::InstanceRecord, storage::encode(row));
  row.custom_status.reset();
  row.state = InstanceState::Completed;
  row.output = "done";
  seeds.emplace_back(RecordKind::InstanceRecord, storage::encode(row));
  seeds.emplace_back(RecordKind::HistoryKey, storage::encode_history_key("instance", 2, 17));
  const auto queue_key = storage::encode_queue_key(QueueKey{123456, 42});
  seeds.emplace_back(RecordKind::QueueKey, std::string(queue_key.data(), queue_key.size()));
  seeds.emplace_back(RecordKind::InstanceKey, "instance");
  return seeds;
}

}  // namespace duroxide::fuzz
