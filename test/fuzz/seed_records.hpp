// SPDX-License-Identifier: MIT
// Valid encoded records of every kind: the fuzzer's seed corpus and the bit-flip test's input.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "test/fuzz/decode_target.hpp"

namespace duroxide::fuzz {

/// Returns: (kind, encoded bytes) pairs covering every event and message kind, optional fields
/// set and unset, and the keys.
std::vector<std::pair<RecordKind, std::string>> seed_records();

}  // namespace duroxide::fuzz
