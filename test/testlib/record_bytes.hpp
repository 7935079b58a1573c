// SPDX-License-Identifier: MIT
// RecordBytes: stored records built by hand, in the one layout storage/FORMAT.md documents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/checksum.hpp"

namespace duroxide::testlib {

/// Returns: `body` closed with its CRC-32C (little-endian), as every record ends.
inline std::string sealed(std::string body) {
  const std::uint32_t checksum = storage::crc32c(body);
  for (int byte = 0; byte < 4; ++byte) body.push_back(static_cast<char>(checksum >> (8 * byte)));
  return body;
}

/// Fields appended by hand, so that records can be built independently of the encoder (and of
/// storage/coding.hpp): a byte, the little-endian u32 class version, unsigned LEB128 varints,
/// zigzag varints and strings with a varint length.
class RecordBytes {
 public:
  RecordBytes& u8(std::uint8_t value) {
    bytes_.push_back(static_cast<char>(value));
    return *this;
  }
  RecordBytes& u32(std::uint32_t value) {
    for (int byte = 0; byte < 4; ++byte) u8(static_cast<std::uint8_t>(value >> (8 * byte)));
    return *this;
  }
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
  std::string bytes_;
};

}  // namespace duroxide::testlib
