// SPDX-License-Identifier: MIT
// Cereal binary encoding of the stored records, with a bounded decoder that never trusts lengths.
#include "storage/codec.hpp"

#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
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
// Layouts: a record's class version decides how its integers and string lengths are stored. The
// older versions use cereal's own layout (Layout::Fixed): a string length is a u64 and an integer
// takes its full width. From the versions in kFirst<T>.compact on (Layout::Compact), string lengths
// and unsigned integers are unsigned LEB128 varints (7 bits a byte, the lowest first, the high bit
// set on every byte but the last, in as few bytes as the value needs: at most 10), and signed
// integers are zigzag-mapped first (0, -1, 1, -2 ... to 0, 1, 2, 3 ...), so that small magnitudes
// of either sign are short. Enums and flags stay one byte, and the class version and the checksum
// stay fixed-width u32: the decoder reads the version before it knows the layout. The encoder
// writes the newest versions only; the decoder reads every version.
//
// Checksums: from the class versions in kFirst<T>.checksummed on, a record ends with the CRC-32C of
// the bytes before it (u32, little-endian), so that damage anywhere in a record is Corruption
// rather than a record with other text. Older versions carry none and are still read.
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

/// How a record stores its integers and string lengths; its class version decides (see the
/// comment at the top of this file).
enum class Layout : std::uint8_t {
  Fixed,    ///< the older class versions: cereal's own, u64 lengths and full-width integers
  Compact,  ///< from kFirst<T>.compact on: LEB128 lengths and integers, zigzag for signed ones
};

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

  /// The layout of the record being read, set by its outer class from its class version. A
  /// class nested in it (which carries a class version of its own) must be in the same layout,
  /// as the encoder writes it.
  Layout record_layout = Layout::Fixed;

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

namespace {

using Out = cereal::BinaryOutputArchive;
using In = BoundedInputArchive;

[[noreturn]] void reject(const std::string& what) { throw cereal::Exception(what); }

/// The longest LEB128 varint of a 64-bit value: 9 bytes of 7 bits and 1 bit in the tenth.
constexpr std::size_t kMaxVarintBytes = 10;

/// Writes an unsigned field as a LEB128 varint (the newest class versions are all compact).
template <class U>
void put_uint(Out& ar, U value) {
  static_assert(std::is_unsigned_v<U>, "signed fields are written with put_int");
  std::uint64_t rest = value;
  char bytes[kMaxVarintBytes];
  std::size_t size = 0;
  while (rest >= 0x80) {
    bytes[size++] = static_cast<char>((rest & 0x7F) | 0x80);
    rest >>= 7;
  }
  bytes[size++] = static_cast<char>(rest);
  ar.saveBinary(bytes, static_cast<std::streamsize>(size));
}

/// Writes a signed field zigzag-mapped, as a LEB128 varint.
void put_int(Out& ar, std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  put_uint(ar, (bits << 1) ^ (std::uint64_t{0} - (bits >> 63)));
}

/// Reads a LEB128 varint. Rejects one longer than 10 bytes, one whose tenth byte holds more
/// than the 64th bit, and one with a trailing zero group (not its shortest form: the encoder
/// never writes it, so a record has exactly one encoding).
std::uint64_t get_varint(In& ar) {
  std::uint64_t value = 0;
  for (std::size_t index = 0; index < kMaxVarintBytes; ++index) {
    std::uint8_t byte = 0;
    ar(byte);
    const std::uint64_t group = byte & 0x7F;
    // Bits shifted past the 64th are dropped here and rejected below.
    value |= group << (7 * index);
    if ((byte & 0x80) != 0) continue;  // more groups follow
    if (index == kMaxVarintBytes - 1 && group > 1) reject("varint overflows 64 bits");
    if (index > 0 && group == 0) reject("varint not in its shortest form");
    return value;
  }
  reject("varint longer than " + std::to_string(kMaxVarintBytes) + " bytes");
}

/// Reads an unsigned field; in the compact layout, a value wider than the field is rejected.
template <class U>
void get_uint(In& ar, U& value, Layout layout) {
  static_assert(std::is_unsigned_v<U>, "signed fields are read with get_int");
  if (layout == Layout::Fixed) {
    ar(value);
    return;
  }
  const std::uint64_t raw = get_varint(ar);
  if (raw > std::numeric_limits<U>::max()) {
    reject("varint " + std::to_string(raw) + " too large for a field of " +
           std::to_string(sizeof(U)) + " bytes");
  }
  value = static_cast<U>(raw);
}

/// Reads a signed field: the inverse of put_int in the compact layout.
void get_int(In& ar, std::int64_t& value, Layout layout) {
  if (layout == Layout::Fixed) {
    ar(value);
    return;
  }
  const std::uint64_t raw = get_varint(ar);
  value = static_cast<std::int64_t>((raw >> 1) ^ (std::uint64_t{0} - (raw & 1)));
}

void put_string(Out& ar, std::string_view text) {
  put_uint(ar, text.size());
  ar.saveBinary(text.data(), static_cast<std::streamsize>(text.size()));
}

/// Returns: the next string of the record as a view into its bytes.
std::string_view view_string(In& ar, Layout layout) {
  std::uint64_t size = 0;
  get_uint(ar, size, layout);
  // The declared length is checked before anything is allocated or copied: hostile bytes
  // cannot ask for gigabytes.
  if (size > ar.remaining()) {
    reject("string of " + std::to_string(size) + " bytes in a record with " +
           std::to_string(ar.remaining()) + " bytes left");
  }
  return ar.take(static_cast<std::size_t>(size));
}

void get_string(In& ar, std::string& text, Layout layout) { text.assign(view_string(ar, layout)); }

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
constexpr std::uint32_t kEventVersion = 4;
constexpr std::uint32_t kMessageVersion = 4;
constexpr std::uint32_t kWorkItemVersion = 3;
constexpr std::uint32_t kRecordVersion = 4;
constexpr std::uint32_t kErrorVersion = 2;

// Where each class's layouts begin: the first class version that ends with a checksum (for a
// class nested in a record, whose checksum covers it, 0) and the first in the compact layout.
struct FirstVersions {
  std::uint32_t checksummed;
  std::uint32_t compact;
};
template <class T>
constexpr FirstVersions kFirst{0, 0};
template <>
constexpr FirstVersions kFirst<HistoryEvent>{3, 4};
template <>
constexpr FirstVersions kFirst<OrchestratorMessage>{3, 4};
template <>
constexpr FirstVersions kFirst<ActivityWorkItem>{2, 3};
template <>
constexpr FirstVersions kFirst<InstanceRecord>{3, 4};
template <>
constexpr FirstVersions kFirst<ErrorDetails>{0, 2};

template <class T>
Layout layout_of(std::uint32_t version) {
  return version >= kFirst<T>.compact ? Layout::Compact : Layout::Fixed;
}

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
// Each load reads the layout its class version was written in (storage::layout_of).
namespace duroxide {

using storage::get_enum;
using storage::get_int;
using storage::get_string;
using storage::get_uint;
using storage::Layout;
using storage::layout_of;
using storage::put_enum;
using storage::put_int;
using storage::put_string;
using storage::put_uint;

void save(cereal::BinaryOutputArchive& ar, const ErrorDetails& error, std::uint32_t /*version*/) {
  put_enum(ar, error.category());
  put_string(ar, error.kind());
  put_string(ar, error.message());
}

void load(storage::BoundedInputArchive& ar, ErrorDetails& error, std::uint32_t version) {
  storage::check_version(version, storage::kErrorVersion, "ErrorDetails");
  const Layout layout = layout_of<ErrorDetails>(version);
  if (layout != ar.record_layout) {
    storage::reject("version " + std::to_string(version) +
                    " of ErrorDetails in a record of the other layout");
  }
  ErrorCategory category = ErrorCategory::Application;
  std::string kind;
  std::string message;
  get_enum(ar, category, ErrorCategory::Application, ErrorCategory::Poison);
  get_string(ar, kind, layout);
  get_string(ar, message, layout);
  error = ErrorDetails(category, std::move(kind), std::move(message));
}

void save(cereal::BinaryOutputArchive& ar, const HistoryEvent& event, std::uint32_t /*version*/) {
  put_uint(ar, event.event_id);
  put_enum(ar, event.kind);
  put_uint(ar, event.source_id);
  put_int(ar, event.timestamp);
  put_enum(ar, event.category);
  put_string(ar, event.name);
  put_string(ar, event.version);
  put_string(ar, event.data);
  put_string(ar, event.instance);  // version 2
}

void load(storage::BoundedInputArchive& ar, HistoryEvent& event, std::uint32_t version) {
  storage::check_version(version, storage::kEventVersion, "HistoryEvent");
  const Layout layout = layout_of<HistoryEvent>(version);
  get_uint(ar, event.event_id, layout);
  get_enum(ar, event.kind, EventKind::OrchestrationStarted,
           version == 1 ? EventKind::OrchestrationContinuedAsNew : EventKind::CancelRequested);
  get_uint(ar, event.source_id, layout);
  get_int(ar, event.timestamp, layout);
  get_enum(ar, event.category, ErrorCategory::Application, ErrorCategory::Poison);
  get_string(ar, event.name, layout);
  get_string(ar, event.version, layout);
  get_string(ar, event.data, layout);
  if (version >= 2) get_string(ar, event.instance, layout);
}

void save(cereal::BinaryOutputArchive& ar, const OrchestratorMessage& message,
          std::uint32_t /*version*/) {
  put_string(ar, message.instance_id);
  put_uint(ar, message.execution_id);
  put_enum(ar, message.kind);
  put_uint(ar, message.source_id);
  put_int(ar, message.visible_at);
  put_string(ar, message.name);
  put_string(ar, message.version);
  put_string(ar, message.data);
  put_string(ar, message.parent_id);  // version 2
  put_uint(ar, message.parent_execution_id);
}

void load(storage::BoundedInputArchive& ar, OrchestratorMessage& message, std::uint32_t version) {
  storage::check_version(version, storage::kMessageVersion, "OrchestratorMessage");
  const Layout layout = layout_of<OrchestratorMessage>(version);
  get_string(ar, message.instance_id, layout);
  get_uint(ar, message.execution_id, layout);
  get_enum(ar, message.kind, MessageKind::StartOrchestration,
           version == 1 ? MessageKind::CancelRequested : MessageKind::ActivityAbandoned);
  get_uint(ar, message.source_id, layout);
  get_int(ar, message.visible_at, layout);
  get_string(ar, message.name, layout);
  get_string(ar, message.version, layout);
  get_string(ar, message.data, layout);
  if (version >= 2) {
    get_string(ar, message.parent_id, layout);
    get_uint(ar, message.parent_execution_id, layout);
  }
}

void save(cereal::BinaryOutputArchive& ar, const ActivityWorkItem& item,
          std::uint32_t /*version*/) {
  put_string(ar, item.instance_id);
  put_uint(ar, item.execution_id);
  put_string(ar, item.orchestration_name);
  put_uint(ar, item.activity_id);
  put_string(ar, item.name);
  put_string(ar, item.input);
  put_uint(ar, item.attempt);
}

void load(storage::BoundedInputArchive& ar, ActivityWorkItem& item, std::uint32_t version) {
  storage::check_version(version, storage::kWorkItemVersion, "ActivityWorkItem");
  const Layout layout = layout_of<ActivityWorkItem>(version);
  get_string(ar, item.instance_id, layout);
  get_uint(ar, item.execution_id, layout);
  get_string(ar, item.orchestration_name, layout);
  get_uint(ar, item.activity_id, layout);
  get_string(ar, item.name, layout);
  get_string(ar, item.input, layout);
  get_uint(ar, item.attempt, layout);
}

void save(cereal::BinaryOutputArchive& ar, const InstanceRecord& record,
          std::uint32_t /*version*/) {
  put_string(ar, record.instance_id);
  put_string(ar, record.name);
  put_string(ar, record.version);
  put_enum(ar, record.state);
  put_uint(ar, record.execution_id);
  put_int(ar, record.created_at);
  put_int(ar, record.updated_at);
  put_string(ar, record.output);
  ar(record.error);
  ar(static_cast<std::uint8_t>(record.custom_status.has_value()));
  if (record.custom_status) put_string(ar, *record.custom_status);
  put_string(ar, record.parent_id);
  put_uint(ar, record.parent_execution_id);  // version 2
  put_uint(ar, record.parent_event_id);      // version 2
  put_uint(ar, record.recovery_attempts);    // version 3
}

void load(storage::BoundedInputArchive& ar, InstanceRecord& record, std::uint32_t version) {
  storage::check_version(version, storage::kRecordVersion, "InstanceRecord");
  const Layout layout = layout_of<InstanceRecord>(version);
  ar.record_layout = layout;
  get_string(ar, record.instance_id, layout);
  get_string(ar, record.name, layout);
  get_string(ar, record.version, layout);
  get_enum(ar, record.state, InstanceState::Running, InstanceState::Failed);
  get_uint(ar, record.execution_id, layout);
  get_int(ar, record.created_at, layout);
  get_int(ar, record.updated_at, layout);
  get_string(ar, record.output, layout);
  ar(record.error);
  std::uint8_t has_custom_status = 0;
  ar(has_custom_status);
  if (has_custom_status > 1) storage::reject("custom status flag out of range");
  record.custom_status.reset();
  if (has_custom_status == 1) get_string(ar, record.custom_status.emplace(), layout);
  get_string(ar, record.parent_id, layout);
  if (version >= 2) {
    get_uint(ar, record.parent_execution_id, layout);
    get_uint(ar, record.parent_event_id, layout);
  }
  record.recovery_attempts = 0;
  if (version >= 3) get_uint(ar, record.recovery_attempts, layout);
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
  if (bytes.size() >= sizeof(std::uint32_t) && get_le32(bytes) >= kFirst<T>.checksummed) {
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
template <class T>
std::string_view leading_instance_id(In& ar, std::uint32_t newest, const char* type) {
  return view_string(ar, layout_of<T>(get_version(ar, newest, type)));
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
    const Layout layout =
        layout_of<InstanceRecord>(get_version(ar, kRecordVersion, "InstanceRecord"));
    for (int field = 0; field < 3; ++field) view_string(ar, layout);  // instance_id, name, version
    InstanceState state = InstanceState::Running;
    get_enum(ar, state, InstanceState::Running, InstanceState::Failed);
    return state;
  });
}

Result<std::string_view, Error> peek_message_instance_id(std::string_view bytes) {
  return guarded(bytes, "orchestrator message", [](In& ar) {
    return leading_instance_id<OrchestratorMessage>(ar, kMessageVersion, "OrchestratorMessage");
  });
}

Result<std::string_view, Error> peek_work_item_instance_id(std::string_view bytes) {
  return guarded(bytes, "activity work item", [](In& ar) {
    return leading_instance_id<ActivityWorkItem>(ar, kWorkItemVersion, "ActivityWorkItem");
  });
}

}  // namespace duroxide::storage
