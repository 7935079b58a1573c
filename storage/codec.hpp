// SPDX-License-Identifier: MIT
// Encoding of the records the store keeps (events, messages, work items, rows): FORMAT.md.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide::storage {

/// Returns: the record's bytes (layout in storage/FORMAT.md). Throws only std::bad_alloc.
std::string encode(const HistoryEvent& event);
std::string encode(const OrchestratorMessage& message);
std::string encode(const ActivityWorkItem& item);
std::string encode(const InstanceRecord& record);

/// Each decoder accepts exactly the bytes its encoder writes (one layout per record type), so a
/// decoded record encodes to the same bytes again. Anything else (a checksum that does not
/// match, truncated or trailing bytes, another class version, an enum value out of range, a
/// length larger than the input, a malformed varint) returns Corruption; hostile bytes never
/// crash and never allocate more than the input's size. Thread safety: all functions are
/// reentrant.
Result<HistoryEvent, Error> decode_history_event(std::string_view bytes);
Result<OrchestratorMessage, Error> decode_orchestrator_message(std::string_view bytes);
Result<ActivityWorkItem, Error> decode_activity_work_item(std::string_view bytes);
Result<InstanceRecord, Error> decode_instance_record(std::string_view bytes);

/// Cheap looks into encoded records that read only their first fields, for scans that skip
/// most records: the state of an InstanceRecord, the instance_id of an OrchestratorMessage or
/// an ActivityWorkItem (a view into `bytes`). Returns: Corruption if the bytes read so far are
/// bad (the rest of the record is not checked).
Result<InstanceState, Error> peek_instance_state(std::string_view bytes);
/// The state of an InstanceRecord and its suspended flag (its last field, read from its place
/// before the checksum). Returns: Corruption as peek_instance_state, or for a flag not 0 or 1.
Result<std::pair<InstanceState, bool>, Error> peek_instance_class(std::string_view bytes);

/// Returns: an InstanceRecord of class version 4 (format version 2: the layout of version 5
/// without the trailing suspended flag) rewritten as class version 5 with the flag 0, and the
/// record it holds; Corruption if `bytes` is not a sound version 4 record.
Result<std::pair<std::string, InstanceRecord>, Error> upgrade_instance_record_v4(
    std::string_view bytes);
Result<std::string_view, Error> peek_message_instance_id(std::string_view bytes);
Result<std::string_view, Error> peek_work_item_instance_id(std::string_view bytes);

}  // namespace duroxide::storage
