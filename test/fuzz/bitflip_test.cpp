// SPDX-License-Identifier: MIT
// Every decoder against every single-bit flip and every truncation of valid records: a
// deterministic sweep that runs with any compiler (the libFuzzer run goes further with clang).
#include <doctest/doctest.h>

#include "storage/codec.hpp"
#include "test/fuzz/decode_target.hpp"
#include "test/fuzz/seed_records.hpp"

using namespace duroxide::fuzz;

TEST_SUITE("fuzz") {
  TEST_CASE("the seed records decode, the hand-built fixed-width ones too") {
    namespace storage = duroxide::storage;
    for (const auto& [kind, bytes] : seed_records()) {
      // A copy: CAPTURE's lambda cannot capture a structured binding in clang 14.
      const int kind_number = static_cast<int>(kind);
      CAPTURE(kind_number);
      switch (kind) {
        case RecordKind::HistoryEvent:
          CHECK(storage::decode_history_event(bytes).has_value());
          break;
        case RecordKind::OrchestratorMessage:
          CHECK(storage::decode_orchestrator_message(bytes).has_value());
          break;
        case RecordKind::ActivityWorkItem:
          CHECK(storage::decode_activity_work_item(bytes).has_value());
          break;
        case RecordKind::InstanceRecord:
          CHECK(storage::decode_instance_record(bytes).has_value());
          break;
        default:
          break;
      }
    }
  }

  TEST_CASE("flipped bits and truncations of valid records are rejected or round-trip") {
    std::size_t inputs = 0;
    for (const auto& [kind, bytes] : seed_records()) {
      for (std::size_t length = 0; length <= bytes.size(); ++length) {
        check_decoders(kind, std::string_view(bytes).substr(0, length));
        ++inputs;
      }
      std::string flipped = bytes;
      for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        check_decoders(kind, flipped);
        // Under every other decoder too: a record read as the wrong kind.
        for (std::uint8_t other = 0; other < kKinds; ++other) {
          check_decoders(static_cast<RecordKind>(other), flipped);
        }
        flipped[bit / 8] = bytes[bit / 8];
        inputs += 1 + kKinds;
      }
    }
    MESSAGE("decoder inputs checked: " << inputs);
    CHECK(inputs > 10'000);
  }
}
