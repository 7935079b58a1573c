// SPDX-License-Identifier: MIT
// LmdbProvider::backup under load: the copy holds every start acknowledged before it began.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <duroxide/duroxide.hpp>

#include "harness.hpp"
#include "temp_dir.hpp"

using namespace duroxide;
using duroxide::testlib::Harness;
using namespace std::chrono_literals;

namespace {

Harness harness() {
  return Harness(
      ActivityRegistry::builder().build(),
      OrchestrationRegistry::builder()
          .register_orchestration("Echo", [](OrchestrationContext&, std::string s) { return s; })
          .build());
}

/// A client thread that starts instances back to back and records each one whose start
/// returned (and so is durable).
class Loader {
 public:
  explicit Loader(Client client)
      : thread_([this, client]() mutable {
          for (int i = 0; !stop_; ++i) {
            const std::string id = "load-" + std::to_string(i);
            if (!client.start_orchestration(id, "Echo", id)) {
              failed_ = true;
              return;
            }
            std::lock_guard lock(mutex_);
            durable_.push_back(id);
          }
        }) {}
  ~Loader() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> durable() {
    std::lock_guard lock(mutex_);
    return durable_;
  }
  bool failed() const { return failed_; }

 private:
  std::mutex mutex_;
  std::vector<std::string> durable_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::thread thread_;  ///< last: it uses the members above
};

}  // namespace

TEST_SUITE("api.backup") {
  TEST_CASE("a backup taken under load holds every acknowledged start and opens as a store") {
    auto h = harness();
    testlib::TempDir dir;
    const std::string copy = dir.file("copy.duro");
    Loader loader(h.client());
    // Mid-load: some instances have finished, others are still queued.
    REQUIRE(h.wait_until([&] { return loader.durable().size() >= 200 || loader.failed(); }));
    const std::vector<std::string> before = loader.durable();
    REQUIRE(h.store()->backup(copy));
    loader.stop();
    REQUIRE_FALSE(loader.failed());
    MESSAGE("starts acknowledged before the backup: " << before.size() << ", during the run: "
                                                      << loader.durable().size());

    auto restored = LmdbProvider::open(copy).value();
    CHECK(restored.get() != h.store().get());
    std::size_t missing = 0;
    for (const auto& id : before) {
      if (!restored->read_instance(id)) ++missing;
    }
    CHECK(missing == 0);
    const StoreStats stats = Client(restored).get_store_stats().value();
    CHECK(stats.running + stats.completed >= before.size());
    // The copy is compacted: it is no larger than the store it came from.
    CHECK(std::filesystem::file_size(copy) <= std::filesystem::file_size(h.store()->path()));

    auto again = h.store()->backup(copy);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::AlreadyExists);
    CHECK(again.error().message.find(copy) != std::string::npos);
  }

  TEST_CASE("a backup that cannot be written is IOError and leaves no file") {
    auto store = LmdbProvider::open_temporary().value();
    testlib::TempDir dir;
    const std::string copy = dir.file("missing/copy.duro");
    auto result = store->backup(copy);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::IOError);
    CHECK_FALSE(std::filesystem::exists(copy));
  }
}
