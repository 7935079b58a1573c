// SPDX-License-Identifier: MIT
// Fixed and varint integers, zigzag and length-prefixed bytes, written and read within bounds.
#include "storage/coding.hpp"

#include <limits>
#include <utility>

namespace duroxide::storage {

char* encode_varint64(char* dst, std::uint64_t value) {
  while (value >= 0x80) {
    *dst++ = static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  *dst++ = static_cast<char>(value);
  return dst;
}

std::uint32_t decode_fixed32(const char* src) {
  std::uint32_t value = 0;
  for (int byte = 0; byte < 4; ++byte) {
    value |= std::uint32_t{static_cast<unsigned char>(src[byte])} << (8 * byte);
  }
  return value;
}

void put_fixed32(std::string& dst, std::uint32_t value) {
  for (int byte = 0; byte < 4; ++byte)
    dst.push_back(static_cast<char>((value >> (8 * byte)) & 0xFF));
}

void put_varint32(std::string& dst, std::uint32_t value) { put_varint64(dst, value); }

void put_varint64(std::string& dst, std::uint64_t value) {
  char bytes[kMaxVarint64Bytes];
  const char* end = encode_varint64(bytes, value);
  dst.append(bytes, static_cast<std::size_t>(end - bytes));
}

void put_zigzag64(std::string& dst, std::int64_t value) { put_varint64(dst, zigzag_encode(value)); }

void put_length_prefixed(std::string& dst, std::string_view bytes) {
  put_varint64(dst, bytes.size());
  dst.append(bytes);
}

bool Reader::get_fixed32(std::uint32_t& value) {
  if (!ok() || rest_.size() < 4) return fail_truncated(4);
  value = decode_fixed32(rest_.data());
  rest_.remove_prefix(4);
  return true;
}

bool Reader::get_varint32(std::uint32_t& value) {
  std::uint64_t wide = 0;
  if (!get_varint64(wide)) return false;
  if (wide > std::numeric_limits<std::uint32_t>::max()) {
    return fail("varint " + std::to_string(wide) + " too large for a field of 4 bytes");
  }
  value = static_cast<std::uint32_t>(wide);
  return true;
}

// Rejects a varint longer than 10 bytes, one whose tenth byte holds more than the 64th bit, and
// one with a trailing zero group (not its shortest form: no encoder writes it, so a value has
// exactly one encoding and a decoded record re-encodes to the same bytes).
bool Reader::get_varint64_slow(std::uint64_t& value) {
  if (!ok()) return false;
  std::uint64_t result = 0;
  for (std::size_t index = 0; index < kMaxVarint64Bytes; ++index) {
    if (index >= rest_.size()) return fail_truncated(index + 1);
    const auto byte = static_cast<unsigned char>(rest_[index]);
    const std::uint64_t group = byte & 0x7F;
    // Bits shifted past the 64th are dropped here and rejected below.
    result |= group << (7 * index);
    if ((byte & 0x80) != 0) continue;  // more groups follow
    if (index == kMaxVarint64Bytes - 1 && group > 1) return fail("varint overflows 64 bits");
    if (index > 0 && group == 0) return fail("varint not in its shortest form");
    rest_.remove_prefix(index + 1);
    value = result;
    return true;
  }
  return fail("varint longer than " + std::to_string(kMaxVarint64Bytes) + " bytes");
}

bool Reader::get_zigzag64(std::int64_t& value) {
  std::uint64_t raw = 0;
  if (!get_varint64(raw)) return false;
  value = zigzag_decode(raw);
  return true;
}

bool Reader::get_bytes(std::size_t size, std::string_view& bytes) {
  if (!ok() || size > rest_.size()) return fail_truncated(size);
  bytes = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return true;
}

bool Reader::get_length_prefixed(std::string_view& bytes) {
  std::uint64_t size = 0;
  if (!get_varint64(size)) return false;
  // Checked before anything is taken: hostile bytes cannot ask for gigabytes.
  if (size > rest_.size()) {
    return fail("string of " + std::to_string(size) + " bytes with " +
                std::to_string(rest_.size()) + " bytes left");
  }
  return get_bytes(static_cast<std::size_t>(size), bytes);
}

bool Reader::fail(std::string why) {
  if (ok()) failure_ = why.empty() ? std::string("malformed field") : std::move(why);
  return false;
}

bool Reader::fail_truncated(std::size_t wanted) {
  if (!ok()) return false;
  return fail("truncated: " + std::to_string(wanted) + " bytes wanted, " +
              std::to_string(rest_.size()) + " left");
}

Result<void, Error> Reader::status(std::string_view what) const {
  if (ok()) return {};
  return Err(Error{ErrorCode::Corruption, std::string(what) + ": " + failure_});
}

}  // namespace duroxide::storage
