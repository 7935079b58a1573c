// SPDX-License-Identifier: MIT
// Tests of storage/coding: varints, zigzag, fixed and length-prefixed fields, the bounded reader.
#include "storage/coding.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace duroxide::storage {
namespace {

std::string varint(std::uint64_t value) {
  std::string out;
  put_varint64(out, value);
  return out;
}

/// Returns: the values every varint width begins and ends with, and the extremes.
std::vector<std::uint64_t> boundary_values() {
  std::vector<std::uint64_t> values = {0, 1, std::numeric_limits<std::uint64_t>::max()};
  for (int bits = 7; bits < 64; bits += 7) {
    values.push_back((std::uint64_t{1} << bits) - 1);
    values.push_back(std::uint64_t{1} << bits);
  }
  return values;
}

void check_fails(std::string_view bytes, std::string_view why) {
  Reader in(bytes);
  std::uint64_t value = 7;
  CHECK_FALSE(in.get_varint64(value));
  CHECK(value == 7);  // nothing stored
  REQUIRE_FALSE(in.ok());
  INFO(in.failure());
  CHECK(in.failure().find(why) != std::string::npos);
}

}  // namespace

TEST_SUITE("storage.coding") {
  TEST_CASE("varints are LEB128 in the fewest bytes") {
    CHECK(varint(0) == std::string(1, '\0'));
    CHECK(varint(42) == "\x2a");
    CHECK(varint(127) == "\x7f");
    CHECK(varint(128) == "\x80\x01");
    CHECK(varint(300) == "\xac\x02");
    CHECK(varint(std::numeric_limits<std::uint64_t>::max()) == std::string(9, '\xff') + "\x01");
    for (const std::uint64_t value : boundary_values()) {
      CAPTURE(value);
      const std::string bytes = varint(value);
      std::size_t width = 1;
      for (std::uint64_t rest = value >> 7; rest != 0; rest >>= 7) ++width;
      CHECK(bytes.size() == width);
      char direct[kMaxVarint64Bytes];
      CHECK(std::string(direct, encode_varint64(direct, value)) == bytes);
      Reader in(bytes);
      std::uint64_t decoded = 0;
      REQUIRE(in.get_varint64(decoded));
      CHECK(decoded == value);
      CHECK(in.remaining() == 0);
    }
  }

  TEST_CASE("zigzag maps small magnitudes of either sign to small varints") {
    CHECK(zigzag_encode(0) == 0);
    CHECK(zigzag_encode(-1) == 1);
    CHECK(zigzag_encode(1) == 2);
    CHECK(zigzag_encode(-2) == 3);
    CHECK(zigzag_encode(-64) == 127);
    CHECK(zigzag_encode(64) == 128);
    CHECK(zigzag_encode(std::numeric_limits<std::int64_t>::max()) ==
          std::numeric_limits<std::uint64_t>::max() - 1);
    CHECK(zigzag_encode(std::numeric_limits<std::int64_t>::min()) ==
          std::numeric_limits<std::uint64_t>::max());
    for (const std::int64_t value :
         {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1234567890123}, std::int64_t{-1},
          std::int64_t{0}, std::int64_t{1}, std::int64_t{1'700'000'000'000},
          std::numeric_limits<std::int64_t>::max()}) {
      CAPTURE(value);
      CHECK(zigzag_decode(zigzag_encode(value)) == value);
      std::string bytes;
      put_zigzag64(bytes, value);
      CHECK(bytes == varint(zigzag_encode(value)));
      Reader in(bytes);
      std::int64_t decoded = 0;
      REQUIRE(in.get_zigzag64(decoded));
      CHECK(decoded == value);
    }
  }

  TEST_CASE("fixed32 is little-endian") {
    std::string bytes;
    put_fixed32(bytes, 0x04030201u);
    CHECK(bytes == "\x01\x02\x03\x04");
    CHECK(decode_fixed32(bytes.data()) == 0x04030201u);
    Reader in(bytes);
    std::uint32_t value = 0;
    REQUIRE(in.get_fixed32(value));
    CHECK(value == 0x04030201u);
    Reader short_input(std::string_view(bytes).substr(0, 3));
    CHECK_FALSE(short_input.get_fixed32(value));
    CHECK(short_input.failure().find("truncated") != std::string::npos);
  }

  TEST_CASE("a varint32 holds no value above 2^32 - 1") {
    std::string bytes;
    put_varint32(bytes, std::numeric_limits<std::uint32_t>::max());
    CHECK(bytes == varint(std::numeric_limits<std::uint32_t>::max()));
    CHECK(bytes.size() == kMaxVarint32Bytes);
    std::uint32_t value = 0;
    Reader largest(bytes);
    REQUIRE(largest.get_varint32(value));
    CHECK(value == std::numeric_limits<std::uint32_t>::max());
    for (const std::uint64_t too_big :
         {std::uint64_t{1} << 32, std::numeric_limits<std::uint64_t>::max()}) {
      const std::string wide = varint(too_big);
      Reader in(wide);
      CHECK_FALSE(in.get_varint32(value));
      CHECK(in.failure().find("too large for a field of 4 bytes") != std::string::npos);
    }
  }

  TEST_CASE("malformed varints fail: too long, overflowing, not shortest, cut off") {
    check_fails(std::string(10, '\x80') + "\x01", "varint longer than 10 bytes");
    check_fails(std::string(11, '\xff'), "varint longer than 10 bytes");
    check_fails(std::string(9, '\xff') + "\x02", "varint overflows 64 bits");
    check_fails(std::string(9, '\x80') + "\x7f", "varint overflows 64 bits");
    check_fails(std::string("\xaa\0", 2), "shortest form");
    check_fails(std::string("\x80\0", 2), "shortest form");
    check_fails(std::string(9, '\x80') + '\0', "shortest form");
    check_fails("\x80", "truncated");
    check_fails("", "truncated");
  }

  TEST_CASE("length-prefixed slices are views, their length checked before anything is taken") {
    std::string bytes;
    put_length_prefixed(bytes, std::string("bin\0ary", 7));
    put_length_prefixed(bytes, "");
    put_length_prefixed(bytes, std::string(200, 'x'));
    Reader in(bytes);
    std::string_view first;
    std::string_view empty;
    std::string_view long_one;
    REQUIRE(in.get_length_prefixed(first));
    REQUIRE(in.get_length_prefixed(empty));
    REQUIRE(in.get_length_prefixed(long_one));
    CHECK(first == std::string_view("bin\0ary", 7));
    CHECK(first.data() == bytes.data() + 1);  // a view into the input
    CHECK(empty.empty());
    CHECK(long_one == std::string(200, 'x'));
    CHECK(in.remaining() == 0);

    for (const std::uint64_t huge : {std::uint64_t{1} << 62, ~std::uint64_t{0}, std::uint64_t{8}}) {
      CAPTURE(huge);
      const std::string hostile = varint(huge) + "1234567";
      Reader reader(hostile);
      std::string_view view;
      CHECK_FALSE(reader.get_length_prefixed(view));
      CHECK(reader.failure().find("string of " + std::to_string(huge) + " bytes") !=
            std::string::npos);
    }
  }

  TEST_CASE("the reader never reads past its end, and its first failure sticks") {
    std::string bytes;
    put_varint64(bytes, 300);
    put_length_prefixed(bytes, "abc");
    put_fixed32(bytes, 9);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      CAPTURE(size);
      Reader in(std::string_view(bytes).substr(0, size));
      std::uint64_t number = 0;
      std::string_view text;
      std::uint32_t fixed = 0;
      // Each get is made: a failed one makes the later ones fail too.
      in.get_varint64(number);
      in.get_length_prefixed(text);
      CHECK_FALSE(in.get_fixed32(fixed));
      CHECK_FALSE(in.ok());
      // Cut in the string's bytes, its declared length is more than is left.
      const bool in_string = size > 2 && size < 6;
      CHECK(in.failure().find(in_string ? "string of 3 bytes" : "truncated") != std::string::npos);
    }
    Reader in(bytes);
    std::string_view taken;
    CHECK_FALSE(in.get_bytes(bytes.size() + 1, taken));
    const std::string first = in.failure();
    CHECK(first.find("truncated") != std::string::npos);
    // Later gets fail too, even those that would fit, and the first reason stays.
    std::uint8_t byte = 0;
    CHECK_FALSE(in.get_byte(byte));
    CHECK_FALSE(in.fail("enum value 9 out of range"));
    CHECK(in.failure() == first);
    const auto status = in.status("cannot decode a thing");
    REQUIRE_FALSE(status);
    CHECK(status.error().code == ErrorCode::Corruption);
    CHECK(status.error().message == "cannot decode a thing: " + first);
  }

  TEST_CASE("a failure the caller finds fails the reader like its own") {
    const std::string bytes = "\x05\x06";
    Reader in(bytes);
    std::uint8_t byte = 0;
    REQUIRE(in.get_byte(byte));
    CHECK(in.status("record").has_value());
    CHECK_FALSE(in.fail("enum value 5 out of range"));
    CHECK_FALSE(in.get_byte(byte));
    CHECK(byte == 5);
    CHECK(in.status("record").error().message == "record: enum value 5 out of range");
  }
}

}  // namespace duroxide::storage
