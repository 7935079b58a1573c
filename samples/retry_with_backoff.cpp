// SPDX-License-Identifier: MIT
// Retries: a flaky activity retried with exponential back-off, and a per-attempt timeout.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <duroxide/duroxide.hpp>

using namespace duroxide;
using namespace std::chrono_literals;

int main() {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto ms_since_start = [t0] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  };
  // Each retry is a new scheduled activity whose ActivityContext::attempt() starts at 1 again,
  // so the calls are counted here, with the time each one began.
  std::atomic<int> fetch_calls{0};
  std::array<std::atomic<long long>, 5> fetch_at{};
  std::atomic<int> report_calls{0};
  std::atomic<bool> report_stopped{false};

  auto store = LmdbProvider::open_temporary().value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity("FetchRates",
                             [&](ActivityContext&, std::string) -> Result<std::string> {
                               const int call = ++fetch_calls;
                               fetch_at[call - 1] = ms_since_start();
                               if (call < 3) return Err("service unavailable");
                               return "EUR/USD 1.08";
                             })
          .register_activity("BuildReport",
                             [&](ActivityContext& ctx, std::string) {
                               ++report_calls;
                               // Far slower than its timeout. Activities cannot be interrupted,
                               // so a long one polls is_cancelled() and gives up when asked.
                               const auto give_up = Clock::now() + 5s;
                               while (!ctx.is_cancelled() && Clock::now() < give_up) {
                                 std::this_thread::sleep_for(5ms);
                               }
                               report_stopped = ctx.is_cancelled();
                               return std::string("report");
                             })
          .build();

  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Rates",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                // Waits 50 ms after the first failure, 100 ms after the second, ... at most 1 s.
                // The waits are durable timers: a restart neither repeats nor shortens them.
                auto policy = RetryPolicy(5).with_backoff(Backoff::exponential(50ms, 2.0, 1s));
                return ctx.schedule_activity_with_retry("FetchRates", "", policy).into_activity();
              })
          .register_orchestration(
              "Report",
              [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                // A timed-out attempt is not retried: the call fails with "timeout".
                auto report = ctx.schedule_activity_with_retry("BuildReport", "",
                                                               RetryPolicy(3).with_timeout(100ms))
                                  .into_activity();
                // Completes with a note rather than failing: a late report is not an error here.
                if (report) return report.value();
                return "no report: " + report.error();
              })
          .build();

  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);

  client.start_orchestration("rates", "Rates", "").value();
  auto rates = client.wait_for_orchestration("rates", 10s).value();
  bool waited = true;
  for (int call = 1; call < fetch_calls; ++call) {
    const long long gap = fetch_at[call] - fetch_at[call - 1];
    const long long backoff = 50LL << (call - 1);
    std::printf("FetchRates call %d failed; call %d began %lld ms later (back-off %lld ms)\n", call,
                call + 1, gap, backoff);
    waited = waited && gap >= backoff;
  }
  std::printf("rates: %s after %d calls\n", rates.output().c_str(), fetch_calls.load());

  client.start_orchestration("report", "Report", "").value();
  auto report = client.wait_for_orchestration("report", 10s).value();
  // The timed-out attempt is asked to cancel; it notices at its next poll.
  const auto deadline = Clock::now() + 1s;
  while (!report_stopped && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  std::printf("report: %s (%d call, cancelled: %s)\n", report.output().c_str(), report_calls.load(),
              report_stopped ? "yes" : "no");
  runtime->shutdown();

  return rates.output() == "EUR/USD 1.08" && fetch_calls == 3 && waited &&
                 report.output().find("timeout") != std::string::npos && report_calls == 1 &&
                 report_stopped
             ? 0
             : 1;
}
