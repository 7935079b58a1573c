// SPDX-License-Identifier: MIT
// Another process on a store whose runtime runs elsewhere: tries to start a second runtime, or
// acts as a client (start, raise, wait, read, list). Exits 0 when everything behaved as
// documented, 1 otherwise (with the reason on standard error).
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "other process: %s\n", why.c_str());
  return 1;
}

// A second runtime must be refused: only one process dispatches from a store.
int second_runtime(const std::shared_ptr<LmdbProvider>& store) {
  auto runtime = Runtime::try_start(store, ActivityRegistry::builder().build(),
                                    OrchestrationRegistry::builder().build());
  if (runtime) return fail("a second runtime started");
  if (runtime.error().code != ErrorCode::Busy) return fail(runtime.error().to_string());
  return 0;
}

// The runtime of the other process runs what this one starts and raises.
int client(const std::shared_ptr<LmdbProvider>& store) {
  Client client(store);
  if (auto started = client.start_orchestration("from-other", "Greet", "other"); !started) {
    return fail("start: " + started.error().to_string());
  }
  if (auto raised = client.raise_event("from-other", "go", "!"); !raised) {
    return fail("raise: " + raised.error().to_string());
  }
  auto status = client.wait_for_orchestration("from-other", std::chrono::seconds(20));
  if (!status) return fail("wait: " + status.error().to_string());
  if (!status->is_completed() || status->output() != "Hello, other!") {
    return fail("unexpected status of from-other");
  }
  auto history = client.read_history("from-other", 1);
  if (!history || history->empty() || history->back().kind != EventKind::OrchestrationCompleted) {
    return fail("history of from-other does not end completed");
  }
  // The instance the test process started itself is visible here too.
  InstanceListQuery query;
  query.status = OrchestrationStatus::Kind::Completed;
  auto page = client.list_instances(query);
  if (!page) return fail("list: " + page.error().to_string());
  bool local_seen = false;
  for (const auto& info : page->instances) local_seen |= info.instance_id == "from-test";
  return local_seen ? 0 : fail("the test process's instance is not listed");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: other_process_worker STORE runtime|client\n");
    return 2;
  }
  auto store = LmdbProvider::open(argv[1]);
  if (!store) return fail("open: " + store.error().to_string());
  const std::string_view mode = argv[2];
  if (mode == "runtime") return second_runtime(*store);
  if (mode == "client") return client(*store);
  return 2;
}
