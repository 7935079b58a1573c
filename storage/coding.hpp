// SPDX-License-Identifier: MIT
// Byte coding of record fields: fixed and varint integers, zigzag, length-prefixed bytes, a reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/result.hpp>

// In the spirit of LevelDB's util/coding.h. Fixed-width integers are little-endian. A varint is
// unsigned LEB128: 7 bits a byte, the lowest group first, the high bit set on every byte but the
// last, in the fewest bytes the value needs (so every value has exactly one encoding). A signed
// value is zigzag-mapped first (0, -1, 1, -2 ... to 0, 1, 2, 3 ...), so that small magnitudes
// of either sign are short. A length-prefixed slice is its length as a varint, then its bytes.
namespace duroxide::storage {

/// The longest varints: 32 bits need 5 groups of 7, 64 bits 10.
inline constexpr std::size_t kMaxVarint32Bytes = 5;
inline constexpr std::size_t kMaxVarint64Bytes = 10;

constexpr std::uint64_t zigzag_encode(std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  return (bits << 1) ^ (std::uint64_t{0} - (bits >> 63));
}

constexpr std::int64_t zigzag_decode(std::uint64_t value) {
  return static_cast<std::int64_t>((value >> 1) ^ (std::uint64_t{0} - (value & 1)));
}

/// Writes `value` as a varint at `dst`. Requires: room for kMaxVarint64Bytes.
/// Returns: one past the last byte written.
char* encode_varint64(char* dst, std::uint64_t value);
/// Returns: the little-endian u32 at `src`. Requires: 4 readable bytes.
std::uint32_t decode_fixed32(const char* src);

/// Each appends one field to `dst`. Throw only std::bad_alloc.
void put_fixed32(std::string& dst, std::uint32_t value);
void put_varint32(std::string& dst, std::uint32_t value);
void put_varint64(std::string& dst, std::uint64_t value);
void put_zigzag64(std::string& dst, std::int64_t value);
void put_length_prefixed(std::string& dst, std::string_view bytes);

/// A cursor over a byte range that never reads past its end and accepts each value only in the
/// form the put_* functions write. Each get_* returns true and stores the field, or returns
/// false, stores nothing and records why; the first failure sticks, so later gets fail too and
/// a caller may read a whole record before it checks once. Malformed input (a field cut off,
/// a varint longer than 10 bytes, above 2^64 - 1, not in its shortest form or too large for
/// its width, a length larger than the bytes left) is a failure, never a crash or an
/// allocation. Thread safety: none (a plain value type).
class Reader {
 public:
  /// Lifetime: `bytes` must outlive the reader and every view it returns.
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool ok() const { return failure_.empty(); }
  /// Requires: !ok(). Returns: why the first failing get failed, e.g. "varint overflows 64 bits".
  const std::string& failure() const { return failure_; }
  /// Returns: the bytes not read yet.
  std::size_t remaining() const { return rest_.size(); }

  bool get_byte(std::uint8_t& value) {
    if (!ok() || rest_.empty()) return fail_truncated(1);
    value = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return true;
  }
  bool get_fixed32(std::uint32_t& value);
  bool get_varint32(std::uint32_t& value);
  bool get_varint64(std::uint64_t& value) {
    // One byte is the common case (ids, counts, short lengths): no loop.
    if (ok() && !rest_.empty() && static_cast<unsigned char>(rest_.front()) < 0x80) {
      value = static_cast<unsigned char>(rest_.front());
      rest_.remove_prefix(1);
      return true;
    }
    return get_varint64_slow(value);
  }
  bool get_zigzag64(std::int64_t& value);
  /// Stores in `bytes` a view of the next `size` bytes.
  bool get_bytes(std::size_t size, std::string_view& bytes);
  /// Stores in `bytes` a view of the next length-prefixed slice. The length is checked against
  /// the bytes left before anything is taken.
  bool get_length_prefixed(std::string_view& bytes);

  /// Records a malformed field the caller found (an enumerator out of range, say), as if a get
  /// had failed; keeps an earlier failure. Returns: false.
  bool fail(std::string why);
  /// Returns: success if every get succeeded, else Corruption "`what`: <failure>".
  Result<void, Error> status(std::string_view what) const;

 private:
  bool get_varint64_slow(std::uint64_t& value);
  bool fail_truncated(std::size_t wanted);

  std::string_view rest_;
  std::string failure_;  ///< empty while every get succeeded
};

}  // namespace duroxide::storage
