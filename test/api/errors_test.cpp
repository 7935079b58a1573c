// SPDX-License-Identifier: MIT
// Bad input gets a clear Error, never a crash.
#include <cstdio>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {
Harness empty_harness() {
  return Harness(ActivityRegistry::builder().build(),
                 OrchestrationRegistry::builder()
                     .register_orchestration("Wait",
                                             [](OrchestrationContext& ctx, std::string) {
                                               return ctx.schedule_wait("Never").into_event();
                                             })
                     .build());
}
}  // namespace

TEST_SUITE("api.errors") {
  TEST_CASE("empty and oversized ids are InvalidArgument") {
    auto h = empty_harness();
    auto& client = h.client();
    CHECK(client.start_orchestration("", "Wait", "").error().code == ErrorCode::InvalidArgument);
    CHECK(client.start_orchestration("x", "", "").error().code == ErrorCode::InvalidArgument);
    const std::string huge(kMaxInstanceIdBytes + 1, 'x');
    CHECK(client.start_orchestration(huge, "Wait", "").error().code == ErrorCode::InvalidArgument);
    CHECK(client.raise_event("", "E", "").error().code == ErrorCode::InvalidArgument);
    CHECK(client.get_orchestration_status("").error().code == ErrorCode::InvalidArgument);
    const std::string payload(kMaxPayloadBytes + 1, 'p');
    CHECK(client.start_orchestration("big", "Wait", payload).error().code ==
          ErrorCode::InvalidArgument);
  }

  TEST_CASE("a missing instance is NotFound, never a crash") {
    auto h = empty_harness();
    auto& client = h.client();
    CHECK(client.raise_event("ghost", "E", "").error().code == ErrorCode::NotFound);
    CHECK(client.get_orchestration_status("ghost").value().kind() ==
          OrchestrationStatus::Kind::NotFound);
    CHECK(client.wait_for_orchestration("ghost", 100ms).error().code == ErrorCode::NotFound);
  }

  TEST_CASE("starting an id twice is AlreadyExists and the first instance is untouched") {
    auto h = empty_harness();
    auto& client = h.client();
    REQUIRE(client.start_orchestration("twice", "Wait", "a"));
    auto again = client.start_orchestration("twice", "Wait", "b");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::AlreadyExists);
    CHECK(client.wait_for_orchestration("twice", 200ms).error().code == ErrorCode::Timeout);
  }

  TEST_CASE("a file that is not a store is refused with a clear error") {
    const std::string path = "not_a_store.duro";
    {
      std::ofstream out(path, std::ios::binary);
      for (int i = 0; i < 5000; ++i) out << "this is not an LMDB file\n";
    }
    auto store = LmdbProvider::open(path);
    REQUIRE_FALSE(store);
    const auto code = store.error().code;
    CHECK((code == ErrorCode::Incompatible || code == ErrorCode::Corruption));
    CHECK(store.error().message.find(path) != std::string::npos);
    std::remove(path.c_str());
    std::remove((path + "-lock").c_str());
  }

  TEST_CASE("an empty path is InvalidArgument") {
    CHECK(LmdbProvider::open("").error().code == ErrorCode::InvalidArgument);
  }

  TEST_CASE("registering a name twice is refused by build()") {
    auto twice = [] {
      return ActivityRegistry::builder()
          .register_activity("A", [](ActivityContext&, std::string s) { return s; })
          .register_activity("A", [](ActivityContext&, std::string s) { return s; })
          .build();
    };
    CHECK_THROWS_AS(twice(), std::invalid_argument);
    auto versions = [] {
      auto fn = [](OrchestrationContext&, std::string s) { return s; };
      return OrchestrationRegistry::builder()
          .register_versioned("O", "1.0.0", fn)
          .register_versioned("O", "1.0.0", fn)
          .build();
    };
    CHECK_THROWS_AS(versions(), std::invalid_argument);
  }

  TEST_CASE("orchestration code over the size limits fails with a clear message") {
    auto activities = ActivityRegistry::builder()
                          .register_activity("Huge",
                                             [](ActivityContext&, std::string) {
                                               return std::string(kMaxPayloadBytes + 1, 'x');
                                             })
                          .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration(
                "LongName",
                [](OrchestrationContext& ctx, std::string) {
                  return ctx.schedule_activity(std::string(kMaxNameBytes + 1, 'n'), "")
                      .into_activity();
                })
            .register_orchestration("HugeResult",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto r = ctx.schedule_activity("Huge", "").into_activity();
                                      return r ? std::string("unexpected") : r.error();
                                    })
            .register_orchestration(
                "Nest",
                [](OrchestrationContext& ctx, std::string) -> Result<std::string> {
                  // Each level adds "::sub::2" to the id, until the derived id is too long.
                  auto r = ctx.schedule_sub_orchestration("Nest", "").into_sub_orchestration();
                  if (!r) return Err(r.error());
                  return r;
                })
            .build();
    Harness h(activities, orchestrations);
    auto long_name = h.run("long", "LongName", "");
    REQUIRE(long_name.is_failed());
    CHECK(long_name.details().kind() == "Panicked");
    CHECK(long_name.details().message().find("exceeds the limit") != std::string::npos);
    auto huge = h.run("huge", "HugeResult", "");
    REQUIRE(huge.is_completed());
    CHECK(huge.output().find("over the limit") != std::string::npos);
    auto nest = h.run(std::string(200, 'p'), "Nest", "");
    REQUIRE(nest.is_failed());
    CHECK(nest.details().message().find("instance id") != std::string::npos);
  }

  // Misuse of a future by orchestration code is the code's fault, not the engine's: it fails
  // that instance (Panicked, with what was wrong) and the process and other instances go on.
  TEST_CASE("misusing a future fails the instance as Panicked, not the process") {
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration("WrongKind",
                                    [](OrchestrationContext& ctx, std::string) {
                                      return ctx.schedule_timer(1ms).into_activity();
                                    })
            .register_orchestration("MovedFrom",
                                    [](OrchestrationContext& ctx, std::string) {
                                      auto timer = ctx.schedule_timer(1ms);
                                      auto taken = std::move(timer);
                                      taken.into_timer();
                                      timer.into_timer();  // NOLINT(bugprone-use-after-move)
                                      return std::string("unreachable");
                                    })
            .register_orchestration("Fine",
                                    [](OrchestrationContext&, std::string) {
                                      return std::string("fine");
                                    })
            .build();
    Harness h(ActivityRegistry::builder().build(), orchestrations);
    auto wrong_kind = h.run("wrong-kind", "WrongKind", "");
    REQUIRE(wrong_kind.is_failed());
    CHECK(wrong_kind.details().is(ErrorKind::Panicked));
    CHECK(wrong_kind.details().message().find("into_activity") != std::string::npos);
    CHECK(wrong_kind.details().message().find("another kind") != std::string::npos);
    auto moved_from = h.run("moved-from", "MovedFrom", "");
    REQUIRE(moved_from.is_failed());
    CHECK(moved_from.details().is(ErrorKind::Panicked));
    CHECK(moved_from.details().message().find("moved") != std::string::npos);
    auto fine = h.run("fine", "Fine", "");
    REQUIRE(fine.is_completed());
    CHECK(fine.output() == "fine");
  }
}
