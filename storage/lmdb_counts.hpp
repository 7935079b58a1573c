// SPDX-License-Identifier: MIT
// InstanceCounts: the per-state instance counters the `meta` sub-database keeps (FORMAT.md).
#pragma once

#include <cstdint>
#include <string_view>

#include <duroxide/provider.hpp>

#include "storage/lmdb_env.hpp"

namespace duroxide::storage {

/// The `meta` key of the counters: be64 running, completed, failed, suspended (32 bytes), one
/// value so that a txn reads and writes it once.
inline constexpr std::string_view kMetaCountsKey = "instance_counts";

/// Instance rows by state; `suspended` counts the Running rows whose suspended flag is set
/// (they are in `running` too). As a change, each field is the difference to add.
/// Thread safety: a plain value type.
struct InstanceCounts {
  std::int64_t running = 0;
  std::int64_t completed = 0;
  std::int64_t failed = 0;
  std::int64_t suspended = 0;

  /// Adds `sign` (1 or -1) times one row of `state` (suspended only counts when Running).
  void add(InstanceState state, bool suspended_flag, std::int64_t sign);
  /// Adds `sign` times the row `bytes` (an encoded InstanceRecord); a row that does not decode
  /// counts nowhere (reading it reports the damage).
  void add_row(std::string_view bytes, std::int64_t sign);
  bool zero() const { return running == 0 && completed == 0 && failed == 0 && suspended == 0; }
};

/// Reads the counters of `txn`. Returns: LMDB's code; MDB_NOTFOUND if they are missing (a
/// store written before they existed), MDB_CORRUPTED for a value that is not 32 bytes.
int read_counts(MDB_txn* txn, const Databases& dbs, InstanceCounts* counts);
/// Writes `counts` (negative values, which only damage could produce, are stored as 0).
int write_counts(MDB_txn* txn, const Databases& dbs, const InstanceCounts& counts);
/// Adds `change` to the stored counters (missing ones start at 0); does nothing for no change.
/// Returns: LMDB's code.
int apply_counts(MDB_txn* txn, const Databases& dbs, const InstanceCounts& change);

}  // namespace duroxide::storage
