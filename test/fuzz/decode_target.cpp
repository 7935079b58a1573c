// SPDX-License-Identifier: MIT
// What the fuzzer checks of each decoder: no crash, and a decoded record round-trips.
#include "test/fuzz/decode_target.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/checksum.hpp"
#include "storage/codec.hpp"
#include "storage/keys.hpp"

namespace duroxide::fuzz {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "decoder check failed: %s\n", what);
  std::abort();
}

// A decoded record encodes to the very bytes it was decoded from (each record type has one
// layout and each value one encoding), which decode to an equal value again.
template <class T, class Decode>
void round_trip(std::string_view bytes, Decode decode) {
  auto decoded = decode(bytes);
  if (!decoded) {
    if (decoded.error().code != ErrorCode::Corruption) fail("an error other than Corruption");
    return;
  }
  const std::string again = storage::encode(*decoded);
  if (again != bytes) fail("a decoded record encodes to other bytes");
  auto twice = decode(again);
  if (!twice || !(*twice == *decoded)) fail("a re-encoded record decodes to another value");
}

// The same bytes with their last four replaced by the checksum of the rest: mutated input
// would almost never carry a matching checksum, and the parser behind it must be fuzzed too.
std::string resealed(std::string_view bytes) {
  std::string out(bytes.substr(0, bytes.size() - 4));
  const std::uint32_t checksum = storage::crc32c(out);
  for (int byte = 0; byte < 4; ++byte) out.push_back(static_cast<char>(checksum >> (8 * byte)));
  return out;
}

template <class T, class Decode>
void both_ways(std::string_view bytes, Decode decode) {
  round_trip<T>(bytes, decode);
  if (bytes.size() >= 4) round_trip<T>(resealed(bytes), decode);
}

}  // namespace

void check_decoders(RecordKind kind, std::string_view bytes) {
  switch (kind) {
    case RecordKind::HistoryEvent:
      both_ways<HistoryEvent>(bytes, storage::decode_history_event);
      return;
    case RecordKind::OrchestratorMessage:
      both_ways<OrchestratorMessage>(bytes, storage::decode_orchestrator_message);
      // Any answer will do: the peek must only return (its values are checked in codec_test).
      static_cast<void>(storage::peek_message_instance_id(bytes));
      return;
    case RecordKind::ActivityWorkItem:
      both_ways<ActivityWorkItem>(bytes, storage::decode_activity_work_item);
      // Any answer will do: the peek must only return (its values are checked in codec_test).
      static_cast<void>(storage::peek_work_item_instance_id(bytes));
      return;
    case RecordKind::InstanceRecord:
      both_ways<InstanceRecord>(bytes, storage::decode_instance_record);
      // Any answer will do: the peek must only return (its values are checked in codec_test).
      static_cast<void>(storage::peek_instance_state(bytes));
      return;
    case RecordKind::HistoryKey:
      if (auto key = storage::decode_history_key(bytes)) {
        if (storage::encode_history_key(key->instance_id, key->execution_id, key->event_id) !=
            bytes) {
          fail("a decoded history key does not encode to the same bytes");
        }
      }
      return;
    case RecordKind::QueueKey:
      if (auto key = storage::decode_queue_key(bytes)) {
        const auto again = storage::encode_queue_key(*key);
        if (std::string_view(again.data(), again.size()) != bytes) {
          fail("a decoded queue key does not encode to the same bytes");
        }
      }
      return;
    case RecordKind::InstanceKey:
      // Any answer will do: the decoder must only return.
      static_cast<void>(storage::decode_instance_key(bytes));
      return;
  }
}

}  // namespace duroxide::fuzz
