// SPDX-License-Identifier: MIT
// The instance counters of the `meta` sub-database, read and written inside write txns.
#include "storage/instance_counts.hpp"

#include <string>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"

namespace duroxide::storage {
namespace {

struct Field {
  std::string_view key;
  std::int64_t InstanceCounts::*value;
};

constexpr Field kFields[] = {
    {kMetaRunningKey, &InstanceCounts::running},
    {kMetaCompletedKey, &InstanceCounts::completed},
    {kMetaFailedKey, &InstanceCounts::failed},
    {kMetaSuspendedKey, &InstanceCounts::suspended},
};

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
  for (const Field& field : kFields) {
    std::string_view value;
    const int rc = db_get(txn, dbs.meta, field.key, &value);
    if (rc != 0) return rc;
    if (value.size() != 8) return MDB_CORRUPTED;
    counts->*field.value = static_cast<std::int64_t>(get_be64(value));
  }
  return 0;
}

int write_counts(MDB_txn* txn, const Databases& dbs, const InstanceCounts& counts) {
  for (const Field& field : kFields) {
    std::string value;
    const std::int64_t count = counts.*field.value;
    put_be64(value, count < 0 ? 0 : static_cast<std::uint64_t>(count));
    if (const int rc = db_put(txn, dbs.meta, field.key, value, 0); rc != 0) return rc;
  }
  return 0;
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
  for (const Field& field : kFields) counts.*field.value += change.*field.value;
  return write_counts(txn, dbs, counts);
}

}  // namespace duroxide::storage
