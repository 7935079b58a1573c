// SPDX-License-Identifier: MIT
// The Linux port of the engine's platform seam: mmap, madvise and sysconf.
#include "engine/platform/platform.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace duroxide::engine::platform {

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

void* reserve_stack_memory(std::size_t bytes) noexcept {
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  // With transparent huge pages on ("always"), one touched page would make 2 MiB resident,
  // and discarded ranges could be collapsed back into huge pages. A kernel built without
  // them refuses the advice (EINVAL), and then there is nothing to avoid: the result is moot.
  (void)::madvise(base, bytes, MADV_NOHUGEPAGE);
  return base;
}

void release_stack_memory(void* base, std::size_t bytes) noexcept {
  // Fails only for a range that was not mapped, which the caller never passes.
  (void)::munmap(base, bytes);
}

void discard_pages(void* begin, std::size_t bytes) noexcept {
  // The raw system call: a sanitizer's interceptor for madvise could use more stack than the
  // caller has room for. A refusal leaves the pages resident, which costs only memory.
  (void)::syscall(SYS_madvise, begin, bytes, MADV_DONTNEED);
}

}  // namespace duroxide::engine::platform
