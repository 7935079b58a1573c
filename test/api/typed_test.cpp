// SPDX-License-Identifier: MIT
// Typed payloads: C++ types in and out, JSON in history.
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>
#include <duroxide/typed.hpp>

#include "harness.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;

namespace {

struct Order {
  std::string item;
  int quantity = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(CEREAL_NVP(item), CEREAL_NVP(quantity));
  }
};

struct Receipt {
  std::vector<std::string> lines;
  double total = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(CEREAL_NVP(lines), CEREAL_NVP(total));
  }
};

Harness shop() {
  auto activities =
      ActivityRegistry::builder()
          .register_activity("Price", typed_activity<Order, double>(
                                          [](ActivityContext&, Order order) -> Result<double> {
                                            if (order.quantity <= 0) return Err("bad quantity");
                                            return 2.5 * order.quantity;
                                          }))
          .build();
  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "Checkout",
              typed_orchestration<std::vector<Order>, Receipt>([](OrchestrationContext& ctx,
                                                                  std::vector<Order> orders) {
                Receipt receipt;
                for (const auto& order : orders) {
                  auto price = schedule_activity_typed<double>(ctx, "Price", order).into_activity();
                  receipt.lines.push_back(order.item + ": " +
                                          (price ? std::to_string(*price) : price.error()));
                  receipt.total += price.value_or(0);
                }
                return receipt;
              }))
          .build();
  return Harness(activities, orchestrations);
}

}  // namespace

TEST_SUITE("api.typed") {
  TEST_CASE("typed inputs and outputs round-trip through a whole orchestration") {
    auto h = shop();
    std::vector<Order> orders{{"tea", 2}, {"cake", 0}, {"jam", 1}};
    h.client().start_orchestration("cart", "Checkout", to_json(orders)).value();
    auto status = h.wait("cart");
    REQUIRE(status.is_completed());
    auto receipt = from_json<Receipt>(status.output());
    REQUIRE(receipt);
    CHECK(receipt->total == doctest::Approx(7.5));
    REQUIRE(receipt->lines.size() == 3);
    CHECK(receipt->lines[1] == "cake: bad quantity");
    // History keeps payloads as readable JSON.
    auto history = h.store()->read_history("cart", 1).value();
    CHECK(history[1].data == R"({"value": {"item": "tea","quantity": 2}})");
  }

  TEST_CASE("an input that does not decode fails with a clear message") {
    auto h = shop();
    auto status = h.run("broken", "Checkout", "not json");
    REQUIRE(status.is_failed());
    CHECK(status.details().message().find("cannot decode payload") != std::string::npos);
    CHECK(from_json<int>(std::string("{\"value\": \"text\"}")).has_value() == false);
  }
}

TEST_SUITE("api.typed") {
  TEST_CASE("the typed members: registry, activities, retries and children") {
    auto activities =
        ActivityRegistry::builder()
            .register_activity_typed<Order, double>(
                "Price", [](ActivityContext&, Order order) { return 1.5 * order.quantity; })
            .build();
    auto orchestrations =
        OrchestrationRegistry::builder()
            .register_orchestration_typed<Order, double>(
                "PriceOne",
                [](OrchestrationContext& ctx, Order order) -> Result<double> {
                  auto once = ctx.schedule_activity_typed<double>("Price", order).into_activity();
                  auto retried =
                      ctx.schedule_activity_with_retry_typed<double>("Price", order, RetryPolicy(2))
                          .into_activity();
                  return once.value() + retried.value();
                })
            .register_orchestration_typed<std::vector<Order>, double>(
                "PriceAll",
                [](OrchestrationContext& ctx, std::vector<Order> orders) {
                  double total = 0;
                  for (const auto& order : orders) {
                    total += ctx.schedule_sub_orchestration_typed<double>("PriceOne", order)
                                 .into_sub_orchestration()
                                 .value();
                  }
                  return total;
                })
            .build();
    Harness h(activities, orchestrations);
    auto status = h.run("all", "PriceAll", to_json(std::vector<Order>{{"a", 2}, {"b", 4}}));
    REQUIRE(status.is_completed());
    CHECK(from_json<double>(status.output()).value() == doctest::Approx(18.0));
  }
}
