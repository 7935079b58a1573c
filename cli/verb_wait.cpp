// SPDX-License-Identifier: MIT
// `duroxide wait ID`: blocks until the instance completes (exit 0) or fails (exit 1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "cli/arg_checks.hpp"
#include "cli/json_output.hpp"
#include "cli/store.hpp"
#include "cli/text.hpp"
#include "cli/time_format.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {

namespace {

struct WaitArgs {
  std::string id;
  std::string timeout;  // an AGE; empty: wait as long as it takes
};

// The wait goes in slices, so that no deadline overflows however long the AGE is.
constexpr std::chrono::milliseconds kSlice = std::chrono::hours(1);

Result<OrchestrationStatus, Error> wait_for(Client& client, const WaitArgs& args) {
  const bool forever = args.timeout.empty();
  std::chrono::milliseconds left = forever ? kSlice : *parse_age(args.timeout);
  for (;;) {
    const auto slice = std::min(left, kSlice);
    auto status = client.wait_for_orchestration(args.id, slice);
    if (status || status.error().code != ErrorCode::Timeout) return status;
    if (!forever) left -= slice;
    if (left.count() <= 0) return status;
  }
}

int run_wait(VerbEnv& env, const WaitArgs& args) {
  auto status = wait_for(env.client, args);
  if (!status) {
    if (status.error().code == ErrorCode::Timeout) {
      return fail(
          fmt::format("instance '{}' is still running after {}", printable(args.id), args.timeout));
    }
    return fail(status.error());
  }
  if (env.global.json) {
    auto info = env.client.get_instance_info(args.id);
    if (!info) return fail(info.error());
    print_json(instance_json(*info));
  } else if (status->is_completed()) {
    std::fputs(fmt::format("completed, output {}\n", payload(status->output(), 200)).c_str(),
               stdout);
  }
  if (status->is_failed()) {
    const ErrorDetails& error = status->details();
    return fail(fmt::format("instance '{}' failed: {} / {}: {}", printable(args.id),
                            to_string(error.category()), printable(error.kind()),
                            printable(error.message())));
  }
  return kExitOk;
}

}  // namespace

VerbSetup define_wait(CLI::App& command) {
  auto args = std::make_shared<WaitArgs>();
  command.add_option("ID", args->id, "The instance id")->required();
  command.add_option("--timeout", args->timeout, "Give up after AGE: 30s, 15m, 12h, 7d")
      ->check(age_validator())
      ->type_name("AGE");
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_wait(env, *args); }};
}

}  // namespace duroxide::cli
