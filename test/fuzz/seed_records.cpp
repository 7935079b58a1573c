// SPDX-License-Identifier: MIT
// Valid records of every kind, encoded by the store's own encoders, and records of the older
// fixed-width class versions, built by hand.
#include "test/fuzz/seed_records.hpp"

#include <cstdint>
#include <string_view>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "test/testlib/record_bytes.hpp"

namespace duroxide::fuzz {
namespace {

using testlib::RecordBytes;

/// One record of each type in the last fixed-width class version (with a checksum).
void add_fixed_width_seeds(std::vector<std::pair<RecordKind, std::string>>& seeds) {
  // HistoryEvent version 3: event_id, kind, source_id, timestamp, category, name, version,
  // data, instance.
  seeds.emplace_back(RecordKind::HistoryEvent, RecordBytes()
                                                   .u32(3)
                                                   .u64(4)
                                                   .u8(13)
                                                   .u64(2)
                                                   .u64(1'700'000'000'000)
                                                   .u8(1)
                                                   .str("Child")
                                                   .str("")
                                                   .str("input")
                                                   .str("parent::child")
                                                   .sealed());
  // OrchestratorMessage version 3: instance_id, execution_id, kind, source_id, visible_at,
  // name, version, data, parent_id, parent_execution_id.
  seeds.emplace_back(RecordKind::OrchestratorMessage, RecordBytes()
                                                          .u32(3)
                                                          .str("child")
                                                          .u64(1)
                                                          .u8(1)
                                                          .u64(4)
                                                          .u64(~std::uint64_t{0})
                                                          .str("Child")
                                                          .str("1.0.0")
                                                          .str("input")
                                                          .str("parent")
                                                          .u64(2)
                                                          .sealed());
  // ActivityWorkItem version 2: instance_id, execution_id, orchestration_name, activity_id,
  // name, input, u32 attempt.
  seeds.emplace_back(RecordKind::ActivityWorkItem, RecordBytes()
                                                       .u32(2)
                                                       .str("instance")
                                                       .u64(1)
                                                       .str("Orchestration")
                                                       .u64(4)
                                                       .str("Activity")
                                                       .str("input")
                                                       .u32(3)
                                                       .sealed());
  // InstanceRecord version 3 with ErrorDetails version 1: instance_id, name, version, state,
  // execution_id, created_at, updated_at, output, (category, kind, message), custom status
  // flag and text, parent_id, parent_execution_id, parent_event_id, u32 recovery_attempts.
  seeds.emplace_back(RecordKind::InstanceRecord, RecordBytes()
                                                     .u32(3)
                                                     .str("row")
                                                     .str("Orchestration")
                                                     .str("1.0.0")
                                                     .u8(3)
                                                     .u64(2)
                                                     .u64(1)
                                                     .u64(2)
                                                     .str("")
                                                     .u32(1)
                                                     .u8(0)
                                                     .str("Error")
                                                     .str("it failed")
                                                     .u8(1)
                                                     .str("step 2")
                                                     .str("parent")
                                                     .u64(1)
                                                     .u64(9)
                                                     .u32(2)
                                                     .sealed());
}

}  // namespace

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
  add_fixed_width_seeds(seeds);
  seeds.emplace_back(RecordKind::HistoryKey, storage::encode_history_key("instance", 2, 17));
  const auto queue_key = storage::encode_queue_key(QueueKey{123456, 42});
  seeds.emplace_back(RecordKind::QueueKey, std::string(queue_key.data(), queue_key.size()));
  seeds.emplace_back(RecordKind::InstanceKey, "instance");
  return seeds;
}

}  // namespace duroxide::fuzz
