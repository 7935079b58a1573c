// SPDX-License-Identifier: MIT
// The store check's pieces shared by check_store and check_store_file (storage internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <duroxide/store_check.hpp>

#include "storage/lmdb_env.hpp"

namespace duroxide::storage {

/// Counts every problem and keeps the first `max` of them. Thread safety: none.
class ProblemSink {
 public:
  explicit ProblemSink(StoreCheckReport& report, std::size_t max) : report_(report), max_(max) {}
  void add(std::string where, std::string what);

 private:
  StoreCheckReport& report_;
  std::size_t max_;
};

/// Returns: `id` in single quotes, bytes outside printable ASCII (and \ and ') as \xNN.
std::string quote_id(std::string_view id);

/// Handles of the sub-databases a check reads; nullopt for one that is missing (its
/// absence is the caller's problem to report).
struct CheckDbs {
  std::optional<Dbi> meta;
  std::optional<Dbi> instances;
  std::optional<Dbi> history;
  std::optional<Dbi> orchestrator_queue;
  std::optional<Dbi> worker_queue;
};

/// Called with the name of each sub-database before it is read (so that a crash can be
/// placed).
using StageFn = std::function<void(std::string_view sub_database)>;

/// Checks everything in the snapshot `txn` (see check_store in <duroxide/store_check.hpp>)
/// and adds the problems and counts to `report`. Requires: `txn` is a live read txn.
/// Errors of LMDB while reading become problems.
void check_snapshot(MDB_txn* txn, const CheckDbs& dbs, const StoreCheckOptions& options,
                    StoreCheckReport& report, const StageFn& stage = {});

}  // namespace duroxide::storage
