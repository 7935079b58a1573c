// SPDX-License-Identifier: MIT
// Tests of the dispatch claim: one runtime at a time per store, in this process or another.
#include <string>

#include <doctest/doctest.h>

#include "test/storage/child_process.hpp"
#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {

TEST_SUITE("storage.lmdb_claim") {
  TEST_CASE("claiming twice is Busy until released") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->claim_dispatch());
    auto again = store->claim_dispatch();
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::Busy);
    CHECK(again.error().message.find("is in use by another runtime") != std::string::npos);
    store->release_dispatch();
    CHECK(store->claim_dispatch());
  }

  TEST_CASE("another process cannot claim while this one holds the claim") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    auto store = open_store(path);
    REQUIRE(store->claim_dispatch());
    // Exit status of the child: 0 = Busy, 1 = claimed, 2 = other error.
    CHECK(run_in_child({"claim", path}) == 0);
    store->release_dispatch();
    CHECK(run_in_child({"claim", path}) == 1);
  }
}

}  // namespace duroxide::storage::testing
