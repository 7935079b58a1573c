// SPDX-License-Identifier: MIT
// Tests of the in-memory lease table.
#include "storage/lease_table.hpp"

#include <doctest/doctest.h>

namespace duroxide::storage {

TEST_SUITE("storage.lease_table") {
  TEST_CASE("a leased message stays leased until released or consumed") {
    LeaseTable table;
    const QueueKey key{10, 1};
    CHECK_FALSE(table.message_leased(key));
    table.lease_message(key);
    CHECK(table.message_leased(key));
    table.release_message(key);
    CHECK_FALSE(table.message_leased(key));
    table.lease_message(key);
    table.forget({key}, {});
    CHECK_FALSE(table.message_leased(key));
  }

  TEST_CASE("an activity lease expires at its end and counts hand-outs") {
    LeaseTable table;
    const QueueKey key{0, 5};
    CHECK(table.activity_available(key, 0) == 0u);
    table.lease_activity(key, 100);
    CHECK_FALSE(table.activity_available(key, 99).has_value());
    CHECK(table.activity_available(key, 100) == 1u);
    table.lease_activity(key, 200);
    table.release_activity(key);
    CHECK(table.activity_available(key, 150) == 2u);
  }

  TEST_CASE("release_all ends every lease and keeps hand-out counts") {
    LeaseTable table;
    table.lease_message({1, 1});
    table.lease_activity({0, 2}, 1000);
    table.release_all();
    CHECK(table.leased_messages() == 0);
    CHECK(table.activity_available({0, 2}, 0) == 1u);
  }

  TEST_CASE("a consumed activity is forgotten") {
    LeaseTable table;
    table.lease_activity({0, 2}, 1000);
    table.forget({}, {{0, 2}});
    CHECK(table.tracked_activities() == 0);
    CHECK(table.activity_available({0, 2}, 0) == 0u);
  }
}

}  // namespace duroxide::storage
