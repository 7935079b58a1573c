// SPDX-License-Identifier: MIT
// Big-endian key encodings of the LMDB sub-databases, so that LMDB's byte order is the useful one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/limits.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide::storage {

/// LMDB's largest key (0.9.x default build) is 511 bytes; a history key adds 18 bytes to the id.
inline constexpr std::size_t kMaxLmdbKeyBytes = 511;
inline constexpr std::size_t kHistoryKeyOverhead = 2 + 8 + 8;
// The store accepts the ids every layer accepts (duroxide::kMaxInstanceIdBytes); every key
// that holds one must fit LMDB.
static_assert(kMaxInstanceIdBytes + kHistoryKeyOverhead <= kMaxLmdbKeyBytes);
inline constexpr std::size_t kQueueKeyBytes = 16;

using QueueKeyBytes = std::array<char, kQueueKeyBytes>;

/// Returns: true for an id of 1..kMaxInstanceIdBytes bytes (any bytes otherwise).
bool valid_instance_id(std::string_view instance_id);

/// Decoded key of the `history` sub-database.
struct HistoryKey {
  std::string instance_id;
  std::uint64_t execution_id = 0;
  std::uint64_t event_id = 0;
  friend bool operator==(const HistoryKey&, const HistoryKey&) = default;
};

/// Returns: be16(len(id)) id be64(execution_id) be64(event_id).
/// Requires: valid_instance_id(instance_id).
std::string encode_history_key(std::string_view instance_id, std::uint64_t execution_id,
                               std::uint64_t event_id);
/// Returns: the leading part shared by every history key of one instance: be16(len(id)) id.
/// Requires: valid_instance_id(instance_id).
std::string history_instance_prefix(std::string_view instance_id);
/// Returns: the leading part shared by every key of one execution (the key minus the event id).
/// Requires: valid_instance_id(instance_id).
std::string history_key_prefix(std::string_view instance_id, std::uint64_t execution_id);
/// Returns: the key, or Corruption when the length fields do not match the bytes.
Result<HistoryKey, Error> decode_history_key(std::string_view bytes);

/// Returns: be64(visible_at with the sign bit flipped) be64(seq): negative times sort first.
QueueKeyBytes encode_queue_key(const QueueKey& key);
/// Returns: the key, or Corruption unless `bytes` is exactly kQueueKeyBytes long.
Result<QueueKey, Error> decode_queue_key(std::string_view bytes);

/// Returns: the id, or Corruption if it is not a valid instance id.
Result<std::string, Error> decode_instance_key(std::string_view bytes);

/// Big-endian helpers, also used for the `meta` values.
void put_be16(std::string& out, std::uint16_t value);
void put_be32(std::string& out, std::uint32_t value);
void put_be64(std::string& out, std::uint64_t value);
/// Requires: bytes.size() >= 2, 4, 8 respectively (reads the first bytes).
std::uint16_t get_be16(std::string_view bytes);
std::uint32_t get_be32(std::string_view bytes);
std::uint64_t get_be64(std::string_view bytes);

}  // namespace duroxide::storage
