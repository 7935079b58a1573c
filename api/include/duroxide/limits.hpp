// SPDX-License-Identifier: MIT
// The size limits every layer enforces on ids, names and payloads, defined once.
#pragma once

#include <cstddef>

namespace duroxide {

/// Limits on what the engine accepts. A client call over one is refused with InvalidArgument,
/// orchestration code over one fails its instance, a store refuses a batch over one.
inline constexpr std::size_t kMaxInstanceIdBytes = 256;
inline constexpr std::size_t kMaxNameBytes = 256;
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{16} << 20;

}  // namespace duroxide
