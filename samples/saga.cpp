// SPDX-License-Identifier: MIT
// Saga: book a trip step by step; when a step fails, undo the finished steps in reverse order.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <duroxide/duroxide.hpp>

using namespace duroxide;

int main() {
  // What the outside world saw, in order: bookings and cancellations.
  std::mutex mutex;
  std::vector<std::string> world;
  auto record = [&](std::string what) {
    std::lock_guard lock(mutex);
    world.push_back(std::move(what));
    return world.back();
  };

  auto store = LmdbProvider::open_temporary().value();
  auto activities =
      ActivityRegistry::builder()
          .register_activity(
              "BookFlight",
              [&](ActivityContext&, std::string city) { return record("flight to " + city); })
          .register_activity(
              "BookHotel",
              [&](ActivityContext&, std::string city) { return record("hotel in " + city); })
          .register_activity("BookCar",
                             [&](ActivityContext&, std::string city) -> Result<std::string> {
                               if (city == "Venice") return Err("no cars in Venice");
                               return record("car in " + city);
                             })
          .register_activity(
              "CancelFlight",
              [&](ActivityContext&, std::string booking) { return record("cancelled " + booking); })
          .register_activity(
              "CancelHotel",
              [&](ActivityContext&, std::string booking) { return record("cancelled " + booking); })
          .register_activity(
              "CancelCar",
              [&](ActivityContext&, std::string booking) { return record("cancelled " + booking); })
          .build();

  auto orchestrations =
      OrchestrationRegistry::builder()
          .register_orchestration(
              "BookTrip",
              [](OrchestrationContext& ctx, std::string city) -> Result<std::string> {
                const std::pair<const char*, const char*> steps[] = {{"BookFlight", "CancelFlight"},
                                                                     {"BookHotel", "CancelHotel"},
                                                                     {"BookCar", "CancelCar"}};
                // Each finished step leaves its compensation with the booking it undoes. The
                // list lives in orchestration memory only: replay rebuilds it from history.
                std::vector<std::pair<std::string, std::string>> undo;
                std::string booked;
                for (const auto& [step, compensation] : steps) {
                  auto booking = ctx.schedule_activity(step, city).into_activity();
                  if (booking) {
                    undo.emplace_back(compensation, booking.value());
                    booked += (booked.empty() ? "" : ", ") + booking.value();
                    continue;
                  }
                  // Undo newest first: a later booking may depend on an earlier one.
                  std::string undone;
                  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
                    // .value() fails the orchestration with the compensation's error, so a
                    // half-undone trip shows up as such instead of as "rolled back".
                    auto cancelled = ctx.schedule_activity(it->first, it->second).into_activity();
                    undone += (undone.empty() ? "" : ", ") + cancelled.value();
                  }
                  return Err("rolled back (" + booking.error() + "): " + undone);
                }
                return "booked " + booked;
              })
          .build();

  auto runtime = Runtime::start_with_store(store, activities, orchestrations);
  Client client(store);
  client.start_orchestration("trip-paris", "BookTrip", "Paris").value();
  client.start_orchestration("trip-venice", "BookTrip", "Venice").value();
  auto paris = client.wait_for_orchestration("trip-paris", std::chrono::seconds(10)).value();
  auto venice = client.wait_for_orchestration("trip-venice", std::chrono::seconds(10)).value();
  runtime->shutdown();

  std::printf("trip-paris: %s\n", paris.output().c_str());
  std::printf("trip-venice: failed: %s\n", venice.details().display_message().c_str());
  std::vector<std::string> venice_world;  // the Paris trip runs alongside; keep Venice's part
  for (const auto& what : world) {
    if (what.find("Venice") != std::string::npos) venice_world.push_back(what);
  }
  const std::vector<std::string> expected{"flight to Venice", "hotel in Venice",
                                          "cancelled hotel in Venice",
                                          "cancelled flight to Venice"};
  return paris.output() == "booked flight to Paris, hotel in Paris, car in Paris" &&
                 venice.is_failed() &&
                 venice.details().message() ==
                     "rolled back (no cars in Venice): cancelled hotel in Venice, cancelled "
                     "flight to Venice" &&
                 venice_world == expected
             ? 0
             : 1;
}
