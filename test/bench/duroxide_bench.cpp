// SPDX-License-Identifier: MIT
// duroxide-bench: workloads W1-W6 against a fresh store, one line per figure on stdout.
//
// usage: duroxide-bench [--workload=hello|fanout|chain|timers|replay|parked] [--n=N]
//                       [--durability=sync|nosync] [--threads=T] [--clients=C]
//
// Each figure is printed as "duroxide-cpp WORKLOAD METRIC VALUE"; nothing else goes to stdout
// (diagnostics go to stderr). Without --workload every workload runs with its defaults, each in a
// child process of its own (this program again, with --workload=NAME) and against its own
// temporary store, so that a workload's memory figures are not inflated by the ones before it.
// Exit status: 0 if every instance finished as expected, 1 if not, 2 on a usage error.
//
// How figures are measured:
// - Completion times come from RowWatcher below: the store's change notifications wake one
//   thread, which reads the instance rows in id order and stamps each row the first time it sees
//   it Completed or Failed. The stamp is taken after the final step is durable (and so includes
//   its fsync under --durability=sync), at most one scan late; nothing polls and nothing runs in
//   orchestration code. Start times are taken when start_orchestration returns.
// - rss_mib is the peak resident set of the process (VmHWM in /proc/self/status): heap, stacks
//   and the pages of the store's memory map that the process touched. W6 reports the resident
//   set while all instances are parked instead (VmRSS).
// - store_mib is the size of the store file (not LMDB's lock file beside it) once W1's runtime
//   has shut down.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <duroxide/duroxide.hpp>

using namespace duroxide;
using Clock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

namespace {

constexpr std::string_view kWorkloads[] = {"hello",  "fanout", "chain",
                                           "timers", "replay", "parked"};
// How long a workload waits for its instances: generous, since one that needs longer is broken,
// not slow. The environment variable BENCH_TIMEOUT_S overrides it (seconds).
std::chrono::seconds wait_limit() {
  const char* seconds = std::getenv("BENCH_TIMEOUT_S");
  return std::chrono::seconds(seconds ? std::max(1, std::atoi(seconds)) : 600);
}

struct Options {
  std::string workload;  // empty: all of them, each in a child process
  int n = 0;             // 0: the workload's default count
  // Client threads starting instances (and raising events) concurrently. A start returns once
  // it is durable, so starts per second are at most clients x group commits per second.
  int clients = 32;
  bool sync = true;
  std::size_t threads = 0;  // orchestration threads; 0: the RuntimeOptions default
};

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

bool parse_option(std::string_view arg, Options& options) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string_view key = arg.substr(0, eq);
  const std::string_view value = arg.substr(eq + 1);
  if (key == "--workload") {
    options.workload = value;
    return std::find(std::begin(kWorkloads), std::end(kWorkloads), value) != std::end(kWorkloads);
  }
  if (key == "--n") return parse_number(value, options.n);
  if (key == "--clients") return parse_number(value, options.clients);
  if (key == "--threads") return parse_number(value, options.threads);
  if (key == "--durability") {
    options.sync = value == "sync";
    return value == "sync" || value == "nosync";
  }
  return false;
}

std::optional<Options> parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (!parse_option(argv[i], options)) {
      std::fprintf(stderr,
                   "duroxide-bench: bad option '%s'\nusage: duroxide-bench "
                   "[--workload=hello|fanout|chain|timers|replay|parked] [--n=N] "
                   "[--durability=sync|nosync] [--threads=T] [--clients=C]\n",
                   argv[i]);
      return std::nullopt;
    }
  }
  return options;
}

void print(std::string_view workload, std::string_view metric, double value) {
  std::printf("duroxide-cpp %.*s %.*s %.3f\n", static_cast<int>(workload.size()), workload.data(),
              static_cast<int>(metric.size()), metric.data(), value);
  std::fflush(stdout);
}

int fail(std::string_view workload, const std::string& why) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(workload.size()), workload.data(),
               why.c_str());
  return 1;
}

// A field of /proc/self/status in KiB ("VmHWM", "VmRSS", "RssAnon", ...); -1 if missing.
long status_kib(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > field.size() && line.starts_with(field) && line[field.size()] == ':') {
      return std::atol(line.c_str() + field.size() + 1);
    }
  }
  return -1;
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Nearest-rank percentile, p in (0, 1].
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

// Zero-padded, so that the byte order of the ids (the order of the store's rows) is start order.
std::string instance_id(std::string_view prefix, int i) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%08d", i);
  return std::string(prefix) + "-" + digits;
}

std::shared_ptr<LmdbProvider> open_store(const Options& options) {
  LmdbOptions store_options;
  store_options.sync = options.sync;
  auto store = LmdbProvider::open_temporary(store_options);
  if (!store) {
    std::fprintf(stderr, "cannot open a temporary store: %s\n", store.error().to_string().c_str());
    std::exit(1);
  }
  return store.value();
}

RuntimeOptions runtime_options(const Options& options) {
  RuntimeOptions runtime_options;
  runtime_options.log_level = LogLevel::Error;
  if (options.threads != 0) runtime_options.orchestration_threads = options.threads;
  return runtime_options;
}

// Watches the rows of instances PREFIX-00000000 .. PREFIX-(n-1) until each satisfies `reached`,
// and records when it was first seen to. Woken by the store's change notifications (a one-second
// recheck only covers a missed one); each scan reads the rows in id order from the first
// instance not yet reached, one page per read transaction, and stops after kWindow rows that
// have not reached it, so a scan costs about the rows that changed plus kWindow.
// Thread safety: wait() and the accessors from one thread; results are valid once wait()
// returned true.
class RowWatcher {
 public:
  using Predicate = std::function<bool(const InstanceRecord&)>;
  /// What the watcher saw of one instance, kept small: it counts in the memory figures.
  struct Arrival {
    bool seen = false;
    InstanceState state = InstanceState::Running;
    Clock::time_point at;          // when the watcher first saw the row reach the predicate
    SystemClock::time_point wall;  // the same moment on the system clock
    TimestampMs updated_at = 0;    // the row's own stamp (whole ms, taken before its commit)
    std::string output;            // Completed: the output; Failed: the error's display message
  };

  RowWatcher(std::shared_ptr<Provider> store, std::string prefix, int n, Predicate reached)
      : store_(std::move(store)),
        prefix_(std::move(prefix)),
        reached_(std::move(reached)),
        arrivals_(n) {
    token_ = store_->subscribe([this](const ChangeNotice& notice) {
      if (!notice.instances && !notice.foreign) return;
      {
        std::lock_guard lock(mutex_);
        ++notices_;
      }
      changed_.notify_all();
    });
    thread_ = std::thread([this] { run(); });
  }
  ~RowWatcher() { stop(); }
  RowWatcher(const RowWatcher&) = delete;
  RowWatcher& operator=(const RowWatcher&) = delete;

  /// Blocks until every instance has reached the predicate or `timeout` passes.
  /// Returns: true if all have.
  bool wait(Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done_ || !error_.empty(); }) &&
           error_.empty();
  }
  /// Stops watching (the arrivals seen so far stay readable). Idempotent.
  void stop() {
    if (!thread_.joinable()) return;
    store_->unsubscribe(token_);
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  const std::string& error() const { return error_; }
  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  /// Returns: when the last instance was first seen to have reached the predicate.
  Clock::time_point last() const {
    Clock::time_point last{};
    for (const auto& arrival : arrivals_) last = std::max(last, arrival.at);
    return last;
  }

 private:
  static constexpr std::size_t kPage = 128;
  static constexpr std::size_t kWindow = 256;

  void run() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || notices_ != seen; });
        if (stop_) break;
        seen = notices_;
      }
      ++scans_;
      std::string error;
      const bool done = scan(error);
      const bool failed = !error.empty();
      {
        std::lock_guard lock(mutex_);
        done_ = done;
        error_ = std::move(error);
      }
      if (done || failed) {
        changed_.notify_all();
        break;
      }
    }
    report();
  }

  // Diagnostics: what the watcher cost, and how long after the engine stamped each row
  // (updated_at, in whole ms, taken before the commit) the watcher saw it: commit, notification
  // and scan delay together, an upper bound on how late the watcher's times are.
  void report() const {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    std::vector<double> lag;
    for (const auto& arrival : arrivals_) {
      if (!arrival.seen) continue;
      const auto seen_ms =
          std::chrono::duration<double, std::milli>(arrival.wall.time_since_epoch());
      lag.push_back(seen_ms.count() - static_cast<double>(arrival.updated_at));
    }
    std::fprintf(stderr,
                 "watcher %s: %zu scans, %.1f ms of CPU; seen after the row's updated_at: "
                 "p50 %.1f ms, p99 %.1f ms\n",
                 prefix_.c_str(), scans_,
                 (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
                     (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3,
                 percentile(lag, 0.5), percentile(lag, 0.99));
  }

  // Returns: true once every instance has reached the predicate.
  bool scan(std::string& error) {
    InstanceQuery query;
    query.id_prefix = prefix_ + "-";
    query.limit = kPage;
    if (first_ > 0) query.start_after = instance_id(prefix_, static_cast<int>(first_) - 1);
    std::size_t waiting = 0;
    std::size_t next = first_;  // the instance number the next row should have
    while (waiting < kWindow) {
      auto rows = store_->list_instances(query);
      if (!rows) {
        error = "listing instances: " + rows.error().to_string();
        return false;
      }
      if (rows->empty()) break;
      query.start_after = rows->back().instance_id;  // before note() moves the row
      for (auto& row : *rows) {
        // Ids missing before this row belong to instances not started yet: not reached either.
        const std::size_t index = number(row.instance_id);
        waiting += index > next ? index - next : 0;
        next = index + 1;
        waiting += note(index, std::move(row)) ? 0 : 1;
      }
      if (rows->size() < kPage) break;
    }
    while (first_ < arrivals_.size() && arrivals_[first_].seen) ++first_;
    return first_ == arrivals_.size();
  }

  std::size_t number(const std::string& id) const {
    return std::strtoul(id.c_str() + prefix_.size() + 1, nullptr, 10);
  }

  // Returns: whether instance `index` (whose row this is) has reached the predicate, now or
  // before.
  bool note(std::size_t index, InstanceRecord row) {
    if (index >= arrivals_.size()) return true;  // not one of ours
    Arrival& arrival = arrivals_[index];
    if (arrival.seen) return true;
    if (!reached_(row)) return false;
    arrival = Arrival{
        true,
        row.state,
        Clock::now(),
        SystemClock::now(),
        row.updated_at,
        row.state == InstanceState::Failed ? row.error.display_message() : std::move(row.output)};
    return true;
  }

  std::shared_ptr<Provider> store_;
  std::string prefix_;
  Predicate reached_;
  std::vector<Arrival> arrivals_;  // by instance number; written by the scanning thread only
  std::size_t first_ = 0;          // every instance below it has reached the predicate
  std::size_t scans_ = 0;
  std::uint64_t token_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t notices_ = 0;
  bool stop_ = false;
  bool done_ = false;
  std::string error_;
  std::thread thread_;
};

bool finished(const InstanceRecord& row) { return row.state != InstanceState::Running; }

// For a workload that timed out: stops the watcher and tells how many of its instances the
// store holds in each state, and how many the watcher saw arrive.
std::string census(Provider& store, RowWatcher& watcher, std::string_view prefix) {
  watcher.stop();
  std::size_t counts[4] = {};
  InstanceQuery query;
  query.id_prefix = std::string(prefix) + "-";
  query.limit = 0;
  auto rows = store.list_instances(query);
  if (!rows) return "cannot list: " + rows.error().to_string();
  for (const auto& row : *rows) ++counts[static_cast<int>(row.state)];
  std::size_t seen = 0;
  for (const auto& arrival : watcher.arrivals()) seen += arrival.seen ? 1 : 0;
  return watcher.error() + " rows: " + std::to_string(rows->size()) + " running " +
         std::to_string(counts[1]) + " completed " + std::to_string(counts[2]) + " failed " +
         std::to_string(counts[3]) + "; seen by the watcher: " + std::to_string(seen);
}

// Checks that every instance completed with `expected(i)`; reports the first few that did not.
bool verify(std::string_view workload, const RowWatcher& watcher,
            const std::function<std::string(int)>& expected) {
  int wrong = 0;
  const auto& arrivals = watcher.arrivals();
  for (int i = 0; i < static_cast<int>(arrivals.size()); ++i) {
    const auto& row = arrivals[i];
    if (row.state == InstanceState::Completed && row.output == expected(i)) continue;
    if (++wrong <= 5) {
      fail(workload, "instance " + std::to_string(i) + " ended " +
                         (row.state == InstanceState::Completed ? "with output '" + row.output + "'"
                                                                : "failed: " + row.output));
    }
  }
  if (wrong > 0) fail(workload, std::to_string(wrong) + " instances did not complete as expected");
  return wrong == 0;
}

// Calls `call(i)` for i in [0, n) from `clients` threads, each taking every clients-th number,
// so that the calls go out roughly in order. Returns: false if a call failed (reported).
bool run_clients(int n, int clients, const std::function<Result<void, Error>(int)>& call) {
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int c = 0; c < std::min(clients, n); ++c) {
    threads.emplace_back([&, c] {
      for (int i = c; i < n && ok; i += clients) {
        auto done = call(i);
        if (!done) {
          std::fprintf(stderr, "client call %d: %s\n", i, done.error().to_string().c_str());
          ok = false;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return ok;
}

// Starts PREFIX-i of `name` with input(i) for every i; started[i] is when its start returned.
bool start_all(Client& client, const Options& options, std::string_view prefix, int n,
               std::string_view name, const std::function<std::string(int)>& input,
               std::vector<Clock::time_point>& started) {
  started.assign(n, {});
  return run_clients(n, options.clients, [&](int i) {
    auto done = client.start_orchestration(instance_id(prefix, i), name, input(i));
    started[i] = Clock::now();
    return done;
  });
}

ActivityRegistry trivial_activities() {
  return ActivityRegistry::builder()
      .register_activity("Greet",
                         [](ActivityContext&, std::string name) { return "Hello, " + name + "!"; })
      .register_activity("Echo", [](ActivityContext&, std::string input) { return input; })
      .register_activity(
          "Inc",
          [](ActivityContext&, std::string input) { return std::to_string(std::stoll(input) + 1); })
      .build();
}

// Schedules activity Echo(0 .. width-1) at once and joins them. Returns: the sum of the outputs.
Result<long long> echo_fan_out(OrchestrationContext& ctx, int width) {
  std::vector<DurableFuture> calls;
  calls.reserve(width);
  for (int i = 0; i < width; ++i) calls.push_back(ctx.schedule_activity("Echo", std::to_string(i)));
  long long sum = 0;
  for (auto& output : ctx.join(std::move(calls))) {
    if (!output.result) return Err(output.result.error());
    sum += std::stoll(*output.result);
  }
  return sum;
}

std::unique_ptr<Runtime> start_runtime(const std::shared_ptr<LmdbProvider>& store,
                                       OrchestrationRegistry orchestrations,
                                       RuntimeOptions options) {
  return Runtime::start_with_options(store, trivial_activities(), std::move(orchestrations),
                                     std::move(options));
}

// W1: n instances started back to back by the client threads, each calling one activity.
int hello(const Options& options) {
  const int n = options.n ? options.n : 10'000;
  auto store = open_store(options);
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Hello",
              [](OrchestrationContext& ctx, std::string name) {
                return ctx.schedule_activity("Greet", std::move(name)).into_activity();
              })
          .build();
  auto runtime = start_runtime(store, std::move(orchestrations), runtime_options(options));
  Client client(store);
  RowWatcher watcher(store, "hello", n, finished);
  std::vector<Clock::time_point> started;
  const auto begin = Clock::now();
  auto user = [](int i) { return "user-" + std::to_string(i); };
  if (!start_all(client, options, "hello", n, "Hello", user, started)) return 1;
  if (!watcher.wait(wait_limit())) {
    return fail("hello", "not all finished: " + census(*store, watcher, "hello"));
  }
  const double wall = seconds(watcher.last() - begin);
  if (!verify("hello", watcher, [&](int i) { return "Hello, " + user(i) + "!"; })) return 1;
  std::vector<double> latencies;
  for (int i = 0; i < n; ++i) latencies.push_back(millis(watcher.arrivals()[i].at - started[i]));
  runtime->shutdown();
  struct stat file {};
  if (::stat(store->path().c_str(), &file) != 0) return fail("hello", "cannot stat the store");
  print("hello", "orch_per_s", n / wall);
  print("hello", "wall_s", wall);
  print("hello", "p50_ms", percentile(latencies, 0.50));
  print("hello", "p99_ms", percentile(latencies, 0.99));
  print("hello", "rss_mib", mib(status_kib("VmHWM")));
  print("hello", "store_mib", static_cast<double>(file.st_size) / (1 << 20));
  print("hello", "store_kib_per_instance", static_cast<double>(file.st_size) / 1024.0 / n);
  return 0;
}

// Starts one instance with `input` and waits for it. Returns: its output and the time from the
// start call to the completion, or nothing (reported) if it did not complete.
std::optional<std::pair<std::string, double>> run_one(std::string_view workload,
                                                      const Options& options,
                                                      OrchestrationRegistry orchestrations,
                                                      std::string_view name, std::string input) {
  auto store = open_store(options);
  auto runtime = start_runtime(store, std::move(orchestrations), runtime_options(options));
  Client client(store);
  const auto begin = Clock::now();
  if (auto started = client.start_orchestration("one", name, std::move(input)); !started) {
    fail(workload, "start: " + started.error().to_string());
    return std::nullopt;
  }
  auto status = client.wait_for_orchestration("one", wait_limit());
  const double wall = seconds(Clock::now() - begin);
  if (!status || !status->is_completed()) {
    fail(workload, status ? status->details().display_message() : status.error().to_string());
    return std::nullopt;
  }
  return std::make_pair(status->output(), wall);
}

// W2: one instance scheduling n activities at once and joining them.
int fanout(const Options& options) {
  const int n = options.n ? options.n : 1'000;
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration("FanOut",
                                  [](OrchestrationContext& ctx, std::string in) {
                                    auto sum = echo_fan_out(ctx, std::stoi(in));
                                    return sum ? Result<std::string>(std::to_string(*sum))
                                               : Result<std::string>(Err(sum.error()));
                                  })
          .build();
  auto result = run_one("fanout", options, std::move(orchestrations), "FanOut", std::to_string(n));
  if (!result) return 1;
  const long long expected = static_cast<long long>(n) * (n - 1) / 2;
  if (result->first != std::to_string(expected)) return fail("fanout", "output " + result->first);
  print("fanout", "wall_s", result->second);
  print("fanout", "activities_per_s", n / result->second);
  print("fanout", "rss_mib", mib(status_kib("VmHWM")));
  return 0;
}

// W3: one instance calling n activities one after the other, each adding one to a count.
int chain(const Options& options) {
  const int n = options.n ? options.n : 200;
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Chain",
              [](OrchestrationContext& ctx, std::string in) -> Result<std::string> {
                std::string count = "0";
                for (int i = 0, steps = std::stoi(in); i < steps; ++i) {
                  auto next = ctx.schedule_activity("Inc", count).into_activity();
                  if (!next) return next;
                  count = std::move(*next);
                }
                return count;
              })
          .build();
  auto result = run_one("chain", options, std::move(orchestrations), "Chain", std::to_string(n));
  if (!result) return 1;
  if (result->first != std::to_string(n)) return fail("chain", "output " + result->first);
  print("chain", "wall_s", result->second);
  print("chain", "per_step_ms", result->second * 1000.0 / n);
  print("chain", "rss_mib", mib(status_kib("VmHWM")));
  return 0;
}

// Returns: the due time (TimerCreated) of the instance's one timer and the start time of the turn
// that its firing opened, in ms since the epoch; nothing if history holds no fired timer.
std::optional<std::pair<TimestampMs, TimestampMs>> timer_times(Client& client,
                                                               const std::string& id) {
  auto history = client.read_history(id, 1);
  if (!history) return std::nullopt;
  std::optional<TimestampMs> due, turn;
  for (const auto& event : *history) {
    if (event.kind == EventKind::TimerCreated) due = event.timestamp;
    if (event.kind == EventKind::TurnStarted && due && !turn) turn = event.timestamp;
  }
  if (!due || !turn) return std::nullopt;
  return std::make_pair(*due, *turn);
}

// W4: n instances started back to back, each waiting on a 100 ms durable timer.
// Lateness is measured against the timer's due time as history records it (the first turn's
// time + 100 ms, in whole ms): late_ms is the time the completion of the instance (durable, seen
// by the watcher) came after it, wake_ms the start of the turn the timer's firing opened (in
// whole ms, the engine's clock: when the orchestration was resumed).
constexpr std::chrono::milliseconds kTimerDelay{100};

int timers(const Options& options) {
  const int n = options.n ? options.n : 500;
  auto store = open_store(options);
  auto orchestrations = OrchestrationRegistry::builder()
                            .register_orchestration("Sleep",
                                                    [](OrchestrationContext& ctx, std::string) {
                                                      ctx.schedule_timer(kTimerDelay).into_timer();
                                                      return std::string("woke");
                                                    })
                            .build();
  auto runtime = start_runtime(store, std::move(orchestrations), runtime_options(options));
  Client client(store);
  RowWatcher watcher(store, "timer", n, finished);
  std::vector<Clock::time_point> started;
  const auto begin = Clock::now();
  auto no_input = [](int) { return std::string(); };
  if (!start_all(client, options, "timer", n, "Sleep", no_input, started)) return 1;
  if (!watcher.wait(wait_limit())) {
    return fail("timers", "not all finished: " + census(*store, watcher, "timer"));
  }
  const double wall = seconds(watcher.last() - begin);
  if (!verify("timers", watcher, [](int) { return "woke"; })) return 1;
  std::vector<double> latencies, late, wake;
  for (int i = 0; i < n; ++i) {
    const auto& arrival = watcher.arrivals()[i];
    auto times = timer_times(client, instance_id("timer", i));
    if (!times) {
      return fail("timers", "no fired timer in the history of instance " + std::to_string(i));
    }
    const double done_ms =
        std::chrono::duration<double, std::milli>(arrival.wall.time_since_epoch()).count();
    latencies.push_back(millis(arrival.at - started[i]));
    late.push_back(done_ms - static_cast<double>(times->first));
    wake.push_back(static_cast<double>(times->second - times->first));
  }
  print("timers", "wall_s", wall);
  print("timers", "p50_ms", percentile(latencies, 0.50));
  print("timers", "p99_ms", percentile(latencies, 0.99));
  print("timers", "p50_late_ms", percentile(late, 0.50));
  print("timers", "p99_late_ms", percentile(late, 0.99));
  print("timers", "p99_wake_late_ms", percentile(wake, 0.99));
  print("timers", "rss_mib", mib(status_kib("VmHWM")));
  return 0;
}

// The W5 orchestration: waits one after the other for `input` events named "step", then for
// one named "go". Returns: the data of "go" and the sum of the steps' data.
Result<std::string> replay_build(OrchestrationContext& ctx, std::string input) {
  long long sum = 0;
  for (int i = 0, steps = std::stoi(input); i < steps; ++i) {
    sum += std::stoll(ctx.schedule_wait("step").into_event());
  }
  ctx.set_custom_status("built");
  return ctx.schedule_wait("go").into_event() + " " + std::to_string(sum);
}

// Polls (setup only, not measured) until the instance has built its history and waits for "go".
bool wait_built(Client& client, const std::string& id) {
  const auto deadline = Clock::now() + wait_limit();
  while (Clock::now() < deadline) {
    auto status = client.get_orchestration_status(id);
    if (!status || status->is_terminal()) return false;
    if (status->custom_status() == "built") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// W5: builds one instance with a history of about n events, stops the runtime, starts a new
// one on the same store and raises the event the instance waits for. The new runtime holds no
// fiber of the instance, so it reads the whole history and replays the orchestration through it
// before the event completes the instance. events_per_s = history events / (raise ->
// completion, durable).
// The history is built from n/2 external events raised by the clients (buffered, received by
// sequential waits: an EventSubscribed and an EventRaised per wait, plus a TurnStarted per
// batch of events a turn takes), the quickest way to write it: each activity costs commits of
// its own, and a fan-out joined k at a time adds O(k^2) work to replay (see W2).
int replay(const Options& options) {
  const int n = options.n ? options.n : 100'000;
  const int steps = (n + 1) / 2;
  auto store = open_store(options);
  auto registry = [] {
    return OrchestrationRegistry::builder().register_orchestration("Build", replay_build).build();
  };
  RuntimeOptions runtime_opts = runtime_options(options);
  runtime_opts.max_history_events = 3ull * steps + 100;  // a turn per event at most
  Client client(store);
  const auto build_begin = Clock::now();
  {
    auto builder = start_runtime(store, registry(), runtime_opts);
    if (auto started = client.start_orchestration("replayed", "Build", std::to_string(steps));
        !started) {
      return fail("replay", "start: " + started.error().to_string());
    }
    if (!run_clients(steps, options.clients, [&](int i) {
          return client.raise_event("replayed", "step", std::to_string(i));
        })) {
      return 1;
    }
    if (!wait_built(client, "replayed")) return fail("replay", "the history was not built");
  }  // the runtime shuts down: the instance's fiber is unwound
  const double build_s = seconds(Clock::now() - build_begin);
  auto history = client.read_history("replayed", 1);
  if (!history) return fail("replay", "read_history: " + history.error().to_string());
  const std::size_t events = history->size();
  std::fprintf(stderr, "replay: history of %zu events built in %.2f s; replaying\n", events,
               build_s);
  auto runtime = start_runtime(store, registry(), runtime_opts);
  const auto begin = Clock::now();
  if (auto raised = client.raise_event("replayed", "go", "go"); !raised) {
    return fail("replay", "raise_event: " + raised.error().to_string());
  }
  auto status = client.wait_for_orchestration("replayed", wait_limit());
  const double replay_s = seconds(Clock::now() - begin);
  const long long sum = static_cast<long long>(steps) * (steps - 1) / 2;
  if (!status || !status->is_completed() || status->output() != "go " + std::to_string(sum)) {
    return fail("replay", "did not complete as expected: " +
                              (status ? status->output() + status->details().display_message()
                                      : status.error().to_string()));
  }
  print("replay", "history_events", static_cast<double>(events));
  print("replay", "replay_s", replay_s);
  print("replay", "events_per_s", static_cast<double>(events) / replay_s);
  return 0;
}

// W6: n instances parked at once on an external event, every one kept in memory (so
// max_parked_instances is raised to n). Memory growth is measured from the idle runtime to the
// moment the last instance has recorded its wait; it includes the pages of the store's map that
// the process touched (RssFile), which anon_kib_per_instance leaves out. Then every instance gets
// its event and must complete with its data.
int parked(const Options& options) {
  const int n = options.n ? options.n : 100'000;
  auto store = open_store(options);
  auto orchestrations = OrchestrationRegistry::builder()
                            .register_orchestration("Park",
                                                    [](OrchestrationContext& ctx, std::string) {
                                                      ctx.set_custom_status("parked");
                                                      return ctx.schedule_wait("go").into_event();
                                                    })
                            .build();
  RuntimeOptions runtime_opts = runtime_options(options);
  runtime_opts.max_parked_instances = std::max<std::size_t>(runtime_opts.max_parked_instances, n);
  auto runtime = start_runtime(store, std::move(orchestrations), runtime_opts);
  Client client(store);
  // The custom status is written with the step that records the wait: once it is visible the
  // fiber is parked in that wait.
  auto parked_all = std::make_unique<RowWatcher>(store, "park", n, [](const InstanceRecord& row) {
    return row.state != InstanceState::Running || row.custom_status == "parked";
  });
  std::vector<Clock::time_point> started(n);
  // The baseline holds the idle runtime and this program's own bookkeeping for n instances.
  const long rss_before = status_kib("VmRSS");
  const long anon_before = status_kib("RssAnon");
  auto no_input = [](int) { return std::string(); };
  if (!start_all(client, options, "park", n, "Park", no_input, started)) return 1;
  if (!parked_all->wait(wait_limit())) {
    return fail("parked", "not all parked: " + census(*store, *parked_all, "park"));
  }
  const long rss = status_kib("VmRSS");
  const long anon = status_kib("RssAnon");
  parked_all.reset();
  RowWatcher watcher(store, "park", n, finished);
  auto data = [](int i) { return "go-" + std::to_string(i); };
  if (!run_clients(n, options.clients, [&](int i) {
        return client.raise_event(instance_id("park", i), "go", data(i));
      })) {
    return 1;
  }
  if (!watcher.wait(wait_limit())) {
    return fail("parked", "not all finished: " + census(*store, watcher, "park"));
  }
  if (!verify("parked", watcher, data)) return 1;
  runtime->shutdown();
  print("parked", "rss_mib", mib(rss));
  print("parked", "kib_per_instance", static_cast<double>(rss - rss_before) / n);
  print("parked", "anon_kib_per_instance", static_cast<double>(anon - anon_before) / n);
  return 0;
}

int run_workload(const Options& options) {
  const std::string& w = options.workload;
  if (w == "hello") return hello(options);
  if (w == "fanout") return fanout(options);
  if (w == "chain") return chain(options);
  if (w == "timers") return timers(options);
  if (w == "replay") return replay(options);
  return parked(options);
}

// Runs every workload in a child process of its own: this program with --workload=NAME.
int run_all(int argc, char** argv) {
  int failed = 0;
  for (std::string_view workload : kWorkloads) {
    std::vector<std::string> args(argv, argv + argc);
    args.push_back("--workload=" + std::string(workload));
    std::vector<char*> child_argv;
    for (auto& arg : args) child_argv.push_back(arg.data());
    child_argv.push_back(nullptr);
    pid_t pid = 0;
    int status = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, child_argv.data(), environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "workload %s failed (wait status %d)\n", std::string(workload).c_str(),
                   status);
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse(argc, argv);
  if (!options) return 2;
  return options->workload.empty() ? run_all(argc, argv) : run_workload(*options);
}
