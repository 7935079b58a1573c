// SPDX-License-Identifier: MIT
// Tests of the key encodings: LMDB's byte order must be the order the store relies on.
#include "storage/keys.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace duroxide::storage {
namespace {

/// LMDB's default comparison: bytes as unsigned, a shorter prefix first.
bool lmdb_less(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  });
}

std::string bytes_of(const QueueKey& key) {
  const QueueKeyBytes bytes = encode_queue_key(key);
  return std::string(bytes.data(), bytes.size());
}

}  // namespace

TEST_SUITE("storage.keys") {
  TEST_CASE("queue keys sort by visible_at, negatives first, then by seq") {
    constexpr auto kMin = std::numeric_limits<TimestampMs>::min();
    constexpr auto kMax = std::numeric_limits<TimestampMs>::max();
    std::vector<QueueKey> keys = {{5, 1},
                                  {-1, 9},
                                  {0, 2},
                                  {kMin, 3},
                                  {kMax, 0},
                                  {5, 0},
                                  {-300, 4},
                                  {0, 1},
                                  {256, 7},
                                  {255, 8},
                                  {5, ~std::uint64_t{0}}};
    std::vector<std::string> encoded;
    for (const auto& key : keys) encoded.push_back(bytes_of(key));
    std::sort(keys.begin(), keys.end());
    std::sort(encoded.begin(), encoded.end(), lmdb_less);
    for (std::size_t i = 0; i < keys.size(); ++i) CHECK(encoded[i] == bytes_of(keys[i]));
  }

  TEST_CASE("queue keys round trip") {
    for (const QueueKey key : {QueueKey{-7, 1}, QueueKey{0, 0}, QueueKey{1700000000000, 99}}) {
      CHECK(decode_queue_key(bytes_of(key)).value() == key);
    }
  }

  TEST_CASE("history keys of one execution sort by event id and share its prefix") {
    const std::vector<std::uint64_t> ids = {1, 2, 255, 256, 65536, std::uint64_t{1} << 40};
    std::vector<std::string> encoded;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it)
      encoded.push_back(encode_history_key("a", 1, *it));
    std::sort(encoded.begin(), encoded.end(), lmdb_less);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      CHECK(encoded[i] == encode_history_key("a", 1, ids[i]));
      CHECK(encoded[i].starts_with(history_key_prefix("a", 1)));
    }
  }

  TEST_CASE("history prefixes of other instances and executions do not overlap") {
    const std::string a1 = history_key_prefix("a", 1);
    CHECK_FALSE(encode_history_key("ab", 1, 1).starts_with(a1));
    CHECK_FALSE(encode_history_key("a", 2, 1).starts_with(a1));
    CHECK_FALSE(encode_history_key("a", 256, 1).starts_with(a1));
    CHECK(lmdb_less(encode_history_key("a", 1, ~std::uint64_t{0}), encode_history_key("a", 2, 0)));
  }

  TEST_CASE("the instance prefix covers every execution of that instance only") {
    const std::string a = history_instance_prefix("a");
    CHECK(a == std::string("\0\1a", 3));
    CHECK(encode_history_key("a", 1, 1).starts_with(a));
    CHECK(encode_history_key("a", ~std::uint64_t{0}, 9).starts_with(a));
    CHECK_FALSE(encode_history_key("ab", 1, 1).starts_with(a));
    CHECK_FALSE(encode_history_key("b", 1, 1).starts_with(a));
  }

  TEST_CASE("history keys round trip, binary ids included") {
    const std::string id("in\0st", 5);
    const HistoryKey expected{id, 3, 77};
    CHECK(decode_history_key(encode_history_key(id, 3, 77)).value() == expected);
    const std::string longest(kMaxInstanceIdBytes, 'z');
    const auto key = encode_history_key(longest, 1, 2);
    CHECK(key.size() == kMaxInstanceIdBytes + kHistoryKeyOverhead);
    CHECK(key.size() <= kMaxLmdbKeyBytes);
    CHECK(decode_history_key(key).value().instance_id == longest);
  }

  TEST_CASE("malformed keys are Corruption") {
    CHECK(decode_queue_key("").error().code == ErrorCode::Corruption);
    CHECK(decode_queue_key(std::string(15, 'a')).error().code == ErrorCode::Corruption);
    CHECK(decode_queue_key(std::string(17, 'a')).error().code == ErrorCode::Corruption);
    std::string key = encode_history_key("abc", 1, 1);
    CHECK(decode_history_key(key.substr(0, key.size() - 1)).error().code == ErrorCode::Corruption);
    CHECK(decode_history_key(key + "x").error().code == ErrorCode::Corruption);
    key[1] = 0;  // declared id length 0
    CHECK(decode_history_key(key).error().code == ErrorCode::Corruption);
    CHECK(decode_history_key("").error().code == ErrorCode::Corruption);
    CHECK(decode_instance_key("").error().code == ErrorCode::Corruption);
    CHECK(decode_instance_key(std::string(kMaxInstanceIdBytes + 1, 'a')).error().code ==
          ErrorCode::Corruption);
    CHECK(decode_instance_key("ok").value() == "ok");
  }

  TEST_CASE("instance ids must be 1 to kMaxInstanceIdBytes bytes") {
    CHECK_FALSE(valid_instance_id(""));
    CHECK(valid_instance_id("x"));
    CHECK(valid_instance_id(std::string(kMaxInstanceIdBytes, 'x')));
    CHECK_FALSE(valid_instance_id(std::string(kMaxInstanceIdBytes + 1, 'x')));
  }
}

}  // namespace duroxide::storage
