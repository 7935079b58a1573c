// SPDX-License-Identifier: MIT
// cli-poll-bench: what a `duroxide` process polling a live store costs the runtime writing it.
//
// usage: cli-poll-bench [--n=N] [--rounds=R] [--clients=C] [--pause-ms=P] [--cli=PATH]
//
// Runs a W1-like load (N instances of an orchestration calling one activity, started back to
// back by C client threads, against a fresh store file with fsync on every commit) R times
// alone and R times while another thread runs the duroxide command on the same file in a loop
// (list --limit 50, show of one instance, stats; P ms of pause after each run, default none),
// alternating, so that drift of the machine touches both. Prints "duroxide-cpp cli_poll METRIC
// VALUE" lines: the median throughput of each, the drop in percent, how many CLI runs the
// polled rounds made, how many failed, and the CPU the CLI processes used per second of the
// polled rounds (user + system, from wait4): on a machine with few cores, the drop is mostly
// that CPU taken from the runtime.
// Exit status: 0 if every instance completed, 1 if not, 2 on a usage error.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <duroxide/duroxide.hpp>

extern char** environ;

using namespace duroxide;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int n = 20000;
  int rounds = 3;
  int clients = 32;
  int pause_ms = 0;
  std::string cli = DUROXIDE_CLI_PATH;  // the duroxide of this build (meson sets it)
};

bool parse_int(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) return false;
    const auto key = arg.substr(0, eq);
    const auto value = arg.substr(eq + 1);
    bool ok = false;
    if (key == "--n") ok = parse_int(value, options.n);
    if (key == "--rounds") ok = parse_int(value, options.rounds);
    if (key == "--clients") ok = parse_int(value, options.clients);
    if (key == "--pause-ms") ok = parse_int(value, options.pause_ms);
    if (key == "--cli") ok = !(options.cli = std::string(value)).empty();
    if (!ok) return false;
  }
  return true;
}

std::string instance_id(int i) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%08d", i);
  return std::string("hello-") + digits;
}

// Runs the command with its output thrown away; adds the CPU seconds it used to `cpu_s`.
// Returns: its exit status (-1: no normal exit).
int run_cli(const std::string& cli, std::vector<std::string> args, double& cpu_s) {
  args.insert(args.begin(), cli);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
  }
  cpu_s += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The CLI loop of a polled round. Thread safety: the counters are read after join().
struct Poller {
  std::atomic<bool> stop{false};
  int runs = 0;
  int failures = 0;
  int stats_failures = 0;
  double cpu_s = 0;     // of the CLI processes
  double polled_s = 0;  // wall time of the polled rounds

  void loop(const std::string& cli, const std::string& store, int pause_ms) {
    const auto pause = [&] {
      if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    };
    while (!stop) {
      const bool listed = run_cli(cli, {"list", "--store", store, "--limit", "50"}, cpu_s) == 0;
      pause();
      // The first instance exists from the first start on; before that, show is NotFound.
      const int shown = run_cli(cli, {"show", "--store", store, instance_id(0)}, cpu_s);
      pause();
      const bool stats = run_cli(cli, {"stats", "--store", store, "--json"}, cpu_s) == 0;
      pause();
      runs += 3;
      failures += (listed ? 0 : 1) + (shown == 0 || shown == 1 ? 0 : 1);
      stats_failures += stats ? 0 : 1;
    }
  }
};

// One round of the load. Returns: instances per second, or a negative number on a failure.
double round_once(const Options& options, bool polled, Poller& poller) {
  auto store = LmdbProvider::open_temporary().value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity(
              "Greet", [](ActivityContext&, std::string name) { return "Hello, " + name + "!"; })
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration("Hello",
                                  [](OrchestrationContext& ctx, std::string in) {
                                    return ctx.schedule_activity("Greet", in).into_activity();
                                  })
          .build();
  RuntimeOptions runtime_options;
  runtime_options.log_level = LogLevel::Error;
  auto runtime = Runtime::start_with_options(store, activities, orchestrations, runtime_options);
  Client client(store);
  std::thread cli_thread;
  if (polled)
    cli_thread = std::thread([&] { poller.loop(options.cli, store->path(), options.pause_ms); });

  const auto begin = Clock::now();
  std::atomic<bool> ok{true};
  std::vector<std::thread> clients;
  for (int c = 0; c < options.clients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = c; i < options.n && ok; i += options.clients) {
        auto started = client.start_orchestration(instance_id(i), "Hello", std::to_string(i));
        if (!started) {
          std::fprintf(stderr, "start %d: %s\n", i, started.error().to_string().c_str());
          ok = false;
        }
      }
    });
  }
  for (auto& thread : clients) thread.join();
  for (int i = 0; i < options.n && ok; ++i) {
    auto status = client.wait_for_orchestration(instance_id(i), std::chrono::minutes(10));
    if (!status || !status->is_completed()) {
      std::fprintf(stderr, "instance %d: %s\n", i,
                   status ? status->details().display_message().c_str()
                          : status.error().to_string().c_str());
      ok = false;
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - begin).count();
  if (polled) {
    poller.polled_s += wall;
    poller.stop = true;
    cli_thread.join();
    poller.stop = false;
  }
  runtime->shutdown();
  return ok ? options.n / wall : -1.0;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void print(std::string_view metric, double value) {
  std::printf("duroxide-cpp cli_poll %.*s %.3f\n", static_cast<int>(metric.size()), metric.data(),
              value);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: cli-poll-bench [--n=N] [--rounds=R] [--clients=C] [--pause-ms=P] "
                 "[--cli=PATH]\n");
    return 2;
  }
  Poller poller;
  std::vector<double> alone, polled;
  for (int r = 0; r < options.rounds; ++r) {
    for (const bool with_cli : {false, true}) {
      const double rate = round_once(options, with_cli, poller);
      if (rate < 0) {
        std::fprintf(stderr, "round %d (%s): not every instance completed\n", r,
                     with_cli ? "polled" : "alone");
        return 1;
      }
      std::fprintf(stderr, "round %d %s: %.1f orch/s\n", r, with_cli ? "polled" : "alone", rate);
      (with_cli ? polled : alone).push_back(rate);
    }
  }
  const double a = median(alone);
  const double p = median(polled);
  print("alone_orch_per_s", a);
  print("polled_orch_per_s", p);
  print("drop_pct", (a - p) / a * 100.0);
  print("cli_runs", poller.runs);
  print("cli_failures", poller.failures);
  print("cli_stats_failures", poller.stats_failures);
  print("cli_cpu_s_per_s", poller.cpu_s / poller.polled_s);
  return 0;
}
