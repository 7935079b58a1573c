// SPDX-License-Identifier: MIT
// Result, Err and ResultError behave as the API contract says.
#include <string>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

using namespace duroxide;

namespace {
Result<std::string> ok_text() { return "text"; }
Result<std::string> failure() { return Err("boom"); }
Result<int, Error> coded() { return Err(Error{ErrorCode::NotFound, "nope"}); }
}  // namespace

TEST_SUITE("api.result") {
  TEST_CASE("values and errors convert implicitly") {
    auto ok = ok_text();
    REQUIRE(ok.has_value());
    CHECK(*ok == "text");
    CHECK(ok->size() == 4);
    auto bad = failure();
    CHECK_FALSE(bad);
    CHECK(bad.error() == "boom");
    CHECK(bad.value_or("fallback") == "fallback");
  }

  TEST_CASE("value() of an error throws ResultError with the message") {
    CHECK_THROWS_WITH_AS(failure().value(), "boom", ResultError);
    CHECK_THROWS_WITH_AS(coded().value(), "nope", ResultError);
    Result<void, std::string> nothing = Err("void failed");
    CHECK_THROWS_WITH_AS(nothing.value(), "void failed", ResultError);
    Result<void, std::string> fine;
    CHECK(fine.has_value());
  }

  TEST_CASE("with T and E both strings, returning error() is a success") {
    auto bad = failure();
    auto relay = [&]() -> Result<std::string> { return bad.error(); };
    CHECK(relay().has_value());
    auto propagate = [&]() -> Result<std::string> { return Err(bad.error()); };
    CHECK_FALSE(propagate().has_value());
  }

  TEST_CASE("error categories and details have stable names") {
    CHECK(to_string(ErrorCategory::Application) == "application");
    CHECK(to_string(ErrorCategory::Configuration) == "configuration");
    ErrorDetails cancelled(ErrorCategory::Application, "Cancelled", "user_request");
    CHECK(cancelled.display_message() == "canceled: user_request");
    CHECK(to_string(ErrorCode::Busy) == "Busy");
  }
}
