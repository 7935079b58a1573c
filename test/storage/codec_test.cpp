// SPDX-License-Identifier: MIT
// Tests of the record codec: round trips, and hostile bytes that must decode to Corruption.
#include "storage/codec.hpp"

#include "storage/checksum.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "test/testlib/record_bytes.hpp"

namespace duroxide::storage {
namespace {

using testlib::RecordBytes;
using testlib::sealed;

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

/// A HistoryEvent in class version 1: no `instance`.
std::string v1_event(std::uint8_t kind) {
  return RecordBytes()
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
  return RecordBytes()
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
  RecordBytes out;
  out.u32(1).str("order-17").str("Checkout").str("1.2.3").u8(3).u64(2).i64(100).i64(200).str("");
  out.u32(1).u8(2).str("Nondeterminism").str("call 3 diverged");
  out.u8(has_custom_status);
  if (has_custom_status == 1) out.str("halfway");
  out.str("parent-1");
  return out.bytes();
}

/// Returns: an encoded record without its checksum.
std::string body_of(const std::string& record) { return record.substr(0, record.size() - 4); }

/// Returns: a record changed after encoding, with a checksum that matches again, so that the
/// checks behind the checksum see the change.
std::string resealed(const std::string& record) { return sealed(body_of(record)); }

std::uint8_t byte_of(auto enumerator) { return static_cast<std::uint8_t>(enumerator); }

/// `e` as class version 3 wrote it: fixed-width fields, closed with a checksum.
std::string v3_event(const HistoryEvent& e) {
  return sealed(RecordBytes()
                    .u32(3)
                    .u64(e.event_id)
                    .u8(byte_of(e.kind))
                    .u64(e.source_id)
                    .i64(e.timestamp)
                    .u8(byte_of(e.category))
                    .str(e.name)
                    .str(e.version)
                    .str(e.data)
                    .str(e.instance)
                    .bytes());
}

/// `m` as class version 3 wrote it.
std::string v3_message(const OrchestratorMessage& m) {
  return sealed(RecordBytes()
                    .u32(3)
                    .str(m.instance_id)
                    .u64(m.execution_id)
                    .u8(byte_of(m.kind))
                    .u64(m.source_id)
                    .i64(m.visible_at)
                    .str(m.name)
                    .str(m.version)
                    .str(m.data)
                    .str(m.parent_id)
                    .u64(m.parent_execution_id)
                    .bytes());
}

/// `item` as class version 2 wrote it.
std::string v2_item(const ActivityWorkItem& item) {
  return sealed(RecordBytes()
                    .u32(2)
                    .str(item.instance_id)
                    .u64(item.execution_id)
                    .str(item.orchestration_name)
                    .u64(item.activity_id)
                    .str(item.name)
                    .str(item.input)
                    .u32(item.attempt)
                    .bytes());
}

/// `r` as class version 3 wrote it, with ErrorDetails version 1 inside; without the checksum.
std::string v3_record_body(const InstanceRecord& r) {
  RecordBytes out;
  out.u32(3).str(r.instance_id).str(r.name).str(r.version).u8(byte_of(r.state));
  out.u64(r.execution_id).i64(r.created_at).i64(r.updated_at).str(r.output);
  out.u32(1).u8(byte_of(r.error.category())).str(r.error.kind()).str(r.error.message());
  out.u8(r.custom_status.has_value() ? 1 : 0);
  if (r.custom_status) out.str(*r.custom_status);
  out.str(r.parent_id).u64(r.parent_execution_id).u64(r.parent_event_id).u32(r.recovery_attempts);
  return out.bytes();
}

std::string v3_record(const InstanceRecord& r) { return sealed(v3_record_body(r)); }

/// `e` in the compact layout of class version 4, built by hand from storage/FORMAT.md.
std::string v4_event(const HistoryEvent& e) {
  return sealed(RecordBytes()
                    .u32(4)
                    .uvar(e.event_id)
                    .u8(byte_of(e.kind))
                    .uvar(e.source_id)
                    .svar(e.timestamp)
                    .u8(byte_of(e.category))
                    .vstr(e.name)
                    .vstr(e.version)
                    .vstr(e.data)
                    .vstr(e.instance)
                    .bytes());
}

std::string v4_message(const OrchestratorMessage& m) {
  return sealed(RecordBytes()
                    .u32(4)
                    .vstr(m.instance_id)
                    .uvar(m.execution_id)
                    .u8(byte_of(m.kind))
                    .uvar(m.source_id)
                    .svar(m.visible_at)
                    .vstr(m.name)
                    .vstr(m.version)
                    .vstr(m.data)
                    .vstr(m.parent_id)
                    .uvar(m.parent_execution_id)
                    .bytes());
}

std::string v3_item(const ActivityWorkItem& item) {
  return sealed(RecordBytes()
                    .u32(3)
                    .vstr(item.instance_id)
                    .uvar(item.execution_id)
                    .vstr(item.orchestration_name)
                    .uvar(item.activity_id)
                    .vstr(item.name)
                    .vstr(item.input)
                    .uvar(item.attempt)
                    .bytes());
}

/// `r` in class version 4, with ErrorDetails `error_version` (2, the compact one, as the
/// encoder writes it) inside.
std::string v4_record(const InstanceRecord& r, std::uint32_t error_version = 2) {
  RecordBytes out;
  out.u32(4).vstr(r.instance_id).vstr(r.name).vstr(r.version).u8(byte_of(r.state));
  out.uvar(r.execution_id).svar(r.created_at).svar(r.updated_at).vstr(r.output);
  out.u32(error_version).u8(byte_of(r.error.category()));
  if (error_version == 2) {
    out.vstr(r.error.kind()).vstr(r.error.message());
  } else {
    out.str(r.error.kind()).str(r.error.message());
  }
  out.u8(r.custom_status.has_value() ? 1 : 0);
  if (r.custom_status) out.vstr(*r.custom_status);
  out.vstr(r.parent_id).uvar(r.parent_execution_id).uvar(r.parent_event_id);
  out.uvar(r.recovery_attempts);
  return sealed(out.bytes());
}

/// Every field at the far end of its range: u64 and u32 maxima, the most negative and the
/// largest timestamps, empty strings and long ones (lengths of 3-byte varints).
HistoryEvent extreme_event(std::int64_t timestamp) {
  HistoryEvent e;
  e.event_id = std::numeric_limits<std::uint64_t>::max();
  e.kind = EventKind::CancelRequested;
  e.source_id = std::numeric_limits<std::uint64_t>::max() - 1;
  e.timestamp = timestamp;
  e.category = ErrorCategory::Poison;
  e.name = "";
  e.version = std::string(127, 'v');  // the longest one-byte length
  e.data = std::string(100'000, '\xff');
  e.instance = std::string(128, 'i');  // the shortest two-byte length
  return e;
}

OrchestratorMessage extreme_message() {
  OrchestratorMessage m;
  m.instance_id = std::string(16384, 'o');  // the shortest three-byte length
  m.execution_id = std::numeric_limits<std::uint64_t>::max();
  m.kind = MessageKind::ActivityAbandoned;
  m.source_id = std::uint64_t{1} << 63;
  m.visible_at = std::numeric_limits<std::int64_t>::min();
  m.name = "";
  m.version = "";
  m.data = std::string(70'000, '\0');
  m.parent_id = "";
  m.parent_execution_id = std::numeric_limits<std::uint64_t>::max();
  return m;
}

ActivityWorkItem extreme_item() {
  ActivityWorkItem item;
  item.instance_id = "";
  item.execution_id = std::numeric_limits<std::uint64_t>::max();
  item.orchestration_name = std::string(300, 'n');
  item.activity_id = std::numeric_limits<std::uint64_t>::max();
  item.name = "";
  item.input = std::string(1 << 20, 'x');
  item.attempt = std::numeric_limits<std::uint32_t>::max();
  return item;
}

InstanceRecord extreme_record() {
  InstanceRecord r = full_record(true);
  r.execution_id = std::numeric_limits<std::uint64_t>::max();
  r.created_at = std::numeric_limits<std::int64_t>::min();
  r.updated_at = std::numeric_limits<std::int64_t>::max();
  r.output = std::string(200'000, 'p');
  r.error = ErrorDetails(ErrorCategory::Infrastructure, "", std::string(129, 'm'));
  r.custom_status = "";
  r.parent_id = "";
  r.parent_execution_id = std::numeric_limits<std::uint64_t>::max();
  r.parent_event_id = std::numeric_limits<std::uint64_t>::max();
  r.recovery_attempts = std::numeric_limits<std::uint32_t>::max();
  return r;
}

/// The five events of a hello-world execution (one activity), as the runtime writes them.
std::vector<HistoryEvent> hello_world_events() {
  constexpr std::int64_t kNow = 1'700'000'000'000;  // 2023, in ms
  auto event = [&](std::uint64_t id, EventKind kind, std::uint64_t source, std::string name,
                   std::string version, std::string data) {
    HistoryEvent e;
    e.event_id = id;
    e.kind = kind;
    e.source_id = source;
    e.timestamp = kNow + static_cast<std::int64_t>(id);
    e.name = std::move(name);
    e.version = std::move(version);
    e.data = std::move(data);
    return e;
  };
  return {event(1, EventKind::OrchestrationStarted, 0, "Hello", "1.0.0", "user-17"),
          event(2, EventKind::ActivityScheduled, 0, "Greet", "", "user-17"),
          event(3, EventKind::TurnStarted, 0, "", "", ""),
          event(4, EventKind::ActivityCompleted, 2, "", "", "Hello, user-17!"),
          event(5, EventKind::OrchestrationCompleted, 0, "", "", "Hello, user-17!")};
}

/// The bytes of `record` with the field of `size` bytes at `offset` replaced by `field`,
/// resealed, so that the field's decoder sees it.
std::string with_field(const std::string& record, std::size_t offset, std::size_t size,
                       std::string_view field) {
  std::string body = body_of(record);
  body.replace(offset, size, field);
  return sealed(std::move(body));
}

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
    const std::string three("\x03\x00\x00\x00", 4);
    const std::string four("\x04\x00\x00\x00", 4);
    CHECK(encode(full_event()).substr(0, 4) == four);
    CHECK(encode(full_message()).substr(0, 4) == four);
    CHECK(encode(full_record(true)).substr(0, 4) == four);
    CHECK(encode(full_item()).substr(0, 4) == three);
  }

  TEST_CASE("the encoder writes the compact layout of storage/FORMAT.md, byte for byte") {
    CHECK(encode(full_event()) == v4_event(full_event()));
    CHECK(encode(child_event(EventKind::SubOrchestrationScheduled)) ==
          v4_event(child_event(EventKind::SubOrchestrationScheduled)));
    CHECK(encode(full_message()) == v4_message(full_message()));
    CHECK(encode(full_item()) == v3_item(full_item()));
    CHECK(encode(full_record(true)) == v4_record(full_record(true)));
    CHECK(encode(full_record(false)) == v4_record(full_record(false)));
    for (const std::int64_t timestamp :
         {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
      CHECK(encode(extreme_event(timestamp)) == v4_event(extreme_event(timestamp)));
    }
    CHECK(encode(extreme_message()) == v4_message(extreme_message()));
    CHECK(encode(extreme_item()) == v3_item(extreme_item()));
    CHECK(encode(extreme_record()) == v4_record(extreme_record()));
    // The varints themselves: event_id 42 is one byte, u64 max ten; timestamps zigzag.
    CHECK(RecordBytes().uvar(42).bytes() == "\x2a");
    CHECK(RecordBytes().uvar(300).bytes() == "\xac\x02");
    CHECK(RecordBytes().uvar(~std::uint64_t{0}).bytes() == std::string(9, '\xff') + "\x01");
    CHECK(RecordBytes().svar(-1).bytes() == "\x01");
    CHECK(RecordBytes().svar(1).bytes() == "\x02");
    CHECK(RecordBytes().svar(-64).bytes() == "\x7f");
    CHECK(RecordBytes().svar(64).bytes() == "\x80\x01");
    CHECK(RecordBytes().svar(std::numeric_limits<std::int64_t>::min()).bytes() ==
          std::string(9, '\xff') + "\x01");
  }

  TEST_CASE("fields at the ends of their ranges round trip in the compact layout") {
    for (const std::int64_t timestamp :
         {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}, std::int64_t{0},
          std::int64_t{-1234567890123}, std::numeric_limits<std::int64_t>::max()}) {
      CAPTURE(timestamp);
      CHECK(decode_history_event(encode(extreme_event(timestamp))).value() ==
            extreme_event(timestamp));
    }
    CHECK(decode_orchestrator_message(encode(extreme_message())).value() == extreme_message());
    CHECK(decode_activity_work_item(encode(extreme_item())).value() == extreme_item());
    CHECK(decode_instance_record(encode(extreme_record())).value() == extreme_record());
    CHECK(peek_message_instance_id(encode(extreme_message())).value() ==
          extreme_message().instance_id);
    CHECK(peek_work_item_instance_id(encode(extreme_item())).value() == "");
    CHECK(peek_instance_state(encode(extreme_record())).value() == InstanceState::Failed);
    // A u64 maximum takes ten bytes, one more than in the fixed layout.
    HistoryEvent e;
    e.event_id = std::numeric_limits<std::uint64_t>::max();
    CHECK(encode(e).size() == encode(HistoryEvent{}).size() + 9);
  }

  TEST_CASE("a hello-world instance is smaller: 44 bytes each event, 77 its row") {
    // Fixed layout (version 3): u32 version, u64 event_id, kind, u64 source_id, i64 timestamp,
    // category, four u64 string lengths, crc: 66 bytes besides the strings. Compact (version
    // 4): the version, one byte each for event_id, kind, source_id and category, six for a
    // zigzag timestamp of 2023 (below 2^42 after the mapping), four one-byte lengths and the
    // crc: 22.
    std::size_t fixed_total = 0;
    std::size_t compact_total = 0;
    for (const HistoryEvent& e : hello_world_events()) {
      CAPTURE(e.event_id);
      const std::size_t text = e.name.size() + e.version.size() + e.data.size();
      const std::string fixed = v3_event(e);
      const std::string compact = encode(e);
      CHECK(fixed.size() == 66 + text);
      CHECK(compact.size() == 22 + text);
      CHECK(decode_history_event(fixed).value() == decode_history_event(compact).value());
      fixed_total += fixed.size();
      compact_total += compact.size();
    }
    CHECK(fixed_total == 5 * 66 + 59);
    CHECK(compact_total == 5 * 22 + 59);

    // The row of the finished instance: 77 bytes fewer (7 for each of its 7 string lengths,
    // 7 for each of its 3 u64 fields, 2 for each of its 2 timestamps, 3 for its u32 count).
    InstanceRecord row;
    row.instance_id = "hello-17";
    row.name = "Hello";
    row.version = "1.0.0";
    row.state = InstanceState::Completed;
    row.created_at = 1'700'000'000'000;
    row.updated_at = 1'700'000'000'005;
    row.output = "Hello, user-17!";
    const std::string fixed_row = v3_record(row);
    const std::string compact_row = encode(row);
    CHECK(fixed_row.size() == 148);
    CHECK(compact_row.size() == 71);
    CHECK(decode_instance_record(fixed_row).value() == row);
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
    CHECK(decode_instance_record(encode(r)).value() == r);
    CHECK(decode_instance_record(v3_record(r)).value() == r);
    // The same row as class version 2 wrote it: without the count and the checksum.
    std::string v2 = v3_record_body(r);
    v2.resize(v2.size() - 4);
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

  TEST_CASE("records of the fixed layout with a checksum (version 3, work items 2) decode") {
    CHECK(decode_history_event(v3_event(full_event())).value() == full_event());
    CHECK(decode_history_event(v3_event(HistoryEvent{})).value() == HistoryEvent{});
    for (const EventKind kind :
         {EventKind::SubOrchestrationScheduled, EventKind::CancelRequested}) {
      CHECK(decode_history_event(v3_event(child_event(kind))).value() == child_event(kind));
    }
    for (const std::int64_t timestamp :
         {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
      CHECK(decode_history_event(v3_event(extreme_event(timestamp))).value() ==
            extreme_event(timestamp));
    }
    OrchestratorMessage message = full_message();
    message.parent_id = "parent-1";
    message.parent_execution_id = 4;
    CHECK(decode_orchestrator_message(v3_message(message)).value() == message);
    CHECK(decode_orchestrator_message(v3_message(extreme_message())).value() == extreme_message());
    CHECK(decode_activity_work_item(v2_item(full_item())).value() == full_item());
    CHECK(decode_activity_work_item(v2_item(extreme_item())).value() == extreme_item());
    for (const bool custom_status : {false, true}) {
      InstanceRecord r = full_record(custom_status);
      r.parent_execution_id = 3;
      r.parent_event_id = 12;
      r.recovery_attempts = 2;
      CHECK(decode_instance_record(v3_record(r)).value() == r);
    }
    CHECK(decode_instance_record(v3_record(extreme_record())).value() == extreme_record());
    // Damage behind the checksum of an old record is found as in a new one.
    std::string damaged = v3_event(full_event());
    damaged[20] = static_cast<char>(damaged[20] ^ 1);
    CHECK(decode_history_event(damaged).error().code == ErrorCode::Corruption);
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
    for (const char version : {'\0', '\5'}) {
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
    item[0] = 4;  // ActivityWorkItem has class versions 1 to 3
    CHECK(decode_activity_work_item(resealed(item)).error().code == ErrorCode::Corruption);
    // ErrorDetails has class versions 1 and 2.
    std::string record = v4_record(full_record(true), 3);
    CHECK(decode_instance_record(record).error().code == ErrorCode::Corruption);
  }

  TEST_CASE("enum values out of range are Corruption") {
    // HistoryEvent: u32 version, event_id (42: one varint byte), then the kind byte.
    constexpr std::size_t kEventKindOffset = 4 + 1;
    for (const unsigned char kind : {0, 18, 255}) {
      std::string bytes = encode(full_event());
      bytes[kEventKindOffset] = static_cast<char>(kind);
      auto decoded = decode_history_event(resealed(bytes));
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
    // OrchestratorMessage: u32 version, instance_id, execution_id (3: one byte), then the kind.
    const std::size_t message_kind = 4 + 1 + full_message().instance_id.size() + 1;
    for (const unsigned char kind : {0, 10, 255}) {
      std::string bytes = encode(full_message());
      bytes[message_kind] = static_cast<char>(kind);
      CHECK(decode_orchestrator_message(resealed(bytes)).error().code == ErrorCode::Corruption);
    }
    // The newest kinds are in range in the newest class version.
    std::string bytes = encode(full_event());
    bytes[kEventKindOffset] = static_cast<char>(EventKind::CancelRequested);
    CHECK(decode_history_event(resealed(bytes)).value().kind == EventKind::CancelRequested);
    // The same in the fixed layout: u32 version, u64 event_id, then the kind byte.
    for (const unsigned char kind : {0, 18, 255}) {
      std::string legacy = v3_event(full_event());
      legacy[4 + 8] = static_cast<char>(kind);
      CHECK(decode_history_event(resealed(legacy)).error().code == ErrorCode::Corruption);
    }
  }

  TEST_CASE("a custom status flag other than 0 or 1 is Corruption") {
    const InstanceRecord r = full_record(false);
    std::string bytes = encode(r);
    // The record ends with the flag, parent_id (length and bytes), parent_execution_id,
    // parent_event_id and recovery_attempts (all 0: one byte each) and the checksum.
    const std::size_t flag = bytes.size() - 4 - 1 - 1 - 1 - (1 + r.parent_id.size()) - 1;
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
    // OrchestratorMessage: u32 version, then instance_id as length and bytes.
    for (const std::uint64_t size :
         {std::uint64_t{1} << 62, ~std::uint64_t{0}, std::uint64_t{1} << 32}) {
      CAPTURE(size);
      // The compact layout: a varint length, one byte for the 8 bytes of "order-17".
      const std::string bytes =
          with_field(encode(full_message()), 4, 1, RecordBytes().uvar(size).bytes());
      auto decoded = decode_orchestrator_message(bytes);
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
      CHECK(decoded.error().message.find("string of") != std::string::npos);
      CHECK(peek_message_instance_id(bytes).error().code == ErrorCode::Corruption);
      // The fixed layout: a u64 length.
      std::string legacy = v3_message(full_message());
      std::memcpy(legacy.data() + 4, &size, sizeof(size));
      CHECK(decode_orchestrator_message(resealed(legacy)).error().code == ErrorCode::Corruption);
    }
  }

  TEST_CASE("malformed varints are Corruption, behind a matching checksum") {
    // HistoryEvent: u32 version, then event_id (42: one byte).
    const std::string event = encode(full_event());
    auto event_with_id = [&](std::string_view varint) {
      return decode_history_event(with_field(event, 4, 1, varint));
    };
    auto rejects = [](const auto& decoded, std::string_view why) {
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
      INFO(decoded.error().message);
      CHECK(decoded.error().message.find(why) != std::string::npos);
    };
    // 11 bytes: ten with the continuation bit, then a last one.
    rejects(event_with_id(std::string(10, '\x80') + "\x01"), "varint longer than 10 bytes");
    rejects(event_with_id(std::string(11, '\xff')), "varint longer than 10 bytes");
    // Ten bytes whose last one holds more than the 64th bit.
    rejects(event_with_id(std::string(9, '\xff') + "\x02"), "varint overflows 64 bits");
    rejects(event_with_id(std::string(9, '\x80') + "\x7f"), "varint overflows 64 bits");
    // A trailing zero group: 42 in two bytes, 0 in two, 0 in ten.
    rejects(event_with_id(std::string("\xaa\0", 2)), "shortest form");
    rejects(event_with_id(std::string("\x80\0", 2)), "shortest form");
    rejects(event_with_id(std::string(9, '\x80') + '\0'), "shortest form");
    // Cut off: the continuation bit set on the last byte of the record.
    rejects(decode_history_event(sealed(RecordBytes().u32(4).u8(0x80).bytes())), "truncated");
    // The largest value fits.
    CHECK(event_with_id(std::string(9, '\xff') + "\x01").value().event_id ==
          std::numeric_limits<std::uint64_t>::max());

    // A timestamp (zigzag) overflows the same way.
    HistoryEvent e = full_event();
    const std::string timestamp_bytes = RecordBytes().svar(e.timestamp).bytes();
    const std::size_t timestamp = 4 + 1 + 1 + 1;  // version, event_id, kind, source_id
    REQUIRE(encode(e).substr(timestamp, timestamp_bytes.size()) == timestamp_bytes);
    rejects(decode_history_event(with_field(encode(e), timestamp, timestamp_bytes.size(),
                                            std::string(9, '\xff') + "\x03")),
            "varint overflows 64 bits");

    // u32 fields hold no value above 2^32 - 1: attempt ends a work item, recovery_attempts a
    // row (both one byte here).
    const std::string item = encode(full_item());
    const std::string row = encode(full_record(true));
    const std::string too_big = RecordBytes().uvar(std::uint64_t{1} << 32).bytes();
    const std::string largest = RecordBytes().uvar(std::uint32_t{0xFFFFFFFF}).bytes();
    rejects(decode_activity_work_item(with_field(item, item.size() - 4 - 1, 1, too_big)),
            "too large for a field of 4 bytes");
    rejects(decode_instance_record(with_field(row, row.size() - 4 - 1, 1, too_big)),
            "too large for a field of 4 bytes");
    rejects(decode_activity_work_item(
                with_field(item, item.size() - 4 - 1, 1, RecordBytes().uvar(~0ull).bytes())),
            "too large for a field of 4 bytes");
    CHECK(decode_activity_work_item(with_field(item, item.size() - 4 - 1, 1, largest))
              .value()
              .attempt == 0xFFFFFFFFu);
    CHECK(decode_instance_record(with_field(row, row.size() - 4 - 1, 1, largest))
              .value()
              .recovery_attempts == 0xFFFFFFFFu);

    // A string length with 11 bytes, in a queue record and in its peek.
    const std::string message =
        with_field(encode(full_message()), 4, 1, std::string(10, '\x88') + "\x01");
    rejects(decode_orchestrator_message(message), "varint longer than 10 bytes");
    CHECK(peek_message_instance_id(message).error().code == ErrorCode::Corruption);
  }

  TEST_CASE("a record nesting an ErrorDetails of the other layout is Corruption") {
    // The encoder writes ErrorDetails version 1 (fixed) in rows up to version 3 and version 2
    // (compact) in rows of version 4; other pairs are no bytes it writes.
    const InstanceRecord r = full_record(true);
    CHECK(decode_instance_record(v4_record(r, 2)).value() == r);
    auto fixed_inside = decode_instance_record(v4_record(r, 1));
    REQUIRE_FALSE(fixed_inside);
    CHECK(fixed_inside.error().code == ErrorCode::Corruption);
    CHECK(fixed_inside.error().message.find("other layout") != std::string::npos);
    // A version 3 row with a compact ErrorDetails of version 2 (one-byte lengths).
    const ErrorDetails& error = r.error;
    std::string body = v3_record_body(r);
    const std::string fixed_error = RecordBytes()
                                        .u32(1)
                                        .u8(byte_of(error.category()))
                                        .str(error.kind())
                                        .str(error.message())
                                        .bytes();
    const std::string compact_error = RecordBytes()
                                          .u32(2)
                                          .u8(byte_of(error.category()))
                                          .vstr(error.kind())
                                          .vstr(error.message())
                                          .bytes();
    const std::size_t at = body.find(fixed_error);
    REQUIRE(at != std::string::npos);
    body.replace(at, fixed_error.size(), compact_error);
    auto compact_inside = decode_instance_record(sealed(body));
    REQUIRE_FALSE(compact_inside);
    CHECK(compact_inside.error().code == ErrorCode::Corruption);
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
    each_flip(v3_event(full_event()), decode_history_event);
    each_flip(v3_message(full_message()), decode_orchestrator_message);
    each_flip(v2_item(full_item()), decode_activity_work_item);
    each_flip(v3_record(full_record(true)), decode_instance_record);
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
    CHECK(peek_instance_state(v3_record(full_record(true))).value() == InstanceState::Failed);
    CHECK(peek_message_instance_id(v3_message(full_message())).value() == "order-17");
    CHECK(peek_work_item_instance_id(v2_item(full_item())).value() == "order-17");
    // A peek needs the bytes up to the end of what it reads, and no more: in the compact layout
    // a one-byte length and "order-17", "Checkout", "1.2.3", then the state; in the fixed one
    // u64 lengths.
    struct Case {
      std::string bytes;
      std::size_t needed;
      bool is_record;
    };
    const Case cases[] = {
        {encode(full_record(true)), 4 + (1 + 8) + (1 + 8) + (1 + 5) + 1, true},
        {v3_record(full_record(true)), 4 + (8 + 8) + (8 + 8) + (8 + 5) + 1, true},
        {encode(full_message()), 4 + 1 + 8, false},
        {v3_message(full_message()), 4 + 8 + 8, false},
    };
    for (const Case& c : cases) {
      for (std::size_t size = 0; size <= c.needed; ++size) {
        CAPTURE(size);
        const std::string prefix = c.bytes.substr(0, size);
        if (c.is_record) {
          auto state = peek_instance_state(prefix);
          if (size < c.needed) CHECK(state.error().code == ErrorCode::Corruption);
          if (size == c.needed) CHECK(state.value() == InstanceState::Failed);
        } else {
          auto id = peek_message_instance_id(prefix);
          if (size < c.needed) CHECK(id.error().code == ErrorCode::Corruption);
          if (size == c.needed) CHECK(id.value() == "order-17");
        }
      }
    }
    std::string unknown = encode(full_message());
    unknown[0] = 5;
    CHECK(peek_message_instance_id(unknown).error().code == ErrorCode::Corruption);
  }

  TEST_CASE("random bytes either decode or are Corruption") {
    std::mt19937_64 random(20240501);
    for (int round = 0; round < 5000; ++round) {
      std::string bytes(random() % 200, '\0');
      for (auto& byte : bytes) byte = static_cast<char>(random());
      // Half of them claim a known class version (1 to 4), a quarter of these with a checksum
      // that matches, so the decoders read further.
      if (round % 2 == 0 && bytes.size() >= 8) {
        bytes[0] = static_cast<char>(1 + round / 2 % 4);
        std::memset(bytes.data() + 1, 0, 3);
        if (round % 16 == 0) bytes = resealed(bytes);
      }
      check_never_crashes(bytes);
    }
  }
}

}  // namespace duroxide::storage
