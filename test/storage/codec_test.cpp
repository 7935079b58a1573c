// SPDX-License-Identifier: MIT
// Tests of the record codec: round trips, and hostile bytes that must decode to Corruption.
#include "storage/codec.hpp"

#include "storage/checksum.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace duroxide::storage {
namespace {

HistoryEvent full_event() {
  HistoryEvent e;
  e.event_id = 42;
  e.kind = EventKind::OrchestrationFailed;
  e.source_id = 7;
  e.timestamp = -1234567890123;
  e.category = ErrorCategory::Poison;
  e.name = "Nondeterminism";
  e.version = "2.1.0";
  e.data = std::string("bin\0ary\xff", 8);
  return e;
}

OrchestratorMessage full_message() {
  OrchestratorMessage m;
  m.instance_id = "order-17";
  m.execution_id = 3;
  m.kind = MessageKind::TimerFired;
  m.source_id = 9;
  m.visible_at = 1700000000000;
  m.name = "tick";
  m.version = "1";
  m.data = std::string(1000, 'x');
  return m;
}

ActivityWorkItem full_item() {
  ActivityWorkItem item;
  item.instance_id = "order-17";
  item.execution_id = 2;
  item.orchestration_name = "Checkout";
  item.activity_id = 11;
  item.name = "Charge";
  item.input = "{\"amount\":5}";
  item.attempt = 4;
  return item;
}

InstanceRecord full_record(bool with_custom_status) {
  InstanceRecord r;
  r.instance_id = "order-17";
  r.name = "Checkout";
  r.version = "1.2.3";
  r.state = InstanceState::Failed;
  r.execution_id = 2;
  r.created_at = 100;
  r.updated_at = 200;
  r.output = "";
  r.error = ErrorDetails(ErrorCategory::Configuration, "Nondeterminism", "call 3 diverged");
  if (with_custom_status) r.custom_status = "halfway";
  r.parent_id = "parent-1";
  return r;
}

HistoryEvent child_event(EventKind kind) {
  HistoryEvent e;
  e.event_id = 5;
  e.kind = kind;
  e.source_id = 3;
  e.timestamp = 1700000000123;
  e.name = "Child";
  e.data = "input";
  e.instance = "order-17::child-1";
  return e;
}

/// Little-endian fields appended by hand, for records in the layouts of older class versions
/// (storage/FORMAT.md), which this build no longer writes but must still read.
class LegacyBytes {
 public:
  LegacyBytes& u8(std::uint8_t value) { return raw(&value, 1); }
  LegacyBytes& u32(std::uint32_t value) { return raw(&value, 4); }
  LegacyBytes& u64(std::uint64_t value) { return raw(&value, 8); }
  LegacyBytes& i64(std::int64_t value) { return raw(&value, 8); }
  LegacyBytes& str(std::string_view text) {
    u64(text.size());
    bytes_.append(text);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  static_assert(std::endian::native == std::endian::little, "the records are little-endian");
  LegacyBytes& raw(const void* value, std::size_t size) {
    bytes_.append(static_cast<const char*>(value), size);
    return *this;
  }
  std::string bytes_;
};

/// A HistoryEvent in class version 1: no `instance`.
std::string v1_event(std::uint8_t kind) {
  return LegacyBytes()
      .u32(1)
      .u64(42)
      .u8(kind)
      .u64(7)
      .i64(-1234567890123)
      .u8(3)
      .str("Nondeterminism")
      .str("2.1.0")
      .str(std::string("bin\0ary\xff", 8))
      .bytes();
}

/// An OrchestratorMessage in class version 1: no `parent_id`, `parent_execution_id`.
std::string v1_message(std::uint8_t kind) {
  return LegacyBytes()
      .u32(1)
      .str("order-17")
      .u64(3)
      .u8(kind)
      .u64(9)
      .i64(1700000000000)
      .str("tick")
      .str("1")
      .str(std::string(1000, 'x'))
      .bytes();
}

/// An InstanceRecord in class version 1 (with ErrorDetails version 1 inside): no
/// `parent_execution_id`, `parent_event_id`.
std::string v1_record(std::uint8_t has_custom_status) {
  LegacyBytes out;
  out.u32(1).str("order-17").str("Checkout").str("1.2.3").u8(3).u64(2).i64(100).i64(200).str("");
  out.u32(1).u8(2).str("Nondeterminism").str("call 3 diverged");
  out.u8(has_custom_status);
  if (has_custom_status == 1) out.str("halfway");
  out.str("parent-1");
  return out.bytes();
}

/// Returns: `body` closed with its checksum, as the encoder closes a record.
std::string sealed(std::string body) {
  const std::uint32_t checksum = crc32c(body);
  for (int byte = 0; byte < 4; ++byte) body.push_back(static_cast<char>(checksum >> (8 * byte)));
  return body;
}

/// Returns: an encoded record without its checksum.
std::string body_of(const std::string& record) { return record.substr(0, record.size() - 4); }

/// Returns: a record changed after encoding, with a checksum that matches again, so that the
/// checks behind the checksum see the change.
std::string resealed(const std::string& record) { return sealed(body_of(record)); }

/// Every decoder, applied to the same bytes: none may crash; each either decodes or says
/// Corruption.
void check_never_crashes(const std::string& bytes) {
  auto e = decode_history_event(bytes);
  auto m = decode_orchestrator_message(bytes);
  auto a = decode_activity_work_item(bytes);
  auto r = decode_instance_record(bytes);
  if (!e) CHECK(e.error().code == ErrorCode::Corruption);
  if (!m) CHECK(m.error().code == ErrorCode::Corruption);
  if (!a) CHECK(a.error().code == ErrorCode::Corruption);
  if (!r) CHECK(r.error().code == ErrorCode::Corruption);
  auto state = peek_instance_state(bytes);
  auto message_id = peek_message_instance_id(bytes);
  auto item_id = peek_work_item_instance_id(bytes);
  if (!state) CHECK(state.error().code == ErrorCode::Corruption);
  if (!message_id) CHECK(message_id.error().code == ErrorCode::Corruption);
  if (!item_id) CHECK(item_id.error().code == ErrorCode::Corruption);
}

}  // namespace

TEST_SUITE("storage.codec") {
  TEST_CASE("every record type round trips, binary data included") {
    CHECK(decode_history_event(encode(full_event())).value() == full_event());
    CHECK(decode_history_event(encode(HistoryEvent{})).value() == HistoryEvent{});
    CHECK(decode_orchestrator_message(encode(full_message())).value() == full_message());
    CHECK(decode_activity_work_item(encode(full_item())).value() == full_item());
    CHECK(decode_instance_record(encode(full_record(true))).value() == full_record(true));
    CHECK(decode_instance_record(encode(full_record(false))).value() == full_record(false));
  }

  TEST_CASE("an empty custom status is kept apart from none") {
    InstanceRecord r = full_record(false);
    r.custom_status = "";
    const auto decoded = decode_instance_record(encode(r)).value();
    REQUIRE(decoded.custom_status.has_value());
    CHECK(decoded.custom_status->empty());
  }

  TEST_CASE("the encoding starts with the newest class version, little-endian") {
    const std::string two("\x02\x00\x00\x00", 4);
    const std::string three("\x03\x00\x00\x00", 4);
    CHECK(encode(full_event()).substr(0, 4) == three);
    CHECK(encode(full_message()).substr(0, 4) == three);
    CHECK(encode(full_record(true)).substr(0, 4) == three);
    CHECK(encode(full_item()).substr(0, 4) == two);
  }

  TEST_CASE("the fields added in class version 2 round trip") {
    for (const EventKind kind :
         {EventKind::SubOrchestrationScheduled, EventKind::SubOrchestrationCompleted,
          EventKind::SubOrchestrationFailed, EventKind::OrchestrationScheduled,
          EventKind::CancelRequested}) {
      CHECK(decode_history_event(encode(child_event(kind))).value() == child_event(kind));
    }
    for (const MessageKind kind :
         {MessageKind::SubOrchestrationCompleted, MessageKind::SubOrchestrationFailed,
          MessageKind::ActivityAbandoned, MessageKind::StartOrchestration}) {
      OrchestratorMessage m = full_message();
      m.kind = kind;
      m.parent_id = "parent-1";
      m.parent_execution_id = 4;
      CHECK(decode_orchestrator_message(encode(m)).value() == m);
    }
    InstanceRecord r = full_record(true);
    r.parent_execution_id = 3;
    r.parent_event_id = 12;
    CHECK(decode_instance_record(encode(r)).value() == r);
  }

  TEST_CASE("the recovery count of class version 3 round trips; a version 2 row has none") {
    InstanceRecord r = full_record(true);
    r.recovery_attempts = 7;
    const std::string bytes = encode(r);
    CHECK(decode_instance_record(bytes).value() == r);
    // The same row as class version 2 wrote it: without the count and the checksum.
    std::string v2 = bytes.substr(0, bytes.size() - 4 - 4);
    v2[0] = 2;
    r.recovery_attempts = 0;
    CHECK(decode_instance_record(v2).value() == r);
    CHECK(peek_instance_state(v2).value() == InstanceState::Failed);
  }

  TEST_CASE("records of class version 1 decode with the newer fields empty") {
    HistoryEvent event = full_event();
    CHECK(decode_history_event(v1_event(11)).value() == event);
    event.kind = EventKind::OrchestrationContinuedAsNew;
    CHECK(decode_history_event(v1_event(12)).value() == event);

    OrchestratorMessage message = full_message();
    CHECK(decode_orchestrator_message(v1_message(4)).value() == message);
    message.kind = MessageKind::CancelRequested;
    CHECK(decode_orchestrator_message(v1_message(6)).value() == message);

    for (const std::uint8_t flag : {0, 1}) {
      const InstanceRecord record = full_record(flag == 1);
      const InstanceRecord decoded = decode_instance_record(v1_record(flag)).value();
      CHECK(decoded == record);
      CHECK(decoded.parent_execution_id == 0);
      CHECK(decoded.parent_event_id == 0);
    }
  }

  TEST_CASE("a class version 1 record with a kind added in version 2 is Corruption") {
    for (const std::uint8_t kind : {13, 17}) {
      auto decoded = decode_history_event(v1_event(kind));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
    for (const std::uint8_t kind : {7, 9}) {
      auto decoded = decode_orchestrator_message(v1_message(kind));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
  }

  TEST_CASE("every truncation of a record is Corruption") {
    const std::string records[] = {encode(full_event()), encode(full_message()),
                                   encode(full_item()), encode(full_record(true))};
    for (const auto& bytes : records) {
      for (std::size_t size = 0; size < bytes.size(); ++size) {
        const std::string prefix = bytes.substr(0, size);
        check_never_crashes(prefix);
      }
    }
    const std::string event = encode(full_event());
    for (std::size_t size = 0; size < event.size(); ++size) {
      auto decoded = decode_history_event(event.substr(0, size));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
  }

  TEST_CASE("trailing bytes are Corruption") {
    CHECK(decode_activity_work_item(encode(full_item()) + "x").error().code ==
          ErrorCode::Corruption);
    auto decoded = decode_activity_work_item(sealed(body_of(encode(full_item())) + "x"));
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == ErrorCode::Corruption);
    CHECK(decoded.error().message.find("trailing") != std::string::npos);
  }

  TEST_CASE("an unknown class version is Corruption") {
    const std::string records[] = {encode(full_event()), encode(full_message()),
                                   encode(full_item()), encode(full_record(true))};
    for (const char version : {'\0', '\4'}) {
      for (std::string bytes : records) {
        bytes[0] = version;
        check_never_crashes(bytes);
        check_never_crashes(resealed(bytes));
      }
      std::string bytes = encode(full_event());
      bytes[0] = version;
      auto decoded = decode_history_event(resealed(bytes));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
      CHECK(decoded.error().message.find("version " + std::to_string(int{version})) !=
            std::string::npos);
    }
    std::string item = encode(full_item());
    item[0] = 3;  // ActivityWorkItem has class versions 1 and 2
    CHECK(decode_activity_work_item(resealed(item)).error().code == ErrorCode::Corruption);
  }

  TEST_CASE("enum values out of range are Corruption") {
    // HistoryEvent: u32 version, u64 event_id, then the kind byte.
    constexpr std::size_t kEventKindOffset = 4 + 8;
    for (const unsigned char kind : {0, 18, 255}) {
      std::string bytes = encode(full_event());
      bytes[kEventKindOffset] = static_cast<char>(kind);
      auto decoded = decode_history_event(resealed(bytes));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
    // OrchestratorMessage: u32 version, instance_id, u64 execution_id, then the kind byte.
    const std::size_t message_kind = 4 + 8 + full_message().instance_id.size() + 8;
    for (const unsigned char kind : {0, 10, 255}) {
      std::string bytes = encode(full_message());
      bytes[message_kind] = static_cast<char>(kind);
      CHECK(decode_orchestrator_message(resealed(bytes)).error().code == ErrorCode::Corruption);
    }
    // The newest kinds are in range in the newest class version.
    std::string bytes = encode(full_event());
    bytes[kEventKindOffset] = static_cast<char>(EventKind::CancelRequested);
    CHECK(decode_history_event(resealed(bytes)).value().kind == EventKind::CancelRequested);
  }

  TEST_CASE("a custom status flag other than 0 or 1 is Corruption") {
    const InstanceRecord r = full_record(false);
    std::string bytes = encode(r);
    // The record ends with the flag, parent_id (u64 length and bytes), the two u64 fields of
    // class version 2, the u32 count of class version 3 and the checksum.
    const std::size_t flag = bytes.size() - 4 - 4 - 8 - 8 - (8 + r.parent_id.size()) - 1;
    REQUIRE(bytes[flag] == 0);
    bytes[flag] = 2;
    auto decoded = decode_instance_record(resealed(bytes));
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == ErrorCode::Corruption);
    CHECK(decoded.error().message.find("custom status flag") != std::string::npos);
    // The same flag in a version 1 record.
    auto legacy = decode_instance_record(v1_record(2));
    REQUIRE_FALSE(legacy);
    CHECK(legacy.error().code == ErrorCode::Corruption);
  }

  TEST_CASE("a huge declared string length is Corruption without allocating it") {
    // OrchestratorMessage: u32 version, then instance_id as u64 length and bytes.
    std::string bytes = encode(full_message());
    for (const std::uint64_t size :
         {std::uint64_t{1} << 62, ~std::uint64_t{0}, std::uint64_t{1} << 32}) {
      std::memcpy(bytes.data() + 4, &size, sizeof(size));
      auto decoded = decode_orchestrator_message(resealed(bytes));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
  }

  TEST_CASE("every flipped bit either decodes or is Corruption") {
    const std::string records[] = {encode(full_event()), encode(full_item()),
                                   encode(full_record(true))};
    for (const auto& original : records) {
      for (std::size_t bit = 0; bit < original.size() * 8; ++bit) {
        std::string bytes = original;
        bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
        check_never_crashes(bytes);
      }
    }
  }

  TEST_CASE("every flipped bit of a checksummed record is Corruption") {
    // A flip in the version that makes it older leaves the record unchecked: then the checksum
    // is trailing bytes or the fields do not fit, which is Corruption too.
    auto each_flip = [](const std::string& original, auto decode) {
      for (std::size_t bit = 0; bit < original.size() * 8; ++bit) {
        std::string bytes = original;
        bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
        auto decoded = decode(bytes);
        CAPTURE(bit);
        REQUIRE_FALSE(decoded);
        CHECK(decoded.error().code == ErrorCode::Corruption);
      }
    };
    each_flip(encode(full_event()), decode_history_event);
    each_flip(encode(full_message()), decode_orchestrator_message);
    each_flip(encode(full_item()), decode_activity_work_item);
    each_flip(encode(full_record(true)), decode_instance_record);
  }

  TEST_CASE("CRC-32C matches its check value, in both implementations") {
    CHECK(crc32c("123456789") == 0xE3069283u);
    CHECK(crc32c_portable("123456789") == 0xE3069283u);
    CHECK(crc32c("") == 0u);
    std::string bytes(1000, '\0');
    std::mt19937 random(3);
    for (auto& byte : bytes) byte = static_cast<char>(random());
    for (std::size_t size = 0; size <= bytes.size(); size += 37) {
      CHECK(crc32c(std::string_view(bytes).substr(0, size)) ==
            crc32c_portable(std::string_view(bytes).substr(0, size)));
    }
  }

  TEST_CASE("peeks read the leading fields of an encoded record") {
    CHECK(peek_instance_state(encode(full_record(true))).value() == InstanceState::Failed);
    CHECK(peek_instance_state(v1_record(0)).value() == InstanceState::Failed);
    CHECK(peek_message_instance_id(encode(full_message())).value() == "order-17");
    CHECK(peek_message_instance_id(v1_message(1)).value() == "order-17");
    CHECK(peek_work_item_instance_id(encode(full_item())).value() == "order-17");
    const std::string record = encode(full_record(true));
    const std::string message = encode(full_message());
    for (std::size_t size = 0; size < 4 + 8 + 8; ++size) {
      CHECK(peek_instance_state(record.substr(0, size)).error().code == ErrorCode::Corruption);
      CHECK(peek_message_instance_id(message.substr(0, size)).error().code ==
            ErrorCode::Corruption);
    }
    std::string unknown = message;
    unknown[0] = 4;
    CHECK(peek_message_instance_id(unknown).error().code == ErrorCode::Corruption);
  }

  TEST_CASE("random bytes either decode or are Corruption") {
    std::mt19937_64 random(20240501);
    for (int round = 0; round < 5000; ++round) {
      std::string bytes(random() % 200, '\0');
      for (auto& byte : bytes) byte = static_cast<char>(random());
      // Half of them claim a known class version (1 or 2), so the decoders read further.
      if (round % 2 == 0 && bytes.size() >= 4) {
        std::memcpy(bytes.data(), round % 4 == 0 ? "\x01\x00\x00\x00" : "\x02\x00\x00\x00", 4);
      }
      check_never_crashes(bytes);
    }
  }
}

}  // namespace duroxide::storage
