// SPDX-License-Identifier: MIT
// The decoders of on-disk records, as one function of arbitrary bytes, for fuzzing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace duroxide::fuzz {

/// The record kinds; the first input byte picks one (modulo kKinds).
enum class RecordKind : std::uint8_t {
  HistoryEvent,
  OrchestratorMessage,
  ActivityWorkItem,
  InstanceRecord,
  HistoryKey,
  QueueKey,
  InstanceKey,
};
inline constexpr std::uint8_t kKinds = 7;

/// Decodes `bytes` as `kind` (and the cheap peeks where they exist). A record that decodes
/// must encode back to the same bytes and decode to the same value; anything else aborts,
/// which is what the fuzzer reports.
void check_decoders(RecordKind kind, std::string_view bytes);

}  // namespace duroxide::fuzz
