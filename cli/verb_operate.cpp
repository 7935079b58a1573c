// SPDX-License-Identifier: MIT
// The verbs that change one instance: start, raise, cancel, terminate, suspend, resume, rewind.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "cli/json_output.hpp"
#include "cli/store.hpp"
#include "cli/text.hpp"
#include "cli/verb.hpp"

namespace duroxide::cli {
namespace {

/// The reason recorded when --reason is not given.
constexpr const char* kDefaultReason = "duroxide command";

// Reports a request that succeeded: a sentence for people, an object for --json.
int done(const VerbEnv& env, const std::string& id, std::string_view action,
         const std::string& sentence) {
  if (env.global.json) {
    print_json({{"instance_id", json_text(id)}, {"action", std::string(action)}, {"ok", true}});
  } else {
    std::fputs(sentence.c_str(), stdout);
    std::fputc('\n', stdout);
  }
  return kExitOk;
}

struct StartArgs {
  std::string id, name, input, version;
};

int run_start(VerbEnv& env, const StartArgs& args) {
  StartOptions options;
  options.version = args.version;
  if (auto started = env.client.start_orchestration(args.id, args.name, args.input, options);
      !started) {
    return fail(started.error());
  }
  return done(env, args.id, "start",
              fmt::format("started {} ({}{})", printable(args.id), printable(args.name),
                          args.version.empty() ? "" : " " + printable(args.version)));
}

struct RaiseArgs {
  std::string id, event, data;
};

int run_raise(VerbEnv& env, const RaiseArgs& args) {
  if (auto raised = env.client.raise_event(args.id, args.event, args.data); !raised) {
    return fail(raised.error());
  }
  return done(env, args.id, "raise",
              fmt::format("raised {} at {}", printable(args.event), printable(args.id)));
}

// One of cancel, terminate, suspend, resume, rewind: a Client call that takes an id and a
// reason, and a sentence that says what happened.
struct Request {
  std::string_view action;
  Result<void, Error> (Client::*call)(std::string_view, std::string);
  std::string_view done_text;  // after the id
};

struct RequestArgs {
  std::string id;
  std::string reason = kDefaultReason;
};

VerbSetup define_request(CLI::App& command, Request request) {
  auto args = std::make_shared<RequestArgs>();
  command.add_option("ID", args->id, "The instance id")->required();
  command
      .add_option("--reason", args->reason, "Recorded in the history (default: 'duroxide command')")
      ->type_name("TEXT");
  return {StoreUse::Existing, [args, request](VerbEnv& env) {
            if (auto result = (env.client.*request.call)(args->id, args->reason); !result) {
              return fail(result.error());
            }
            return done(env, args->id, request.action,
                        fmt::format("{} {}", printable(args->id), request.done_text));
          }};
}

}  // namespace

VerbSetup define_start(CLI::App& command) {
  auto args = std::make_shared<StartArgs>();
  command.add_option("ID", args->id, "The new instance's id")->required();
  command.add_option("NAME", args->name, "The orchestration to run")->required();
  command.add_option("INPUT", args->input, "Its input (default: empty)");
  command.add_option("--version", args->version, "Run version V (default: the latest registered)")
      ->type_name("V");
  // A store is a file any program may create; `start` is how a shell script fills a new one.
  return {StoreUse::CreateIfMissing, [args](VerbEnv& env) { return run_start(env, *args); }};
}

VerbSetup define_raise(CLI::App& command) {
  auto args = std::make_shared<RaiseArgs>();
  command.add_option("ID", args->id, "The instance id")->required();
  command.add_option("EVENT", args->event, "The event name")->required();
  command.add_option("DATA", args->data, "The event's data (default: empty)");
  return {StoreUse::Existing, [args](VerbEnv& env) { return run_raise(env, *args); }};
}

VerbSetup define_cancel(CLI::App& command) {
  return define_request(command, {"cancel", &Client::cancel_instance, "cancel requested"});
}
VerbSetup define_terminate(CLI::App& command) {
  return define_request(command, {"terminate", &Client::terminate_instance, "terminate requested"});
}
VerbSetup define_suspend(CLI::App& command) {
  return define_request(command, {"suspend", &Client::suspend_instance, "suspend requested"});
}
VerbSetup define_resume(CLI::App& command) {
  return define_request(command, {"resume", &Client::resume_instance, "resume requested"});
}
VerbSetup define_rewind(CLI::App& command) {
  return define_request(command, {"rewind", &Client::rewind_instance, "rewound: Running again"});
}

}  // namespace duroxide::cli
