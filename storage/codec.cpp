// SPDX-License-Identifier: MIT
// Cereal encoding of the stored records in their one layout; a decoder that never trusts lengths.
#include "storage/codec.hpp"

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include <cereal/cereal.hpp>

#include "storage/checksum.hpp"
#include "storage/coding.hpp"

// Each record is one Cereal archive of its class (storage/FORMAT.md has the grammar): Cereal
// writes the class version (u32) before the first field of a class the first time the class
// occurs, and the save/load pairs below write the fields with storage/coding.hpp: unsigned
// integers and string lengths as varints, signed integers zigzag, enums and flags as one byte.
// The encoder then closes the record with the CRC-32C of every byte before it, so that damage
// anywhere in a record is Corruption rather than a record with other text.
//
// Each class has one layout, that of the one class version this build writes and reads: a
// record of another class version is Corruption. (The numbers continue those of format version
// 1, whose compact records these are.)
//
// Bad bytes make decoding throw nothing: the Reader records the first malformed field and fails
// every later get, so a load reads on and the record is checked once at its end.
//
// Class versions: CEREAL_CLASS_VERSION registers each version during static initialisation, so
// the lookups Cereal makes while encoding only read its registry and need no lock.

namespace duroxide::storage {

// The class versions this build writes and reads (FORMAT.md).
constexpr std::uint32_t kEventVersion = 4;
constexpr std::uint32_t kMessageVersion = 4;
constexpr std::uint32_t kWorkItemVersion = 3;
constexpr std::uint32_t kRecordVersion = 5;
constexpr std::uint32_t kErrorVersion = 2;

constexpr std::size_t kVersionBytes = 4;
constexpr std::size_t kChecksumBytes = 4;

/// A Cereal archive that appends a record to a string; the fields are appended by the saves
/// below, Cereal itself writes only class versions.
class RecordOutputArchive final
    : public cereal::OutputArchive<RecordOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit RecordOutputArchive(std::string& out)
      : cereal::OutputArchive<RecordOutputArchive, cereal::AllowEmptyClassElision>(this),
        out_(out) {}
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

/// A Cereal archive that reads a record through a bounded Reader.
class RecordInputArchive final
    : public cereal::InputArchive<RecordInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit RecordInputArchive(std::string_view bytes)
      : cereal::InputArchive<RecordInputArchive, cereal::AllowEmptyClassElision>(this),
        reader_(bytes) {}
  Reader& reader() { return reader_; }

 private:
  Reader reader_;
};

// Cereal reaches these only for class versions (u32, little-endian).
inline void CEREAL_SAVE_FUNCTION_NAME(RecordOutputArchive& ar, const std::uint32_t& version) {
  put_fixed32(ar.out(), version);
}
inline void CEREAL_LOAD_FUNCTION_NAME(RecordInputArchive& ar, std::uint32_t& version) {
  if (!ar.reader().get_fixed32(version)) version = 0;  // the reader has failed: 0 is no version
}
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(RecordOutputArchive& ar, const cereal::NameValuePair<T>& pair) {
  ar(pair.value);
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(RecordInputArchive& ar, cereal::NameValuePair<T>& pair) {
  ar(pair.value);
}

namespace {

template <class E>
void put_enum(std::string& out, E value) {
  out.push_back(static_cast<char>(value));
}

/// Reads an enum stored as one byte and rejects values outside [first, last].
template <class E>
void get_enum(Reader& in, E& value, E first, E last) {
  std::uint8_t raw = 0;
  if (!in.get_byte(raw)) return;
  if (raw < static_cast<std::uint8_t>(first) || raw > static_cast<std::uint8_t>(last)) {
    in.fail("enum value " + std::to_string(raw) + " out of range");
    return;
  }
  value = static_cast<E>(raw);
}

void get_string(Reader& in, std::string& text) {
  std::string_view bytes;
  if (in.get_length_prefixed(bytes)) text.assign(bytes);
}

/// Returns: true if `version` is the one class version of `type` this build reads.
bool known_version(Reader& in, std::uint32_t version, std::uint32_t expected, const char* type) {
  if (!in.ok()) return false;
  if (version == expected) return true;
  return in.fail("unknown version " + std::to_string(version) + " of " + type +
                 " (this build reads version " + std::to_string(expected) + ")");
}

}  // namespace
}  // namespace duroxide::storage

CEREAL_CLASS_VERSION(duroxide::HistoryEvent, duroxide::storage::kEventVersion)
CEREAL_CLASS_VERSION(duroxide::OrchestratorMessage, duroxide::storage::kMessageVersion)
CEREAL_CLASS_VERSION(duroxide::ActivityWorkItem, duroxide::storage::kWorkItemVersion)
CEREAL_CLASS_VERSION(duroxide::InstanceRecord, duroxide::storage::kRecordVersion)
CEREAL_CLASS_VERSION(duroxide::ErrorDetails, duroxide::storage::kErrorVersion)

// Non-intrusive save/load pairs, found by Cereal through argument-dependent lookup. The order of
// fields here is the record grammar of storage/FORMAT.md: a new field means a new class version.
namespace duroxide {

using storage::get_enum;
using storage::get_string;
using storage::known_version;
using storage::put_enum;
using storage::put_length_prefixed;
using storage::put_varint32;
using storage::put_varint64;
using storage::put_zigzag64;
using storage::Reader;
using storage::RecordInputArchive;
using storage::RecordOutputArchive;

void save(RecordOutputArchive& ar, const ErrorDetails& error, std::uint32_t /*version*/) {
  std::string& out = ar.out();
  put_enum(out, error.category());
  put_length_prefixed(out, error.kind());
  put_length_prefixed(out, error.message());
}

void load(RecordInputArchive& ar, ErrorDetails& error, std::uint32_t version) {
  Reader& in = ar.reader();
  if (!known_version(in, version, storage::kErrorVersion, "ErrorDetails")) return;
  ErrorCategory category = ErrorCategory::Application;
  std::string kind;
  std::string message;
  get_enum(in, category, ErrorCategory::Application, ErrorCategory::Poison);
  get_string(in, kind);
  get_string(in, message);
  if (in.ok()) error = ErrorDetails(category, std::move(kind), std::move(message));
}

void save(RecordOutputArchive& ar, const HistoryEvent& event, std::uint32_t /*version*/) {
  std::string& out = ar.out();
  put_varint64(out, event.event_id);
  put_enum(out, event.kind);
  put_varint64(out, event.source_id);
  put_zigzag64(out, event.timestamp);
  put_enum(out, event.category);
  put_length_prefixed(out, event.name);
  put_length_prefixed(out, event.version);
  put_length_prefixed(out, event.data);
  put_length_prefixed(out, event.instance);
}

void load(RecordInputArchive& ar, HistoryEvent& event, std::uint32_t version) {
  Reader& in = ar.reader();
  if (!known_version(in, version, storage::kEventVersion, "HistoryEvent")) return;
  in.get_varint64(event.event_id);
  get_enum(in, event.kind, EventKind::OrchestrationStarted, EventKind::ExecutionRewound);
  in.get_varint64(event.source_id);
  in.get_zigzag64(event.timestamp);
  get_enum(in, event.category, ErrorCategory::Application, ErrorCategory::Poison);
  get_string(in, event.name);
  get_string(in, event.version);
  get_string(in, event.data);
  get_string(in, event.instance);
}

void save(RecordOutputArchive& ar, const OrchestratorMessage& message, std::uint32_t /*version*/) {
  std::string& out = ar.out();
  put_length_prefixed(out, message.instance_id);
  put_varint64(out, message.execution_id);
  put_enum(out, message.kind);
  put_varint64(out, message.source_id);
  put_zigzag64(out, message.visible_at);
  put_length_prefixed(out, message.name);
  put_length_prefixed(out, message.version);
  put_length_prefixed(out, message.data);
  put_length_prefixed(out, message.parent_id);
  put_varint64(out, message.parent_execution_id);
}

void load(RecordInputArchive& ar, OrchestratorMessage& message, std::uint32_t version) {
  Reader& in = ar.reader();
  if (!known_version(in, version, storage::kMessageVersion, "OrchestratorMessage")) return;
  get_string(in, message.instance_id);
  in.get_varint64(message.execution_id);
  get_enum(in, message.kind, MessageKind::StartOrchestration, MessageKind::RewindRequested);
  in.get_varint64(message.source_id);
  in.get_zigzag64(message.visible_at);
  get_string(in, message.name);
  get_string(in, message.version);
  get_string(in, message.data);
  get_string(in, message.parent_id);
  in.get_varint64(message.parent_execution_id);
}

void save(RecordOutputArchive& ar, const ActivityWorkItem& item, std::uint32_t /*version*/) {
  std::string& out = ar.out();
  put_length_prefixed(out, item.instance_id);
  put_varint64(out, item.execution_id);
  put_length_prefixed(out, item.orchestration_name);
  put_varint64(out, item.activity_id);
  put_length_prefixed(out, item.name);
  put_length_prefixed(out, item.input);
  put_varint32(out, item.attempt);
}

void load(RecordInputArchive& ar, ActivityWorkItem& item, std::uint32_t version) {
  Reader& in = ar.reader();
  if (!known_version(in, version, storage::kWorkItemVersion, "ActivityWorkItem")) return;
  get_string(in, item.instance_id);
  in.get_varint64(item.execution_id);
  get_string(in, item.orchestration_name);
  in.get_varint64(item.activity_id);
  get_string(in, item.name);
  get_string(in, item.input);
  in.get_varint32(item.attempt);
}

void save(RecordOutputArchive& ar, const InstanceRecord& record, std::uint32_t /*version*/) {
  std::string& out = ar.out();
  put_length_prefixed(out, record.instance_id);
  put_length_prefixed(out, record.name);
  put_length_prefixed(out, record.version);
  put_enum(out, record.state);
  put_varint64(out, record.execution_id);
  put_zigzag64(out, record.created_at);
  put_zigzag64(out, record.updated_at);
  put_length_prefixed(out, record.output);
  ar(record.error);
  out.push_back(static_cast<char>(record.custom_status.has_value() ? 1 : 0));
  if (record.custom_status) put_length_prefixed(out, *record.custom_status);
  put_length_prefixed(out, record.parent_id);
  put_varint64(out, record.parent_execution_id);
  put_varint64(out, record.parent_event_id);
  put_varint32(out, record.recovery_attempts);
  out.push_back(static_cast<char>(record.suspended ? 1 : 0));
}

void load(RecordInputArchive& ar, InstanceRecord& record, std::uint32_t version) {
  Reader& in = ar.reader();
  if (!known_version(in, version, storage::kRecordVersion, "InstanceRecord")) return;
  get_string(in, record.instance_id);
  get_string(in, record.name);
  get_string(in, record.version);
  get_enum(in, record.state, InstanceState::Running, InstanceState::Failed);
  in.get_varint64(record.execution_id);
  in.get_zigzag64(record.created_at);
  in.get_zigzag64(record.updated_at);
  get_string(in, record.output);
  ar(record.error);
  std::uint8_t has_custom_status = 0;
  if (in.get_byte(has_custom_status) && has_custom_status > 1) {
    in.fail("custom status flag out of range");
  }
  record.custom_status.reset();
  if (has_custom_status == 1) get_string(in, record.custom_status.emplace());
  get_string(in, record.parent_id);
  in.get_varint64(record.parent_execution_id);
  in.get_varint64(record.parent_event_id);
  in.get_varint32(record.recovery_attempts);
  std::uint8_t suspended = 0;
  if (in.get_byte(suspended) && suspended > 1) in.fail("suspended flag out of range");
  record.suspended = suspended == 1;
}

}  // namespace duroxide

namespace duroxide::storage {
namespace {

template <class T>
std::string encode_record(const T& value) {
  std::string out;
  {
    RecordOutputArchive ar(out);
    ar(value);
  }
  put_fixed32(out, crc32c(out));
  return out;
}

Error corrupt(const char* type, std::string_view bytes, const std::string& why) {
  return Error{ErrorCode::Corruption, std::string("cannot decode ") + type + " (" +
                                          std::to_string(bytes.size()) + " bytes): " + why};
}

/// The one place a record's bytes become a value or Corruption.
template <class T>
Result<T, Error> decode_record(std::string_view bytes, const char* type) {
  if (bytes.size() < kVersionBytes + kChecksumBytes) {
    return Err(corrupt(type, bytes, "truncated: shorter than a class version and a checksum"));
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (crc32c(body) != decode_fixed32(bytes.data() + body.size())) {
    return Err(corrupt(type, bytes, "checksum mismatch"));
  }
  try {
    RecordInputArchive ar(body);
    T value;
    ar(value);
    Reader& in = ar.reader();
    if (in.ok() && in.remaining() != 0) in.fail("trailing bytes");
    if (!in.ok()) return Err(corrupt(type, bytes, in.failure()));
    return value;
  } catch (const std::exception& e) {  // std::bad_alloc, from Cereal's bookkeeping
    return Err(corrupt(type, bytes, e.what()));
  }
}

/// Reads the class version that opens a record, for the peeks (which read no further than
/// they need and so leave the checksum unchecked).
bool get_version(Reader& in, std::uint32_t expected, const char* type) {
  std::uint32_t version = 0;
  return in.get_fixed32(version) && known_version(in, version, expected, type);
}

template <class T>
Result<T, Error> peeked(const Reader& in, T value, std::string_view bytes, const char* type) {
  if (!in.ok()) return Err(corrupt(type, bytes, in.failure()));
  return value;
}

/// Both queue records begin with their instance id, right after the class version.
Result<std::string_view, Error> leading_instance_id(std::string_view bytes, std::uint32_t expected,
                                                    const char* type, const char* what) {
  Reader in(bytes);
  std::string_view id;
  if (get_version(in, expected, type)) in.get_length_prefixed(id);
  return peeked(in, id, bytes, what);
}

}  // namespace

std::string encode(const HistoryEvent& event) { return encode_record(event); }
std::string encode(const OrchestratorMessage& message) { return encode_record(message); }
std::string encode(const ActivityWorkItem& item) { return encode_record(item); }
std::string encode(const InstanceRecord& record) { return encode_record(record); }

Result<HistoryEvent, Error> decode_history_event(std::string_view bytes) {
  return decode_record<HistoryEvent>(bytes, "history event");
}
Result<OrchestratorMessage, Error> decode_orchestrator_message(std::string_view bytes) {
  return decode_record<OrchestratorMessage>(bytes, "orchestrator message");
}
Result<ActivityWorkItem, Error> decode_activity_work_item(std::string_view bytes) {
  return decode_record<ActivityWorkItem>(bytes, "activity work item");
}
Result<InstanceRecord, Error> decode_instance_record(std::string_view bytes) {
  return decode_record<InstanceRecord>(bytes, "instance record");
}

Result<InstanceState, Error> peek_instance_state(std::string_view bytes) {
  Reader in(bytes);
  InstanceState state = InstanceState::Running;
  if (get_version(in, kRecordVersion, "InstanceRecord")) {
    std::string_view skipped;
    for (int field = 0; field < 3; ++field) in.get_length_prefixed(skipped);  // id, name, version
    get_enum(in, state, InstanceState::Running, InstanceState::Failed);
  }
  return peeked(in, state, bytes, "instance record");
}

Result<std::pair<InstanceState, bool>, Error> peek_instance_class(std::string_view bytes) {
  auto state = peek_instance_state(bytes);
  if (!state) return Err(state.error());
  if (bytes.size() < kVersionBytes + 1 + kChecksumBytes) {
    return Err(corrupt("instance record", bytes, "truncated"));
  }
  const auto flag = static_cast<unsigned char>(bytes[bytes.size() - kChecksumBytes - 1]);
  if (flag > 1) return Err(corrupt("instance record", bytes, "suspended flag out of range"));
  return std::pair{*state, flag == 1};
}

Result<std::pair<std::string, InstanceRecord>, Error> upgrade_instance_record_v4(
    std::string_view bytes) {
  constexpr std::uint32_t kOldVersion = 4;
  if (bytes.size() < kVersionBytes + kChecksumBytes) {
    return Err(corrupt("instance record", bytes, "truncated"));
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (crc32c(body) != decode_fixed32(bytes.data() + body.size())) {
    return Err(corrupt("instance record", bytes, "checksum mismatch"));
  }
  if (decode_fixed32(body.data()) != kOldVersion) {
    return Err(corrupt("instance record", bytes,
                       "version " + std::to_string(decode_fixed32(body.data())) +
                           " where format version 2 has version 4"));
  }
  // Version 5 is version 4 followed by the flag: decoding the result checks everything else.
  std::string upgraded;
  put_fixed32(upgraded, kRecordVersion);
  upgraded.append(body.substr(kVersionBytes));
  upgraded.push_back('\0');
  put_fixed32(upgraded, crc32c(upgraded));
  auto record = decode_instance_record(upgraded);
  if (!record) return Err(record.error());
  return std::pair{std::move(upgraded), std::move(*record)};
}

Result<std::string_view, Error> peek_message_instance_id(std::string_view bytes) {
  return leading_instance_id(bytes, kMessageVersion, "OrchestratorMessage", "orchestrator message");
}

Result<std::string_view, Error> peek_work_item_instance_id(std::string_view bytes) {
  return leading_instance_id(bytes, kWorkItemVersion, "ActivityWorkItem", "activity work item");
}

}  // namespace duroxide::storage
