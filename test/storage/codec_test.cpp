// SPDX-License-Identifier: MIT
// Tests of the record codec: round trips, and hostile bytes that must decode to Corruption.
#include "storage/codec.hpp"

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

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

  TEST_CASE("the encoding starts with the class version 1, little-endian") {
    const std::string bytes = encode(full_event());
    REQUIRE(bytes.size() > 4);
    CHECK(bytes.substr(0, 4) == std::string("\x01\x00\x00\x00", 4));
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
    auto decoded = decode_activity_work_item(encode(full_item()) + "x");
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == ErrorCode::Corruption);
    CHECK(decoded.error().message.find("trailing") != std::string::npos);
  }

  TEST_CASE("an unknown class version is Corruption") {
    std::string bytes = encode(full_event());
    bytes[0] = 2;
    auto decoded = decode_history_event(bytes);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().message.find("version 2") != std::string::npos);
  }

  TEST_CASE("enum values out of range are Corruption") {
    // HistoryEvent: u32 version, u64 event_id, then the kind byte.
    constexpr std::size_t kKindOffset = 4 + 8;
    for (const unsigned char kind : {0, 13, 255}) {
      std::string bytes = encode(full_event());
      bytes[kKindOffset] = static_cast<char>(kind);
      auto decoded = decode_history_event(bytes);
      REQUIRE_FALSE(decoded);
      CHECK(decoded.error().code == ErrorCode::Corruption);
    }
  }

  TEST_CASE("a custom status flag other than 0 or 1 is Corruption") {
    const InstanceRecord r = full_record(false);
    std::string bytes = encode(r);
    // The record ends with the flag, then parent_id as u64 length and bytes.
    const std::size_t flag = bytes.size() - 8 - r.parent_id.size() - 1;
    REQUIRE(bytes[flag] == 0);
    bytes[flag] = 2;
    auto decoded = decode_instance_record(bytes);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == ErrorCode::Corruption);
  }

  TEST_CASE("a huge declared string length is Corruption without allocating it") {
    // OrchestratorMessage: u32 version, then instance_id as u64 length and bytes.
    std::string bytes = encode(full_message());
    for (const std::uint64_t size :
         {std::uint64_t{1} << 62, ~std::uint64_t{0}, std::uint64_t{1} << 32}) {
      std::memcpy(bytes.data() + 4, &size, sizeof(size));
      auto decoded = decode_orchestrator_message(bytes);
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

  TEST_CASE("random bytes either decode or are Corruption") {
    std::mt19937_64 random(20240501);
    for (int round = 0; round < 5000; ++round) {
      std::string bytes(random() % 200, '\0');
      for (auto& byte : bytes) byte = static_cast<char>(random());
      if (round % 2 == 0 && bytes.size() >= 4) std::memcpy(bytes.data(), "\x01\x00\x00\x00", 4);
      check_never_crashes(bytes);
    }
  }
}

}  // namespace duroxide::storage
