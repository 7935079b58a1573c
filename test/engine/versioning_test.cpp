// SPDX-License-Identifier: MIT
// Versioning: latest for new instances, pinned starts, versions kept across restarts.
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "test/testlib/harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

// Each version waits for "Go" and reports which version it is.
OrchestrationRegistry::Builder& add_version(OrchestrationRegistry::Builder& builder,
                                            const std::string& version) {
  return builder.register_versioned(
      "Flow", version, [version](OrchestrationContext& ctx, std::string) {
        ctx.schedule_wait("Go").into_event();
        return "ran " + ctx.orchestration_version() + " as " + version;
      });
}

OrchestrationRegistry versions(std::initializer_list<std::string> list) {
  auto builder = OrchestrationRegistry::builder();
  for (const auto& version : list) add_version(builder, version);
  return builder.build();
}

void wait_until_running(Harness& h, const std::string& id) {
  const bool started = h.wait_until([&] {
    auto history = h.store()->read_history(id, 1);
    return history && !history->empty();
  });
  if (!started) FAIL("instance never started");
}

}  // namespace

TEST_SUITE("engine.versioning") {
  TEST_CASE("a start gets the latest version; a pinned start gets its own") {
    Harness h(ActivityRegistry::builder().build(), versions({"1.0.0", "2.0.0", "1.10.0"}));
    h.client().start_orchestration("latest", "Flow", "").value();
    h.client().start_orchestration_versioned("pinned", "Flow", "1.10.0", "").value();
    h.client().raise_event("latest", "Go", "").value();
    h.client().raise_event("pinned", "Go", "").value();
    CHECK(h.wait("latest").output() == "ran 2.0.0 as 2.0.0");
    CHECK(h.wait("pinned").output() == "ran 1.10.0 as 1.10.0");
    CHECK(h.store()->read_instance("pinned").value().version == "1.10.0");
  }

  TEST_CASE("an instance keeps its version when a restart brings a newer one") {
    Harness h(ActivityRegistry::builder().build(), versions({"1.0.0"}));
    h.client().start_orchestration("old", "Flow", "").value();
    wait_until_running(h, "old");
    h.stop();
    auto upgraded =
        Runtime::start_with_options(h.store(), ActivityRegistry::builder().build(),
                                    versions({"1.0.0", "2.0.0"}), testlib::quiet_options());
    h.client().start_orchestration("new", "Flow", "").value();
    h.client().raise_event("old", "Go", "").value();
    h.client().raise_event("new", "Go", "").value();
    CHECK(h.wait("old").output() == "ran 1.0.0 as 1.0.0");
    CHECK(h.wait("new").output() == "ran 2.0.0 as 2.0.0");
  }

  TEST_CASE("a version that is gone fails the instance as MissingVersion after the back-off") {
    Harness h(ActivityRegistry::builder().build(), versions({"1.0.0"}));
    h.client().start_orchestration("old", "Flow", "").value();
    wait_until_running(h, "old");
    h.stop();
    RuntimeOptions options = testlib::quiet_options();
    options.unregistered_retries = 1;
    auto upgraded = Runtime::start_with_options(h.store(), ActivityRegistry::builder().build(),
                                                versions({"2.0.0"}), options);
    h.client().raise_event("old", "Go", "").value();
    auto status = h.wait("old");
    REQUIRE(status.is_failed());
    CHECK(status.details().category() == ErrorCategory::Configuration);
    CHECK(status.details().kind() == "MissingVersion");
    CHECK(status.details().message().find("1.0.0") != std::string::npos);
  }

  TEST_CASE("a pinned start of a version nobody registered fails as MissingVersion") {
    RuntimeOptions options = testlib::quiet_options();
    options.unregistered_retries = 1;
    Harness h(ActivityRegistry::builder().build(), versions({"1.0.0"}), options);
    h.client().start_orchestration_versioned("x", "Flow", "9.9.9", "").value();
    auto status = h.wait("x");
    REQUIRE(status.is_failed());
    CHECK(status.details().kind() == "MissingVersion");
  }
}
