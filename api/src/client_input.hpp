// SPDX-License-Identifier: MIT
// Checks of caller input shared by the Client's source files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide::detail {

/// Returns: the wall clock in ms since the Unix epoch, the time a client stamps on what it
/// writes (rows, messages).
TimestampMs now_ms();

/// Returns: an InvalidArgument error with `message`.
Result<void, Error> invalid(std::string message);

/// Returns: InvalidArgument naming `what` if `value` is empty, longer than `max_bytes` or holds
/// a NUL byte.
Result<void, Error> check_text(std::string_view what, std::string_view value,
                               std::size_t max_bytes);

/// Returns: InvalidArgument naming `what` if `value` is longer than `max_bytes` (empty is fine).
Result<void, Error> check_length(std::string_view what, std::string_view value,
                                 std::size_t max_bytes);

}  // namespace duroxide::detail
