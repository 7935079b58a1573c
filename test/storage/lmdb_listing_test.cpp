// SPDX-License-Identifier: MIT
// Tests of the listings: instance rows by prefix, state and page; the executions of an instance.
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "storage/keys.hpp"
#include "test/storage/child_process.hpp"
#include "test/storage/store_fixture.hpp"

namespace duroxide::storage::testing {
namespace {

InstanceRecord row_in(const std::string& id, InstanceState state) {
  InstanceRecord r = row(id);
  r.state = state;
  if (state == InstanceState::Completed) r.output = "out of " + id;
  if (state == InstanceState::Failed) r.error = ErrorDetails(ErrorCategory::Application, "X", id);
  return r;
}

void put_row(Provider& store, const InstanceRecord& r) {
  WriteBatch batch;
  batch.instance_id = r.instance_id;
  batch.instance = r;
  REQUIRE(store.commit_sync(batch));
}

/// Rows a, a/1 .. a/5, ab, b, b/1, "\xff": every third one Completed, the others Running.
std::shared_ptr<LmdbProvider> sample_store() {
  auto store = LmdbProvider::open_temporary(test_options()).value();
  const std::string ids[] = {"b/1", "a/3", "a", "ab", "a/1", "\xff", "a/5", "b", "a/2", "a/4"};
  int n = 0;
  for (const auto& id : ids) {
    put_row(*store, row_in(id, ++n % 3 == 0 ? InstanceState::Completed : InstanceState::Running));
  }
  return store;
}

std::vector<std::string> ids(Provider& store, InstanceQuery query) {
  std::vector<std::string> out;
  const auto rows = store.list_instances(query).value();
  for (const auto& r : rows) out.push_back(r.instance_id);
  return out;
}

InstanceQuery query(std::string prefix, std::string start_after = "", std::size_t limit = 0) {
  InstanceQuery q;
  q.id_prefix = std::move(prefix);
  q.start_after = std::move(start_after);
  q.limit = limit;
  return q;
}

void append_history(Provider& store, const std::string& id, std::uint64_t execution,
                    std::uint64_t events) {
  WriteBatch batch;
  batch.instance_id = id;
  batch.execution_id = execution;
  for (std::uint64_t e = 1; e <= events; ++e) batch.history.push_back(event(e));
  REQUIRE(store.commit_sync(batch));
}

}  // namespace

TEST_SUITE("storage.lmdb_listing") {
  TEST_CASE("list_instances returns whole rows in id byte order") {
    auto store = sample_store();
    CHECK(ids(*store, query("")) == std::vector<std::string>{"a", "a/1", "a/2", "a/3", "a/4", "a/5",
                                                             "ab", "b", "b/1", "\xff"});
    const auto rows = store->list_instances(query("b/")).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] == row_in("b/1", InstanceState::Running));
    CHECK(store->list_instances(InstanceQuery{}).value().size() == 10);  // default limit 100
  }

  TEST_CASE("the prefix selects ids that start with it, the id itself included") {
    auto store = sample_store();
    CHECK(ids(*store, query("a/")) == std::vector<std::string>{"a/1", "a/2", "a/3", "a/4", "a/5"});
    CHECK(ids(*store, query("a")).size() == 7);
    CHECK(ids(*store, query("b")) == std::vector<std::string>{"b", "b/1"});
    CHECK(ids(*store, query("\xff")) == std::vector<std::string>{"\xff"});
    CHECK(ids(*store, query("c")).empty());
    CHECK(ids(*store, query("a/6")).empty());
    CHECK(ids(*store, query(std::string(kMaxInstanceIdBytes + 1, 'a'))).empty());
  }

  TEST_CASE("the state filter keeps rows in that state only") {
    auto store = sample_store();
    InstanceQuery completed = query("");
    completed.state = InstanceState::Completed;
    CHECK(ids(*store, completed) == std::vector<std::string>{"a", "a/2", "\xff"});
    const auto rows = store->list_instances(completed).value();
    CHECK(rows[0].output == "out of a");
    InstanceQuery failed = query("");
    failed.state = InstanceState::Failed;
    CHECK(ids(*store, failed).empty());
    InstanceQuery running = query("a/", "", 2);
    running.state = InstanceState::Running;
    CHECK(ids(*store, running) == std::vector<std::string>{"a/1", "a/3"});
  }

  TEST_CASE("paging with start_after and a limit visits every row once") {
    auto store = sample_store();
    std::vector<std::string> seen;
    std::string after;
    for (int page = 0; page < 20; ++page) {
      const auto got = ids(*store, query("", after, 3));
      CHECK(got.size() <= 3);
      if (got.empty()) break;
      seen.insert(seen.end(), got.begin(), got.end());
      after = got.back();
    }
    CHECK(seen == ids(*store, query("")));
  }

  TEST_CASE("start_after need not be an id, and may lie outside the prefix") {
    auto store = sample_store();
    CHECK(ids(*store, query("", "a/33", 2)) == std::vector<std::string>{"a/4", "a/5"});
    CHECK(ids(*store, query("a/", "a", 2)) == std::vector<std::string>{"a/1", "a/2"});
    CHECK(ids(*store, query("a/", "a/5")).empty());
    CHECK(ids(*store, query("a/", "b")).empty());
    CHECK(ids(*store, query("b", "a/2")) == std::vector<std::string>{"b", "b/1"});
    CHECK(ids(*store, query("", std::string(kMaxInstanceIdBytes + 10, 'b'))) ==
          std::vector<std::string>{"\xff"});
    CHECK(ids(*store, query("", "\xff")).empty());
  }

  TEST_CASE("listing needs no dispatch claim, and works from another process") {
    TempDir dir;
    const std::string path = dir.file("store.duro");
    auto store = open_store(path);
    put_row(*store, row("x"));
    put_row(*store, row("y"));
    CHECK(ids(*store, query("")).size() == 2);
    REQUIRE(store->claim_dispatch());
    CHECK(run_in_child({"list", path}) == 12);
  }

  TEST_CASE("list_executions names each execution with history once, ascending") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    REQUIRE(store->commit_sync(start_batch("a")));
    append_history(*store, "a", 3, 40);
    append_history(*store, "a", 2, 2);
    append_history(*store, "a", 7, 1);
    append_history(*store, "a", UINT64_MAX, 1);
    // Neighbours in key order must not leak in.
    append_history(*store, "ab", 5, 1);
    append_history(*store, std::string("a\0", 2), 4, 1);
    append_history(*store, "A", 6, 1);
    CHECK(store->list_executions("a").value() ==
          std::vector<std::uint64_t>{1, 2, 3, 7, UINT64_MAX});
    CHECK(store->list_executions("ab").value() == std::vector<std::uint64_t>{5});
    CHECK(store->list_executions(std::string("a\0", 2)).value() == std::vector<std::uint64_t>{4});
    CHECK(store->list_executions("b").value().empty());
  }

  TEST_CASE("list_executions of an empty or overlong id is InvalidArgument") {
    auto store = LmdbProvider::open_temporary(test_options()).value();
    CHECK(store->list_executions("").error().code == ErrorCode::InvalidArgument);
    CHECK(store->list_executions(std::string(kMaxInstanceIdBytes + 1, 'x')).error().code ==
          ErrorCode::InvalidArgument);
  }
}

}  // namespace duroxide::storage::testing
