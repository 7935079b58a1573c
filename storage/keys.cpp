// SPDX-License-Identifier: MIT
// Big-endian key encodings of the LMDB sub-databases.
#include "storage/keys.hpp"

#include <bit>

namespace duroxide::storage {
namespace {

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

std::uint64_t get_be(std::string_view bytes, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

void store_be(char* out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = width; i > 0; --i) {
    out[width - i] = static_cast<char>((value >> (8 * (i - 1))) & 0xff);
  }
}

void put_be(std::string& out, std::uint64_t value, std::size_t width) {
  char buffer[8];
  store_be(buffer, value, width);
  out.append(buffer, width);
}

Error corrupt_key(std::string_view what, std::size_t size) {
  return Error{ErrorCode::Corruption,
               std::string(what) + " key of " + std::to_string(size) + " bytes is malformed"};
}

}  // namespace

bool valid_instance_id(std::string_view instance_id) {
  return !instance_id.empty() && instance_id.size() <= kMaxInstanceIdBytes;
}

void put_be16(std::string& out, std::uint16_t value) { put_be(out, value, 2); }
void put_be32(std::string& out, std::uint32_t value) { put_be(out, value, 4); }
void put_be64(std::string& out, std::uint64_t value) { put_be(out, value, 8); }
std::uint16_t get_be16(std::string_view bytes) {
  return static_cast<std::uint16_t>(get_be(bytes, 2));
}
std::uint32_t get_be32(std::string_view bytes) {
  return static_cast<std::uint32_t>(get_be(bytes, 4));
}
std::uint64_t get_be64(std::string_view bytes) { return get_be(bytes, 8); }

std::string history_instance_prefix(std::string_view instance_id) {
  std::string key;
  key.reserve(instance_id.size() + kHistoryKeyOverhead);
  put_be16(key, static_cast<std::uint16_t>(instance_id.size()));
  key.append(instance_id);
  return key;
}

std::string history_key_prefix(std::string_view instance_id, std::uint64_t execution_id) {
  std::string key = history_instance_prefix(instance_id);
  put_be64(key, execution_id);
  return key;
}

std::string encode_history_key(std::string_view instance_id, std::uint64_t execution_id,
                               std::uint64_t event_id) {
  std::string key = history_key_prefix(instance_id, execution_id);
  put_be64(key, event_id);
  return key;
}

Result<HistoryKey, Error> decode_history_key(std::string_view bytes) {
  if (bytes.size() < kHistoryKeyOverhead + 1) return Err(corrupt_key("history", bytes.size()));
  const std::size_t id_size = get_be16(bytes);
  if (id_size == 0 || bytes.size() != id_size + kHistoryKeyOverhead) {
    return Err(corrupt_key("history", bytes.size()));
  }
  HistoryKey key;
  key.instance_id.assign(bytes.substr(2, id_size));
  key.execution_id = get_be64(bytes.substr(2 + id_size));
  key.event_id = get_be64(bytes.substr(2 + id_size + 8));
  return key;
}

QueueKeyBytes encode_queue_key(const QueueKey& key) {
  QueueKeyBytes bytes{};
  // Flipping the sign bit maps int64 order onto unsigned byte order.
  store_be(bytes.data(), std::bit_cast<std::uint64_t>(key.visible_at) ^ kSignBit, 8);
  store_be(bytes.data() + 8, key.seq, 8);
  return bytes;
}

Result<QueueKey, Error> decode_queue_key(std::string_view bytes) {
  if (bytes.size() != kQueueKeyBytes) return Err(corrupt_key("queue", bytes.size()));
  QueueKey key;
  key.visible_at = std::bit_cast<TimestampMs>(get_be64(bytes) ^ kSignBit);
  key.seq = get_be64(bytes.substr(8));
  return key;
}

Result<std::string, Error> decode_instance_key(std::string_view bytes) {
  if (!valid_instance_id(bytes)) return Err(corrupt_key("instance", bytes.size()));
  return std::string(bytes);
}

}  // namespace duroxide::storage
