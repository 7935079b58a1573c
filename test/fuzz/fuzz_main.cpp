// SPDX-License-Identifier: MIT
// libFuzzer entry point: the first byte picks the decoder, the rest is the record.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "test/fuzz/decode_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto kind = static_cast<duroxide::fuzz::RecordKind>(data[0] % duroxide::fuzz::kKinds);
  duroxide::fuzz::check_decoders(
      kind, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
