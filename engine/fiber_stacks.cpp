// SPDX-License-Identifier: MIT
// Fiber stacks carved from shared mappings, with their unused pages given back when parked.
#include "engine/fiber_stacks.hpp"

#include <algorithm>
#include <cstdint>
#include <new>

#include "engine/platform/platform.hpp"

namespace duroxide::engine {

namespace {
std::size_t round_up_to_page(std::size_t bytes) {
  const std::size_t page = platform::page_size();
  return (bytes + page - 1) / page * page;
}

// Stacks carved from one mapping: a few MiB, so that 100,000 stacks take a few thousand
// mappings at most (the kernel also merges neighbours).
constexpr std::size_t kMappingBytes = 4 * 1024 * 1024;

// Stack kept under the frame of release_below for the calls it still makes.
constexpr std::uintptr_t kCallRoom = 1024;
}  // namespace

FiberStacks::FiberStacks(std::size_t stack_size) : stack_size_(round_up_to_page(stack_size)) {
  warm_.reserve(kWarmStacks);
}

FiberStacks::~FiberStacks() {
  for (auto [base, bytes] : mappings_) platform::release_stack_memory(base, bytes);
}

void FiberStacks::map_more() {
  const std::size_t count = std::max<std::size_t>(1, kMappingBytes / stack_size_);
  const std::size_t bytes = count * stack_size_;
  // Room first, so that nothing below throws once the memory is mapped, and deallocate (which
  // runs inside Boost's noexcept clean-up) never needs to grow cold_.
  mappings_.reserve(mappings_.size() + 1);
  cold_.reserve(mapped_ / stack_size_ + count);
  void* base = platform::reserve_stack_memory(bytes);
  if (base == nullptr) throw std::bad_alloc();
  mappings_.emplace_back(static_cast<char*>(base), bytes);
  mapped_ += bytes;
  // Handed out from the low end first (cold_ is used from its back).
  for (std::size_t i = count; i-- > 0;) cold_.push_back(static_cast<char*>(base) + i * stack_size_);
}

boost::context::stack_context FiberStacks::allocate() {
  char* low = nullptr;
  if (!warm_.empty()) {
    low = warm_.back();
    warm_.pop_back();
  } else {
    if (cold_.empty()) map_more();
    low = cold_.back();
    cold_.pop_back();
  }
  last_ = StackRange{low, low + stack_size_};
  boost::context::stack_context stack;
  stack.size = stack_size_;
  stack.sp = last_.high;
  return stack;
}

void FiberStacks::deallocate(boost::context::stack_context& stack) {
  char* low = static_cast<char*>(stack.sp) - stack.size;
  if (warm_.size() < kWarmStacks) {
    warm_.push_back(low);
    return;
  }
  platform::discard_pages(low, stack.size);
  cold_.push_back(low);
}

// Not inlined (see the declaration), so that its frame lies below the caller's.
void FiberStacks::release_below(const StackRange& stack) {
  auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  const auto low = reinterpret_cast<std::uintptr_t>(stack.low);
  const auto high = reinterpret_cast<std::uintptr_t>(stack.high);
  if (here <= low || here >= high) return;  // called on another stack: nothing to release
  const std::uintptr_t page = platform::page_size();
  // The 1 KiB under this frame stays for the frames of the call that discards the pages.
  const std::uintptr_t keep_from = (here - kCallRoom) / page * page;
  if (keep_from <= low) return;
  platform::discard_pages(stack.low, keep_from - low);
}

}  // namespace duroxide::engine
