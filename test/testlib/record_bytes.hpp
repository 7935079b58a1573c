// SPDX-License-Identifier: MIT
// RecordBytes: stored records built by hand, in the layouts storage/FORMAT.md documents.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/checksum.hpp"

namespace duroxide::testlib {

/// Returns: `body` closed with its CRC-32C (little-endian), as the checksummed class versions
/// end.
inline std::string sealed(std::string body) {
  const std::uint32_t checksum = storage::crc32c(body);
  for (int byte = 0; byte < 4; ++byte) body.push_back(static_cast<char>(checksum >> (8 * byte)));
  return body;
}

/// Fields appended by hand, so that records can be built independently of the encoder:
/// fixed-width little-endian fields and u64-length strings for the older class versions (which
/// this build no longer writes but must still read), LEB128 varints for the compact ones.
class RecordBytes {
 public:
  RecordBytes& u8(std::uint8_t value) { return raw(&value, 1); }
  RecordBytes& u32(std::uint32_t value) { return raw(&value, 4); }
  RecordBytes& u64(std::uint64_t value) { return raw(&value, 8); }
  RecordBytes& i64(std::int64_t value) { return raw(&value, 8); }
  RecordBytes& str(std::string_view text) {
    u64(text.size());
    bytes_.append(text);
    return *this;
  }
  /// Compact layout: unsigned LEB128, zigzag LEB128, a string with a LEB128 length.
  RecordBytes& uvar(std::uint64_t value) {
    for (; value >= 0x80; value >>= 7) u8(static_cast<std::uint8_t>(value | 0x80));
    return u8(static_cast<std::uint8_t>(value));
  }
  RecordBytes& svar(std::int64_t value) {
    return uvar(value < 0 ? 2 * ~static_cast<std::uint64_t>(value) + 1
                          : 2 * static_cast<std::uint64_t>(value));
  }
  RecordBytes& vstr(std::string_view text) {
    uvar(text.size());
    bytes_.append(text);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }
  /// Returns: the bytes closed with their checksum.
  std::string sealed() const { return testlib::sealed(bytes_); }

 private:
  static_assert(std::endian::native == std::endian::little, "the records are little-endian");
  RecordBytes& raw(const void* value, std::size_t size) {
    bytes_.append(static_cast<const char*>(value), size);
    return *this;
  }
  std::string bytes_;
};

}  // namespace duroxide::testlib
