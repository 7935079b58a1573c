// SPDX-License-Identifier: MIT
// CRC-32C (Castagnoli), the checksum that closes every stored record.
#pragma once

#include <cstdint>
#include <string_view>

namespace duroxide::storage {

/// Returns: the CRC-32C of `bytes` (initial value and final xor 0xFFFFFFFF; the check value of
/// "123456789" is 0xE3069283). Uses the SSE4.2 instruction where the CPU has it.
/// Thread safety: reentrant.
std::uint32_t crc32c(std::string_view bytes);
/// Returns: the same as crc32c, always from the portable table (what CPUs without SSE4.2 use).
std::uint32_t crc32c_portable(std::string_view bytes);

}  // namespace duroxide::storage
