// SPDX-License-Identifier: MIT
// Soak: 100,000 orchestrations through one runtime that evicts parked fibers all the time;
// anonymous memory returns to its level before the run and no instance (fiber) outlives it.
//
// Usage: test_soak [--n=100000] [--warmup=5000] [--only=chain|timer|event|child]
// The options exist to narrow a failure down; the meson suite runs the defaults.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <duroxide/duroxide.hpp>

#include "engine/instance.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define DUROXIDE_SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DUROXIDE_SOAK_ASAN 1
#endif
#endif
#ifndef DUROXIDE_SOAK_ASAN
#define DUROXIDE_SOAK_ASAN 0
#endif

using namespace duroxide;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxParked = 64;  // far below the instances in flight: constant eviction
constexpr std::size_t kThreads = 2;     // orchestration threads
constexpr int kClients = 4;             // client threads starting and awaiting instances
constexpr std::size_t kWindowPerClient = 500;  // 2,000 instances in flight at most
constexpr std::size_t kInFlight = kClients * kWindowPerClient;
constexpr auto kSettle = 500ms;  // pause before each memory reading
// Allowed growth of RssAnon over the soak. The warm-up takes what the runtime keeps at its
// high-water mark (pooled fiber stacks, capacity of queues and maps) past anything the soak can
// reach, so what is left is noise: 20 to 50 KiB on a quiet machine, up to 880 KiB when another
// soak competes for the disk (LMDB keeps every page a write transaction dirtied for reuse, and
// a slow disk makes bigger group commits). A leak of one small block per instance (32 bytes
// with malloc's header, 3.1 MiB over 100,000 instances) exceeds the margin.
constexpr long kRssMarginKiB = 2048;

// The mix of orchestrations, chosen by the instance's index.
enum class Kind { Chain, Timer, Event, Child };

Kind kind_of(int i) {
  if (i % 50 == 7) return Kind::Child;  // 2%
  if (i % 10 == 3) return Kind::Timer;  // 10%
  if (i % 10 == 5) return Kind::Event;  // 10%
  return Kind::Chain;
}

std::string_view name_of(Kind kind) {
  switch (kind) {
    case Kind::Chain:
      return "Chain";
    case Kind::Timer:
      return "Timer";
    case Kind::Event:
      return "Event";
    case Kind::Child:
      return "Parent";
  }
  return "";
}

std::optional<Kind> parse_kind(std::string_view text) {
  if (text == "chain") return Kind::Chain;
  if (text == "timer") return Kind::Timer;
  if (text == "event") return Kind::Event;
  if (text == "child") return Kind::Child;
  return std::nullopt;
}

// Half the event instances get their event right after the start (buffered before the wait);
// the other half only when the client comes to await them, long after they parked (and most
// likely were evicted) on the wait.
bool raises_late(int i) { return i % 20 == 15; }

std::chrono::milliseconds timer_delay(int i) { return std::chrono::milliseconds(1 + i % 20); }

std::string step(const std::string& text) { return text + "."; }

std::string event_data(int i) { return "go" + std::to_string(i); }

// What instance `i` must return; mirrors the orchestrations below.
std::string expected_output(Kind kind, int i) {
  const std::string input = std::to_string(i);
  switch (kind) {
    case Kind::Chain:
      return step(step(input));
    case Kind::Timer:
      // Not "t" + a temporary: g++ 12 at -O3 reports a false -Wrestrict for it.
      return std::string("t").append(step(input));
    case Kind::Event:
      return step(input) + "/" + event_data(i);
    case Kind::Child:
      return "p(" + step(step(input)) + ")";
  }
  return "";
}

ActivityRegistry activities() {
  return ActivityRegistry::builder()
      .register_activity("Step", [](ActivityContext&, std::string in) { return step(in); })
      .build();
}

std::string chain(OrchestrationContext& ctx, std::string input) {
  auto first = ctx.schedule_activity("Step", std::move(input)).into_activity().value();
  return ctx.schedule_activity("Step", std::move(first)).into_activity().value();
}

OrchestrationRegistry orchestrations() {
  return OrchestrationRegistry::builder()
      .register_orchestration("Chain", chain)
      .register_orchestration(
          "Timer",
          [](OrchestrationContext& ctx, std::string input) {
            ctx.schedule_timer(timer_delay(std::stoi(input))).into_timer();
            // Named: a literal + a temporary string gets a false -Wrestrict from g++ 12 at -O3.
            const std::string stepped =
                ctx.schedule_activity("Step", std::move(input)).into_activity().value();
            return "t" + stepped;
          })
      .register_orchestration("Event",
                              [](OrchestrationContext& ctx, std::string input) {
                                auto done =
                                    ctx.schedule_activity("Step", input).into_activity().value();
                                return done + "/" + ctx.schedule_wait("Go").into_event();
                              })
      .register_orchestration(
          "Parent",
          [](OrchestrationContext& ctx, std::string input) {
            auto child =
                ctx.schedule_sub_orchestration("Child", input).into_sub_orchestration().value();
            return "p(" + child + ")";
          })
      .register_orchestration("Child", chain)
      .build();
}

// Returns: a field of /proc/self/status in KiB (RssAnon counts neither the LMDB map nor the
// mapped program: both are file pages), or -1.
long status_kib(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return std::atol(line.c_str() + field.size() + 1);
    }
  }
  return -1;
}

// Returns: bytes malloc has handed out from its arenas (blocks below the mmap threshold; the
// pooled fiber stacks are mmapped blocks, not counted). 0 under ASan, which has its own
// allocator.
long small_heap_kib() { return static_cast<long>(mallinfo2().uordblks / 1024); }

// Failures seen by the client threads; the first few are kept word for word.
class Failures {
 public:
  void add(std::string message) {
    std::lock_guard lock(mutex_);
    if (++count_ <= 10) messages_.push_back(std::move(message));
  }
  long count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  void print() {
    std::lock_guard lock(mutex_);
    for (const auto& message : messages_) std::fprintf(stderr, "soak: %s\n", message.c_str());
    if (count_ > static_cast<long>(messages_.size())) {
      std::fprintf(stderr, "soak: ... %ld failures in all\n", count_);
    }
  }

 private:
  std::mutex mutex_;
  long count_ = 0;
  std::vector<std::string> messages_;
};

struct Batch {
  Batch(std::string prefix, int count, std::optional<Kind> only)
      : prefix(std::move(prefix)), count(count), only(only) {}
  Kind kind(int i) const { return only.value_or(kind_of(i)); }
  std::string id(int i) const { return prefix + std::to_string(i); }

  const std::string prefix;  // instance ids are prefix + index
  const int count;
  const std::optional<Kind> only;  // all instances of this kind instead of the mix
  std::atomic<long> completed{0};  // with the expected output
};

bool start(Client& client, const Batch& batch, int i, Failures& failures) {
  const Kind kind = batch.kind(i);
  const std::string id = batch.id(i);
  if (auto started = client.start_orchestration(id, name_of(kind), std::to_string(i)); !started) {
    failures.add(id + ": start: " + started.error().message);
    return false;
  }
  if (kind == Kind::Event && !raises_late(i)) {
    if (auto raised = client.raise_event(id, "Go", event_data(i)); !raised) {
      failures.add(id + ": raise_event: " + raised.error().message);
    }
  }
  return true;
}

// Raises a late event if the instance waits for one, waits for the end and checks the output.
void await(Client& client, Batch& batch, int i, Failures& failures) {
  const Kind kind = batch.kind(i);
  const std::string id = batch.id(i);
  if (kind == Kind::Event && raises_late(i)) {
    if (auto raised = client.raise_event(id, "Go", event_data(i)); !raised) {
      failures.add(id + ": raise_event: " + raised.error().message);
    }
  }
  auto status = client.wait_for_orchestration(id, 60s);
  if (!status) {
    failures.add(id + ": wait: " + status.error().message);
  } else if (!status->is_completed()) {
    failures.add(id + ": not completed" +
                 (status->is_failed() ? ": " + status->details().display_message() : ""));
  } else if (status->output() != expected_output(kind, i)) {
    failures.add(id + ": output '" + status->output() + "', expected '" + expected_output(kind, i) +
                 "'");
  } else {
    batch.completed.fetch_add(1, std::memory_order_relaxed);
  }
}

// One client thread: starts the indices c, c + kClients, ... of the batch, keeping at most
// kWindowPerClient of them unfinished, and awaits them in the order it started them.
void run_client(Client client, Batch& batch, int c, Failures& failures) {
  std::deque<int> window;
  for (int i = c; i < batch.count; i += kClients) {
    if (!start(client, batch, i, failures)) continue;
    window.push_back(i);
    if (window.size() >= kWindowPerClient) {
      await(client, batch, window.front(), failures);
      window.pop_front();
    }
  }
  for (int i : window) await(client, batch, i, failures);
}

// Samples Instance::live_count() until destroyed; peak() is the most seen.
class LiveMonitor {
 public:
  LiveMonitor()
      : thread_([this] {
          while (!done_) {
            peak_ = std::max(peak_.load(), engine::Instance::live_count());
            std::this_thread::sleep_for(1ms);  // a sampling period, not a wait for a state
          }
        }) {}
  ~LiveMonitor() {
    done_ = true;
    thread_.join();
  }
  std::size_t peak() const { return peak_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<std::size_t> peak_{0};
  std::thread thread_;
};

// Returns: seconds the batch took.
double run_batch(const Client& client, Batch& batch, Failures& failures) {
  const auto begin = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] { run_client(client, batch, c, failures); });
  }
  for (auto& thread : threads) thread.join();
  return std::chrono::duration<double>(Clock::now() - begin).count();
}

// Waits until no instance is in memory any more (every fiber has ended); returns how many
// are left after 10 s. Once every instance has completed, none has a reason to exist. The
// count is polled: the runtime keeps running and nothing signals an instance's end.
std::size_t wait_until_idle() {
  const auto deadline = Clock::now() + 10s;
  while (engine::Instance::live_count() != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  return engine::Instance::live_count();
}

struct Reading {
  std::size_t live = 0;
  long rss_anon_kib = 0;
  long small_heap_kib = 0;
};

Reading measure() {
  Reading reading;
  reading.live = wait_until_idle();
  std::this_thread::sleep_for(kSettle);  // memory readings want a quiet process, not a state
  reading.rss_anon_kib = status_kib("RssAnon");
  reading.small_heap_kib = small_heap_kib();
  return reading;
}

struct Options {
  int n = 100'000;
  int warmup = 5'000;
  std::optional<Kind> only;
};

std::optional<Options> parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> std::optional<std::string> {
      if (arg.rfind(name, 0) != 0) return std::nullopt;
      return std::string(arg.substr(name.size()));
    };
    if (auto n = value("--n=")) {
      options.n = std::atoi(n->c_str());
    } else if (auto warmup = value("--warmup=")) {
      options.warmup = std::atoi(warmup->c_str());
    } else if (auto only = value("--only=")) {
      options.only = parse_kind(*only);
      if (!options.only) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (options.n < 1 || options.warmup < 1) return std::nullopt;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: %s [--n=N] [--warmup=N] [--only=chain|timer|event|child]\n",
                 argv[0]);
    return 2;
  }
  const auto begin = Clock::now();
  // Durability is not what is soaked here: without an fsync per commit the run measures the
  // engine's memory, not the disk's flush rate.
  LmdbOptions store_options;
  store_options.sync = false;
  auto store = LmdbProvider::open_temporary(store_options).value();
  Client client(store);
  Failures failures;
  const long rss_at_start = status_kib("RssAnon");

  // Warm-up, part 1: a burst of the soak's own mix, all started before the runtime, so that
  // each instance has work when it starts and gets a fiber at once. What the runtime keeps at
  // its high-water mark (pooled fiber stacks, capacity of its queues and maps) is sized here
  // by more instances at once than the soak can have: its clients leave at most kInFlight
  // unfinished (plus their children), and the burst is a quarter more.
  Batch burst("burst-", static_cast<int>(kInFlight * 5 / 4), options->only);
  for (int i = 0; i < burst.count; ++i) start(client, burst, i, failures);
  RuntimeOptions runtime_options;
  runtime_options.orchestration_threads = kThreads;
  runtime_options.max_parked_instances = kMaxParked;
  runtime_options.log_level = LogLevel::Error;
  std::size_t burst_peak = 0;
  auto runtime =
      Runtime::start_with_options(store, activities(), orchestrations(), runtime_options);
  {
    LiveMonitor monitor;
    for (int i = 0; i < burst.count; ++i) await(client, burst, i, failures);
    burst_peak = monitor.peak();
  }
  // Part 2: the soak's own mix, to bring every other pool and buffer to its working size.
  Batch warmup("warm-", options->warmup, options->only);
  run_batch(client, warmup, failures);
  const Reading before = measure();

  Batch soak("soak-", options->n, options->only);
  double seconds = 0;
  std::size_t soak_peak = 0;
  {
    LiveMonitor monitor;
    seconds = run_batch(client, soak, failures);
    soak_peak = monitor.peak();
  }
  const Reading after = measure();

  const long growth = after.rss_anon_kib - before.rss_anon_kib;
  const long heap_growth = after.small_heap_kib - before.small_heap_kib;
  std::printf("soak: %d orchestrations in %.2f s: %.0f orchestrations/s\n", soak.count, seconds,
              soak.count / seconds);
  std::printf(
      "soak: RssAnon at start %ld KiB, after the warm-up burst of %d (%zu live at once) "
      "and %d more: %ld KiB\n",
      rss_at_start, burst.count, burst_peak, warmup.count, before.rss_anon_kib);
  std::printf("soak: RssAnon before %ld KiB, after %ld KiB, growth %ld KiB (margin %ld KiB)\n",
              before.rss_anon_kib, after.rss_anon_kib, growth, kRssMarginKiB);
  std::printf("soak: malloc arenas in use before %ld KiB, after %ld KiB, growth %ld KiB\n",
              before.small_heap_kib, after.small_heap_kib, heap_growth);
  std::printf("soak: live instances: at most %zu during the soak, %zu after\n", soak_peak,
              after.live);

  bool ok = failures.count() == 0;
  failures.print();
  for (const Batch* batch : {&burst, &warmup, &soak}) {
    if (batch->completed != batch->count) {
      std::fprintf(stderr, "soak: %ld of %d '%s' instances completed as expected\n",
                   batch->completed.load(), batch->count, batch->prefix.c_str());
      ok = false;
    }
  }
  if (before.live != 0 || after.live != 0) {
    std::fprintf(stderr, "soak: instances still in memory once idle\n");
    ok = false;
  }
  if (before.rss_anon_kib < 0 || after.rss_anon_kib < 0) {
    std::fprintf(stderr, "soak: cannot read RssAnon from /proc/self/status\n");
    ok = false;
  } else if (DUROXIDE_SOAK_ASAN) {
    // ASan keeps freed blocks in quarantine and has its own allocator, so neither figure says
    // anything about leaks there; LeakSanitizer checks at exit instead.
    std::printf("soak: growth not checked under AddressSanitizer\n");
  } else {
    if (growth > kRssMarginKiB) {
      std::fprintf(stderr, "soak: RssAnon grew by %ld KiB, more than %ld KiB\n", growth,
                   kRssMarginKiB);
      ok = false;
    }
  }

  runtime->shutdown();
  runtime.reset();
  std::printf("soak: wall time %.2f s\n",
              std::chrono::duration<double>(Clock::now() - begin).count());
  std::printf("soak: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
