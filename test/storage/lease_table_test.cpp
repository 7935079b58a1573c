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
    CHECK_FALSE(table.activity_leased(key, 0));
    CHECK(table.next_attempt(key, 1) == 1u);
    table.lease_activity(key, 1, 100);
    CHECK(table.activity_leased(key, 99));
    CHECK_FALSE(table.activity_leased(key, 100));
    CHECK(table.next_attempt(key, 1) == 2u);
    table.lease_activity(key, 2, 200);
    table.release_activity(key);
    CHECK_FALSE(table.activity_leased(key, 150));
    CHECK(table.next_attempt(key, 1) == 3u);
  }

  TEST_CASE("the first hand-out uses the stored attempt, later ones count from it") {
    LeaseTable table;
    const QueueKey key{0, 6};
    CHECK(table.next_attempt(key, 4) == 4u);  // a restart: the stored attempt as it is
    table.lease_activity(key, 4, 10);
    CHECK(table.next_attempt(key, 4) == 5u);
  }

  TEST_CASE("a stored attempt rewritten by the worker is not counted twice") {
    LeaseTable table;
    const QueueKey key{0, 7};
    table.lease_activity(key, table.next_attempt(key, 1), 10);  // attempt 1; worker stores 2
    CHECK(table.next_attempt(key, 2) == 2u);
    table.lease_activity(key, 2, 20);  // attempt 2; worker stores 3
    CHECK(table.next_attempt(key, 3) == 3u);
    CHECK(table.next_attempt(key, 9) == 9u);  // a stored value ahead of the count wins
  }

  TEST_CASE("attempts saturate instead of wrapping") {
    LeaseTable table;
    const QueueKey key{0, 8};
    table.lease_activity(key, UINT32_MAX, 10);
    CHECK(table.next_attempt(key, UINT32_MAX) == UINT32_MAX);
  }

  TEST_CASE("release_all ends every lease and forgets hand-out counts") {
    LeaseTable table;
    table.lease_message({1, 1});
    table.lease_activity({0, 2}, 1, 1000);
    table.release_all();
    CHECK(table.leased_messages() == 0);
    CHECK_FALSE(table.activity_leased({0, 2}, 0));
    CHECK(table.next_attempt({0, 2}, 1) == 1u);  // the stored attempt, as in a new process
    CHECK(table.tracked_activities() == 0);
  }

  TEST_CASE("a consumed activity is forgotten") {
    LeaseTable table;
    table.lease_activity({0, 2}, 1, 1000);
    table.forget({}, {{0, 2}});
    CHECK(table.tracked_activities() == 0);
    CHECK_FALSE(table.activity_leased({0, 2}, 0));
    CHECK(table.next_attempt({0, 2}, 1) == 1u);
  }
}

}  // namespace duroxide::storage
