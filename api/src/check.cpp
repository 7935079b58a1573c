// SPDX-License-Identifier: MIT
// The failure path of DUROXIDE_CHECK: report the broken invariant, then abort.
#include <duroxide/detail/check.hpp>

#include <cstdio>
#include <cstdlib>

namespace duroxide::detail {

void check_failed(const char* file, int line, const char* expression, const char* why) noexcept {
  // stdio rather than the runtime's logger: the check may fire before one exists, or inside it.
  std::fprintf(stderr, "duroxide: check failed at %s:%d: %s (%s)\n", file, line, expression, why);
  std::fflush(stderr);
  std::abort();
}

}  // namespace duroxide::detail
