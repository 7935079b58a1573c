// SPDX-License-Identifier: MIT
// The engine's platform seam: what a port must provide (memory for fiber stacks, page size).
#pragma once

#include <cstddef>

/// Everything the engine needs from the operating system goes through these functions; only
/// engine/platform/*.cpp include system headers. A port implements each of them in one file,
/// engine/platform/<system>.cpp, which engine/meson.build picks by host_machine.system(). The
/// tested port is linux.cpp (Linux x86-64).
///
/// Besides these, the engine relies on GCC or Clang (`__builtin_frame_address`,
/// `[[gnu::noinline]]`, in FiberStacks::release_below) and on Boost.Context supporting the
/// target; storage has its own seam.
///
/// Thread safety: every function may be called from any thread.
namespace duroxide::engine::platform {

/// Returns: the size of a virtual-memory page in bytes (a power of two).
std::size_t page_size() noexcept;

/// Reserves `bytes` (a multiple of page_size()) of private memory, readable and writable, for
/// fiber stacks. A page takes memory only once touched, and is kept a base page (never part
/// of a transparent huge page), so one touched page costs one page. The system should not
/// charge the whole range against a commit limit up front (Linux: MAP_NORESERVE): 100,000
/// stacks of 64 KiB reserve 6 GiB of address space and touch a small part of it.
/// Returns: the page-aligned base, or nullptr if the system refuses.
void* reserve_stack_memory(std::size_t bytes) noexcept;

/// Gives back a whole range that reserve_stack_memory returned (`bytes` as passed to it).
void release_stack_memory(void* base, std::size_t bytes) noexcept;

/// Drops the contents of the pages [begin, begin + bytes) (page-aligned, inside a reserved
/// range): their memory goes back to the system, the range stays reserved and usable, and a
/// page touched again reads as zeros. If the system refuses, the pages just stay resident.
/// Requires: it uses a few hundred bytes of stack at most, and no library wrapper a
/// sanitizer could intercept with a larger frame: it runs under the frame of a parked fiber
/// with 1 KiB to spare (see FiberStacks::release_below).
void discard_pages(void* begin, std::size_t bytes) noexcept;

}  // namespace duroxide::engine::platform
