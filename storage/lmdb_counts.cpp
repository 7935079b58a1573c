// SPDX-License-Identifier: MIT
// The instance counters of the `meta` sub-database, read and written inside write txns.
#include "storage/lmdb_counts.hpp"

#include <cstddef>
#include <iterator>
#include <string>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"

namespace duroxide::storage {
namespace {

/// The fields in the order the value stores them.
constexpr std::int64_t InstanceCounts::*kFields[] = {
    &InstanceCounts::running,
    &InstanceCounts::completed,
    &InstanceCounts::failed,
    &InstanceCounts::suspended,
};
constexpr std::size_t kValueBytes = 8 * std::size(kFields);

}  // namespace

void InstanceCounts::add(InstanceState state, bool suspended_flag, std::int64_t sign) {
  switch (state) {
    case InstanceState::Running:
      running += sign;
      if (suspended_flag) suspended += sign;
      return;
    case InstanceState::Completed:
      completed += sign;
      return;
    case InstanceState::Failed:
      failed += sign;
      return;
  }
}

void InstanceCounts::add_row(std::string_view bytes, std::int64_t sign) {
  const auto row = peek_instance_class(bytes);
  if (row) add(row->first, row->second, sign);
}

int read_counts(MDB_txn* txn, const Databases& dbs, InstanceCounts* counts) {
  std::string_view value;
  const int rc = db_get(txn, dbs.meta, kMetaCountsKey, &value);
  if (rc != 0) return rc;
  if (value.size() != kValueBytes) return MDB_CORRUPTED;
  for (const auto field : kFields) {
    counts->*field = static_cast<std::int64_t>(get_be64(value));
    value.remove_prefix(8);
  }
  return 0;
}

int write_counts(MDB_txn* txn, const Databases& dbs, const InstanceCounts& counts) {
  std::string value;
  value.reserve(kValueBytes);
  for (const auto field : kFields) {
    const std::int64_t count = counts.*field;
    put_be64(value, count < 0 ? 0 : static_cast<std::uint64_t>(count));
  }
  return db_put(txn, dbs.meta, kMetaCountsKey, value, 0);
}

int apply_counts(MDB_txn* txn, const Databases& dbs, const InstanceCounts& change) {
  if (change.zero()) return 0;
  InstanceCounts counts;
  int rc = read_counts(txn, dbs, &counts);
  if (rc == MDB_NOTFOUND) {
    counts = InstanceCounts{};
  } else if (rc != 0) {
    return rc;
  }
  for (const auto field : kFields) counts.*field += change.*field;
  return write_counts(txn, dbs, counts);
}

}  // namespace duroxide::storage
