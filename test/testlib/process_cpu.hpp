// SPDX-License-Identifier: MIT
// process_cpu_seconds: CPU time the test process has used, for checks that nothing spins.
#pragma once

#include <sys/resource.h>

namespace duroxide::testlib {

/// Returns: user plus system CPU seconds used by every thread of this process so far.
inline double process_cpu_seconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace duroxide::testlib
