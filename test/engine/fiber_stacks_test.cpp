// SPDX-License-Identifier: MIT
// Fiber stacks: reuse, giving back the pages under a parked fiber, and fibers that sleep and wake.
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <doctest/doctest.h>

#include "engine/fiber_stacks.hpp"
#include "engine/fiber_wakeup.hpp"
#include "engine/platform/platform.hpp"
#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::engine::FiberStacks;
using duroxide::engine::FiberWakeup;
using duroxide::engine::StackRange;
using duroxide::testlib::Harness;
using duroxide::testlib::quiet_options;
using namespace std::chrono_literals;

namespace {

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

std::size_t resident_pages(const StackRange& stack) {
  const std::size_t page = kPage;
  const std::size_t pages = static_cast<std::size_t>(stack.high - stack.low) / page;
  std::vector<unsigned char> resident(pages);
  REQUIRE(::mincore(stack.low, pages * page, resident.data()) == 0);
  std::size_t count = 0;
  for (unsigned char flags : resident) count += flags & 1;
  return count;
}

// Writes `bytes` of its own frame, so that those stack pages become resident.
__attribute__((noinline)) std::uint64_t touch_stack(std::size_t bytes) {
  std::vector<char> unused;  // keeps the frame from being a leaf the compiler could shrink
  volatile char buffer[48 * 1024];
  for (std::size_t i = 0; i < bytes && i < sizeof buffer; i += 512)
    buffer[i] = static_cast<char>(i);
  std::uint64_t sum = unused.size();
  for (std::size_t i = 0; i < bytes && i < sizeof buffer; i += 512) sum += buffer[i];
  return sum;
}

std::array<std::uint64_t, 64> pattern(std::uint64_t seed) {
  std::array<std::uint64_t, 64> values{};
  for (auto& value : values) value = seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return values;
}

}  // namespace

TEST_SUITE("engine.fiber_stacks") {
  TEST_CASE("freed stacks are reused, and stacks come from shared mappings") {
    FiberStacks stacks(64 * 1024);
    auto allocator = stacks.allocator();
    auto first = allocator.allocate();
    auto second = allocator.allocate();
    CHECK(first.size == 64 * 1024);
    CHECK(first.sp != second.sp);
    const std::size_t mapped = stacks.mapped_bytes();
    CHECK(mapped >= 2 * 64 * 1024);
    void* freed = first.sp;
    allocator.deallocate(first);
    auto again = allocator.allocate();
    CHECK(again.sp == freed);
    // Many more stacks than one mapping holds: the mapped total grows in whole mappings.
    std::vector<boost::context::stack_context> many;
    for (int i = 0; i < 200; ++i) many.push_back(allocator.allocate());
    CHECK(stacks.mapped_bytes() > mapped);
    CHECK(stacks.mapped_bytes() % (64 * 1024) == 0);
    for (auto& stack : many) allocator.deallocate(stack);
    allocator.deallocate(second);
    allocator.deallocate(again);
  }

  TEST_CASE("a parked fiber gives back the pages under its frame and keeps its live data") {
    // With pages of 64 KiB (some aarch64 kernels) a 64 KiB stack is one page: nothing to give.
    if (kPage > 16 * 1024) return;
    FiberStacks stacks(64 * 1024);
    StackRange range;
    std::size_t deep = 0;
    std::size_t trimmed = 0;
    bool intact_after_trim = false;
    bool intact_after_resume = false;
    FiberWakeup wakeup;
    boost::fibers::fiber fiber(std::allocator_arg, stacks.allocator(), [&] {
      const auto live = pattern(42);  // on this fiber's stack, above the frame that trims
      touch_stack(40 * 1024);
      deep = resident_pages(range);
      FiberStacks::release_below(range);
      trimmed = resident_pages(range);
      intact_after_trim = live == pattern(42);
      wakeup.sleep();
      touch_stack(40 * 1024);  // the released pages come back as fresh pages
      intact_after_resume = live == pattern(42);
    });
    range = stacks.last_allocated();
    REQUIRE(range.high - range.low == 64 * 1024);
    boost::this_fiber::yield();  // runs the fiber up to its sleep
    wakeup.wake();
    fiber.join();
    CHECK(deep * kPage >= 40 * 1024);  // 40 KiB touched
    CHECK(trimmed <= 2);
    CHECK(trimmed >= 1);
    CHECK(intact_after_trim);
    CHECK(intact_after_resume);
  }

  TEST_CASE("the platform seam reserves, discards and releases stack memory") {
    namespace platform = duroxide::engine::platform;
    const std::size_t page = platform::page_size();
    CHECK(page == kPage);
    const std::size_t pages = 16;
    char* base = static_cast<char*>(platform::reserve_stack_memory(pages * page));
    REQUIRE(base != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(base) % page == 0);
    const StackRange range{base, base + pages * page};
    CHECK(resident_pages(range) == 0);  // reserved, not touched
    std::memset(base, 7, pages * page);
    CHECK(resident_pages(range) == pages);
    platform::discard_pages(base + 4 * page, 8 * page);
    CHECK(resident_pages(range) == pages - 8);
    CHECK(base[4 * page - 1] == 7);
    CHECK(base[12 * page] == 7);
    CHECK(base[4 * page] == 0);  // a discarded page reads as zeros
    base[4 * page] = 1;          // and is writable again
    CHECK(base[4 * page] == 1);
    platform::release_stack_memory(base, pages * page);
  }

  TEST_CASE("a release from another stack's frame is ignored") {
    FiberStacks stacks(64 * 1024);
    auto allocator = stacks.allocator();
    auto stack = allocator.allocate();
    const StackRange range = stacks.last_allocated();
    std::memset(range.low, 1, 64 * 1024);
    FiberStacks::release_below(range);  // this thread's stack is not `range`
    CHECK(resident_pages(range) * kPage == 64 * 1024);
    allocator.deallocate(stack);
  }

  TEST_CASE("a fiber sleeps until woken; a wake with no sleeper does nothing") {
    FiberWakeup wakeup;
    wakeup.wake();  // no sleeper: a no-op
    std::vector<std::string> order;
    boost::fibers::fiber sleeper([&] {
      order.push_back("sleeps");
      wakeup.sleep();
      order.push_back("woke");
    });
    boost::this_fiber::yield();
    order.push_back("wakes");
    wakeup.wake();
    wakeup.wake();  // twice: the second finds no sleeper
    sleeper.join();
    CHECK(order == std::vector<std::string>{"sleeps", "wakes", "woke"});
  }

  // Past the shard's threshold, parked fibers give back their stack pages; the code of every
  // instance must resume with its frames intact.
  TEST_CASE("instances parked beyond the threshold resume with their frames intact") {
    constexpr int kInstances = 600;
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("DeepThenWait",
                                    [](OrchestrationContext& ctx, std::string input) {
                                      const auto live = pattern(std::stoull(input));
                                      touch_stack(24 * 1024);
                                      ctx.set_custom_status("waiting");
                                      auto data = ctx.schedule_wait("Go").into_event();
                                      return live == pattern(std::stoull(input))
                                                 ? data + ":" + input
                                                 : std::string("damaged");
                                    })
            .build();
    RuntimeOptions options = quiet_options();
    options.max_parked_instances = kInstances;
    Harness h(ActivityRegistry::builder().build(), orchestrations, options);
    for (int i = 0; i < kInstances; ++i) {
      h.client().start_orchestration("deep-" + std::to_string(i), "DeepThenWait",
                                     std::to_string(i)).value();
    }
    // Every instance is parked once its custom status is visible (written with its wait).
    int parked = 0;  // instances 0..parked-1 are known to be parked
    REQUIRE(h.wait_until([&] {
      while (parked < kInstances && h.client()
                                        .get_orchestration_status("deep-" + std::to_string(parked))
                                        .value()
                                        .custom_status()) {
        ++parked;
      }
      return parked == kInstances;
    }));
    for (int i = 0; i < kInstances; ++i) {
      h.client().raise_event("deep-" + std::to_string(i), "Go", "go").value();
    }
    for (int i = 0; i < kInstances; ++i) {
      const std::string id = "deep-" + std::to_string(i);
      auto status = h.wait(id);
      REQUIRE(status.is_completed());
      CHECK(status.output() == "go:" + std::to_string(i));
    }
  }
}
