// SPDX-License-Identifier: MIT
// DUROXIDE_CHECK and DUROXIDE_ASSERT: internal invariants, for duroxide's own code only.
#pragma once

namespace duroxide::detail {

/// Writes "duroxide: check failed at FILE:LINE: EXPR (WHY)" to stderr and aborts the process.
/// Not for caller input or user code mistakes: those return errors or fail the instance.
[[noreturn]] void check_failed(const char* file, int line, const char* expression,
                               const char* why) noexcept;

}  // namespace duroxide::detail

/// Aborts with a message when `condition` is false, in every build: a broken invariant means a
/// bug in duroxide, and going on could write wrong history. `why` is a string literal.
#define DUROXIDE_CHECK(condition, why)                                       \
  do {                                                                       \
    if (!(condition)) [[unlikely]] {                                         \
      ::duroxide::detail::check_failed(__FILE__, __LINE__, #condition, why); \
    }                                                                        \
  } while (false)

/// As DUROXIDE_CHECK, in builds without NDEBUG only: for checks too costly to keep in release.
#ifdef NDEBUG
#define DUROXIDE_ASSERT(condition, why) \
  do {                                  \
  } while (false)
#else
#define DUROXIDE_ASSERT(condition, why) DUROXIDE_CHECK(condition, why)
#endif
