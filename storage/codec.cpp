// SPDX-License-Identifier: MIT
// Cereal binary encoding of the stored records, with a bounded decoder that never trusts lengths.
#include "storage/codec.hpp"

#include <cstdint>
#include <cstring>
#include <exception>
#include <ostream>
#include <streambuf>
#include <string_view>
#include <type_traits>
#include <utility>

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>

#include "storage/checksum.hpp"

// Records are written with cereal's BinaryOutputArchive (little-endian on every platform we
// build for) and read back with BoundedInputArchive below, which reads the same layout but
// checks every length against the bytes that are left before it allocates or copies.
//
// Checksums: from the class versions below on, a record ends with the CRC-32C of the bytes
// before it (u32, little-endian), so that damage anywhere in a record is Corruption rather than
// a record with other text. Older versions carry none and are still read.
//
// Class versions: CEREAL_CLASS_VERSION registers each version during static initialisation, so
// the lookups cereal makes while encoding only read its registry and need no lock.

namespace duroxide::storage {
namespace {

/// An std::streambuf that appends to a string, so encoding needs no ostringstream copy.
class StringSink final : public std::streambuf {
 public:
  explicit StringSink(std::string& out) : out_(out) {}

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    out_.append(data, static_cast<std::size_t>(size));
    return size;
  }
  int_type overflow(int_type ch) override {
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      out_.push_back(traits_type::to_char_type(ch));
    }
    return traits_type::not_eof(ch);
  }

 private:
  std::string& out_;
};

}  // namespace

/// Reads cereal's binary layout from a byte range; throws cereal::Exception past its end.
class BoundedInputArchive final
    : public cereal::InputArchive<BoundedInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit BoundedInputArchive(std::string_view bytes)
      : cereal::InputArchive<BoundedInputArchive, cereal::AllowEmptyClassElision>(this),
        bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - offset_; }

  void loadBinary(void* data, std::size_t size) {
    const std::string_view taken = take(size);
    if (size != 0) std::memcpy(data, taken.data(), size);
  }

  /// Returns: the next `size` bytes, as a view into the input.
  std::string_view take(std::size_t size) {
    if (size > remaining()) {
      throw cereal::Exception("record truncated: " + std::to_string(size) + " bytes wanted, " +
                              std::to_string(remaining()) + " left");
    }
    const std::string_view taken = bytes_.substr(offset_, size);
    offset_ += size;
    return taken;
  }

 private:
  std::string_view bytes_;
  std::size_t offset_ = 0;
};

// Loads for the bounded archive. bool is excluded: a byte other than 0 or 1 is no bool, so
// records store flags as uint8_t and check them.
template <class T>
std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> CEREAL_LOAD_FUNCTION_NAME(
    BoundedInputArchive& ar, T& value) {
  ar.loadBinary(&value, sizeof(value));
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(BoundedInputArchive& ar, cereal::NameValuePair<T>& pair) {
  ar(pair.value);
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(BoundedInputArchive& ar, cereal::SizeTag<T>& tag) {
  ar(tag.size);
}

namespace {

using Out = cereal::BinaryOutputArchive;
using In = BoundedInputArchive;

[[noreturn]] void reject(const std::string& what) { throw cereal::Exception(what); }

void put_string(Out& ar, std::string_view text) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(text.size())));
  ar.saveBinary(text.data(), static_cast<std::streamsize>(text.size()));
}

/// Returns: the next string of the record as a view into its bytes.
std::string_view view_string(In& ar) {
  cereal::size_type size = 0;
  ar(cereal::make_size_tag(size));
  // The declared length is checked before anything is allocated or copied: hostile bytes
  // cannot ask for gigabytes.
  if (size > ar.remaining()) {
    reject("string of " + std::to_string(size) + " bytes in a record with " +
           std::to_string(ar.remaining()) + " bytes left");
  }
  return ar.take(static_cast<std::size_t>(size));
}

void get_string(In& ar, std::string& text) { text.assign(view_string(ar)); }

template <class E>
void put_enum(Out& ar, E value) {
  ar(static_cast<std::uint8_t>(value));
}

/// Reads an enum stored as one byte and rejects values outside [first, last].
template <class E>
void get_enum(In& ar, E& value, E first, E last) {
  std::uint8_t raw = 0;
  ar(raw);
  if (raw < static_cast<std::uint8_t>(first) || raw > static_cast<std::uint8_t>(last)) {
    reject("enum value " + std::to_string(raw) + " out of range");
  }
  value = static_cast<E>(raw);
}

/// Rejects class versions this build cannot read: 1..`newest`.
void check_version(std::uint32_t version, std::uint32_t newest, const char* type) {
  if (version < 1 || version > newest)
    reject(std::string("unknown version ") + std::to_string(version) + " of " + type);
}

// The class versions this build writes (FORMAT.md); it reads every version from 1 up.
constexpr std::uint32_t kEventVersion = 3;
constexpr std::uint32_t kMessageVersion = 3;
constexpr std::uint32_t kWorkItemVersion = 2;
constexpr std::uint32_t kRecordVersion = 3;
constexpr std::uint32_t kErrorVersion = 1;

// The first class version of each record that ends with a checksum.
template <class T>
constexpr std::uint32_t kChecksummedSince = 0;
template <>
constexpr std::uint32_t kChecksummedSince<HistoryEvent> = 3;
template <>
constexpr std::uint32_t kChecksummedSince<OrchestratorMessage> = 3;
template <>
constexpr std::uint32_t kChecksummedSince<ActivityWorkItem> = 2;
template <>
constexpr std::uint32_t kChecksummedSince<InstanceRecord> = 3;

constexpr std::size_t kChecksumBytes = 4;

/// Reads the class version cereal writes before the first field of a record's outer class.
std::uint32_t get_version(In& ar, std::uint32_t newest, const char* type) {
  std::uint32_t version = 0;
  ar(version);
  check_version(version, newest, type);
  return version;
}

}  // namespace
}  // namespace duroxide::storage

CEREAL_CLASS_VERSION(duroxide::HistoryEvent, duroxide::storage::kEventVersion)
CEREAL_CLASS_VERSION(duroxide::OrchestratorMessage, duroxide::storage::kMessageVersion)
CEREAL_CLASS_VERSION(duroxide::ActivityWorkItem, duroxide::storage::kWorkItemVersion)
CEREAL_CLASS_VERSION(duroxide::InstanceRecord, duroxide::storage::kRecordVersion)
CEREAL_CLASS_VERSION(duroxide::ErrorDetails, duroxide::storage::kErrorVersion)

// Non-intrusive save/load pairs, found by cereal through argument-dependent lookup. The order of
// fields here is the record layout documented in storage/FORMAT.md: append fields, never reorder.
namespace duroxide {

using storage::get_enum;
using storage::get_string;
using storage::put_enum;
using storage::put_string;

void save(cereal::BinaryOutputArchive& ar, const ErrorDetails& error, std::uint32_t /*version*/) {
  put_enum(ar, error.category());
  put_string(ar, error.kind());
  put_string(ar, error.message());
}

void load(storage::BoundedInputArchive& ar, ErrorDetails& error, std::uint32_t version) {
  storage::check_version(version, storage::kErrorVersion, "ErrorDetails");
  ErrorCategory category = ErrorCategory::Application;
  std::string kind;
  std::string message;
  get_enum(ar, category, ErrorCategory::Application, ErrorCategory::Poison);
  get_string(ar, kind);
  get_string(ar, message);
  error = ErrorDetails(category, std::move(kind), std::move(message));
}

void save(cereal::BinaryOutputArchive& ar, const HistoryEvent& event, std::uint32_t /*version*/) {
  ar(event.event_id);
  put_enum(ar, event.kind);
  ar(event.source_id, event.timestamp);
  put_enum(ar, event.category);
  put_string(ar, event.name);
  put_string(ar, event.version);
  put_string(ar, event.data);
  put_string(ar, event.instance);  // version 2
}

void load(storage::BoundedInputArchive& ar, HistoryEvent& event, std::uint32_t version) {
  storage::check_version(version, storage::kEventVersion, "HistoryEvent");
  ar(event.event_id);
  get_enum(ar, event.kind, EventKind::OrchestrationStarted,
           version == 1 ? EventKind::OrchestrationContinuedAsNew : EventKind::CancelRequested);
  ar(event.source_id, event.timestamp);
  get_enum(ar, event.category, ErrorCategory::Application, ErrorCategory::Poison);
  get_string(ar, event.name);
  get_string(ar, event.version);
  get_string(ar, event.data);
  if (version >= 2) get_string(ar, event.instance);
}

void save(cereal::BinaryOutputArchive& ar, const OrchestratorMessage& message,
          std::uint32_t /*version*/) {
  put_string(ar, message.instance_id);
  ar(message.execution_id);
  put_enum(ar, message.kind);
  ar(message.source_id, message.visible_at);
  put_string(ar, message.name);
  put_string(ar, message.version);
  put_string(ar, message.data);
  put_string(ar, message.parent_id);  // version 2
  ar(message.parent_execution_id);
}

void load(storage::BoundedInputArchive& ar, OrchestratorMessage& message, std::uint32_t version) {
  storage::check_version(version, storage::kMessageVersion, "OrchestratorMessage");
  get_string(ar, message.instance_id);
  ar(message.execution_id);
  get_enum(ar, message.kind, MessageKind::StartOrchestration,
           version == 1 ? MessageKind::CancelRequested : MessageKind::ActivityAbandoned);
  ar(message.source_id, message.visible_at);
  get_string(ar, message.name);
  get_string(ar, message.version);
  get_string(ar, message.data);
  if (version >= 2) {
    get_string(ar, message.parent_id);
    ar(message.parent_execution_id);
  }
}

void save(cereal::BinaryOutputArchive& ar, const ActivityWorkItem& item,
          std::uint32_t /*version*/) {
  put_string(ar, item.instance_id);
  ar(item.execution_id);
  put_string(ar, item.orchestration_name);
  ar(item.activity_id);
  put_string(ar, item.name);
  put_string(ar, item.input);
  ar(item.attempt);
}

void load(storage::BoundedInputArchive& ar, ActivityWorkItem& item, std::uint32_t version) {
  storage::check_version(version, storage::kWorkItemVersion, "ActivityWorkItem");
  get_string(ar, item.instance_id);
  ar(item.execution_id);
  get_string(ar, item.orchestration_name);
  ar(item.activity_id);
  get_string(ar, item.name);
  get_string(ar, item.input);
  ar(item.attempt);
}

void save(cereal::BinaryOutputArchive& ar, const InstanceRecord& record,
          std::uint32_t /*version*/) {
  put_string(ar, record.instance_id);
  put_string(ar, record.name);
  put_string(ar, record.version);
  put_enum(ar, record.state);
  ar(record.execution_id, record.created_at, record.updated_at);
  put_string(ar, record.output);
  ar(record.error);
  ar(static_cast<std::uint8_t>(record.custom_status.has_value()));
  if (record.custom_status) put_string(ar, *record.custom_status);
  put_string(ar, record.parent_id);
  ar(record.parent_execution_id, record.parent_event_id);  // version 2
  ar(record.recovery_attempts);                            // version 3
}

void load(storage::BoundedInputArchive& ar, InstanceRecord& record, std::uint32_t version) {
  storage::check_version(version, storage::kRecordVersion, "InstanceRecord");
  get_string(ar, record.instance_id);
  get_string(ar, record.name);
  get_string(ar, record.version);
  get_enum(ar, record.state, InstanceState::Running, InstanceState::Failed);
  ar(record.execution_id, record.created_at, record.updated_at);
  get_string(ar, record.output);
  ar(record.error);
  std::uint8_t has_custom_status = 0;
  ar(has_custom_status);
  if (has_custom_status > 1) storage::reject("custom status flag out of range");
  record.custom_status.reset();
  if (has_custom_status == 1) get_string(ar, record.custom_status.emplace());
  get_string(ar, record.parent_id);
  if (version >= 2) ar(record.parent_execution_id, record.parent_event_id);
  record.recovery_attempts = 0;
  if (version >= 3) ar(record.recovery_attempts);
}

}  // namespace duroxide

namespace duroxide::storage {
namespace {

template <class T>
std::string encode_record(const T& value) {
  std::string out;
  StringSink sink(out);
  std::ostream stream(&sink);
  {
    cereal::BinaryOutputArchive ar(stream);
    ar(value);
  }
  const std::uint32_t checksum = crc32c(out);
  for (std::size_t byte = 0; byte < kChecksumBytes; ++byte) {
    out.push_back(static_cast<char>((checksum >> (8 * byte)) & 0xFF));
  }
  return out;
}

std::uint32_t get_le32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t byte = 0; byte < kChecksumBytes; ++byte) {
    value |= std::uint32_t{static_cast<unsigned char>(bytes[byte])} << (8 * byte);
  }
  return value;
}

/// The one place decoding failures become errors: every exception `read(archive)` throws
/// means bad bytes.
template <class Read>
auto guarded(std::string_view bytes, const char* type, Read read)
    -> Result<decltype(read(std::declval<BoundedInputArchive&>())), Error> {
  using T = decltype(read(std::declval<BoundedInputArchive&>()));
  auto corrupt = [&](const char* why) {
    return Err(Error{ErrorCode::Corruption, std::string("cannot decode ") + type + " (" +
                                                std::to_string(bytes.size()) + " bytes): " + why});
  };
  try {
    BoundedInputArchive ar(bytes);
    return Result<T, Error>(read(ar));
  } catch (const std::exception& e) {  // cereal::Exception, std::bad_alloc, std::length_error
    return corrupt(e.what());
  } catch (...) {
    return corrupt("unknown exception");
  }
}

template <class T>
Result<T, Error> decode_record(std::string_view bytes, const char* type) {
  std::string_view body = bytes;
  // A version too short to read is left to the archive, which reports the truncation.
  if (bytes.size() >= sizeof(std::uint32_t) && get_le32(bytes) >= kChecksummedSince<T>) {
    const bool intact = bytes.size() >= sizeof(std::uint32_t) + kChecksumBytes &&
                        crc32c(bytes.substr(0, bytes.size() - kChecksumBytes)) ==
                            get_le32(bytes.substr(bytes.size() - kChecksumBytes));
    if (!intact) {
      return Err(Error{ErrorCode::Corruption, std::string("cannot decode ") + type + " (" +
                                                  std::to_string(bytes.size()) +
                                                  " bytes): checksum mismatch"});
    }
    body.remove_suffix(kChecksumBytes);
  }
  return guarded(body, type, [](BoundedInputArchive& ar) {
    T value;
    ar(value);
    if (ar.remaining() != 0) reject("trailing bytes");
    return value;
  });
}

/// Both queue records begin with their instance id, right after the class version.
std::string_view leading_instance_id(In& ar, std::uint32_t newest, const char* type) {
  get_version(ar, newest, type);
  return view_string(ar);
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
  return guarded(bytes, "instance record", [](In& ar) {
    get_version(ar, kRecordVersion, "InstanceRecord");
    for (int field = 0; field < 3; ++field) view_string(ar);  // instance_id, name, version
    InstanceState state = InstanceState::Running;
    get_enum(ar, state, InstanceState::Running, InstanceState::Failed);
    return state;
  });
}

Result<std::string_view, Error> peek_message_instance_id(std::string_view bytes) {
  return guarded(bytes, "orchestrator message", [](In& ar) {
    return leading_instance_id(ar, kMessageVersion, "OrchestratorMessage");
  });
}

Result<std::string_view, Error> peek_work_item_instance_id(std::string_view bytes) {
  return guarded(bytes, "activity work item", [](In& ar) {
    return leading_instance_id(ar, kWorkItemVersion, "ActivityWorkItem");
  });
}

}  // namespace duroxide::storage
