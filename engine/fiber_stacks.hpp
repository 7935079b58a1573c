// SPDX-License-Identifier: MIT
// FiberStacks: the stacks of one shard's fibers, carved from large mappings and reused.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <boost/context/stack_context.hpp>

namespace duroxide::engine {

/// The memory of one fiber stack: [low, high), growing down from `high`.
struct StackRange {
  char* low = nullptr;
  char* high = nullptr;
};

/// Fiber stacks for one shard (one thread; not thread-safe). Stacks are carved from mappings
/// of many stacks each, because a mapping per stack (with its guard page, two) would run into
/// the kernel's limit on mappings (vm.max_map_count, 65,530 by default) near 30,000 parked
/// instances. Hence also no guard page: see RuntimeOptions::fiber_stack_size. The memory comes
/// through the platform seam (engine/platform/platform.hpp).
///
/// A parked fiber keeps only the stack pages of the frames it waits in: release_below() gives
/// the pages under the current frame back to the kernel, so that the deepest call the fiber
/// ever made (decoding its input, say) does not stay resident for as long as it is parked.
///
/// Satisfies Boost.Context's StackAllocator concept through the Allocator handle, which the
/// fibers copy; the pool must outlive every fiber created with it.
class FiberStacks {
 public:
  explicit FiberStacks(std::size_t stack_size);
  ~FiberStacks();
  FiberStacks(const FiberStacks&) = delete;
  FiberStacks& operator=(const FiberStacks&) = delete;

  /// The handle Boost.Fiber takes (std::allocator_arg): copies share this pool.
  class Allocator {
   public:
    explicit Allocator(FiberStacks& pool) : pool_(&pool) {}
    boost::context::stack_context allocate() { return pool_->allocate(); }
    void deallocate(boost::context::stack_context& stack) { pool_->deallocate(stack); }

   private:
    FiberStacks* pool_;
  };
  Allocator allocator() { return Allocator(*this); }

  /// Returns: the stack handed out last (the fiber constructor allocates before it returns,
  /// so right after constructing a fiber this is that fiber's stack).
  StackRange last_allocated() const { return last_; }
  /// Gives the kernel back the pages of `stack` that lie wholly below the calling frame (less
  /// 1 KiB of room for the system call). Call it only on the fiber that runs on `stack`: what
  /// lies below its stack pointer is dead, and a page touched again later is a fresh zero page.
  [[gnu::noinline]] static void release_below(const StackRange& stack);

  /// Returns: bytes of stack mapped (in use or pooled); for tests.
  std::size_t mapped_bytes() const { return mapped_; }

 private:
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& stack);
  void map_more();

  // Stacks kept warm (their pages resident) for reuse; beyond this a freed stack's pages go
  // back to the kernel, so a burst of fibers does not pin its memory after it ends.
  static constexpr std::size_t kWarmStacks = 64;

  const std::size_t stack_size_;  // whole pages
  std::vector<std::pair<char*, std::size_t>> mappings_;
  // Free stacks by their low end: warm_ with resident pages (reused first), cold_ without.
  std::vector<char*> warm_;
  std::vector<char*> cold_;
  std::size_t mapped_ = 0;
  StackRange last_;
};

}  // namespace duroxide::engine
