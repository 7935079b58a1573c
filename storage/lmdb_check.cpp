// SPDX-License-Identifier: MIT
// check_store: every record of a store's snapshot decodes, and rows, queues and histories agree.
#include "storage/lmdb_check.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/lmdb_check_history.hpp"
#include "storage/lmdb_counts.hpp"
#include "storage/lmdb_store.hpp"

namespace duroxide::storage {
namespace {

std::string hex_bytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  constexpr std::size_t kShown = 32;
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < kShown; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  if (bytes.size() > kShown) out += "...";
  return out;
}

std::string join(std::string_view a, std::string_view b) {
  std::string out(a);
  return out += b;
}

std::string number(std::string_view text, std::uint64_t n) { return join(text, std::to_string(n)); }

std::string sub_database(std::string_view name) {
  std::string out("sub-database '");
  return (out += name) += "'";
}

std::string undecodable(const Error& error) { return join("does not decode: ", error.to_string()); }

std::string row_where(const std::string& id) { return join("row of ", quote_id(id)); }

std::string_view state_name(InstanceState state) {
  switch (state) {
    case InstanceState::Running:
      return "Running";
    case InstanceState::Completed:
      return "Completed";
    case InstanceState::Failed:
      return "Failed";
  }
  return "?";
}

/// What the check keeps of a row while it reads the queues and the histories.
struct RowInfo {
  std::optional<InstanceRecord> row;  ///< nullopt: the record did not decode
  bool start_queued = false;          ///< a StartOrchestration for the current execution
  bool current_has_history = false;
};

/// A queued work item, kept until its execution's history is read.
struct WorkRef {
  std::uint64_t seq = 0;
  std::uint64_t activity_id = 0;
  std::string name;
};

/// One check of one snapshot. Thread safety: none.
class Checker {
 public:
  Checker(MDB_txn* txn, const CheckDbs& dbs, const StoreCheckOptions& options,
          StoreCheckReport& report, const StageFn& stage)
      : txn_(txn),
        dbs_(dbs),
        report_(report),
        problems_(report, options.max_problems),
        stage_(stage) {}

  void run() {
    if (dbs_.meta) check_meta(*dbs_.meta);
    if (dbs_.instances) check_rows(*dbs_.instances);
    if (dbs_.meta && dbs_.instances) check_counts(*dbs_.meta);
    if (dbs_.orchestrator_queue) check_messages(*dbs_.orchestrator_queue);
    if (dbs_.worker_queue) check_work_items(*dbs_.worker_queue);
    if (dbs_.history) check_histories(*dbs_.history);
    check_rows_without_history();
  }

 private:
  /// Visits every entry of `dbi` in key order, counting it in records_read and `*count`; an
  /// LMDB error ends the scan as a problem.
  template <class Visit>
  void scan(Dbi dbi, std::string_view name, std::uint64_t* count, Visit&& visit) {
    if (stage_) stage_(sub_database(name));
    Cursor cursor(txn_, dbi);
    int rc = cursor.status();
    std::string_view key;
    std::string_view value;
    if (rc == 0) rc = cursor.first(&key, &value);
    for (; rc == 0; rc = cursor.next(&key, &value)) {
      ++report_.records_read;
      if (count != nullptr) ++*count;
      visit(key, value);
    }
    if (rc != MDB_NOTFOUND) {
      problems_.add(sub_database(name),
                    number(join("reading it failed (", mdb_strerror(rc)) += ") after entry ",
                           count != nullptr ? *count : 0));
    }
  }

  void check_meta(Dbi dbi) {
    scan(dbi, "meta", nullptr, [](std::string_view, std::string_view) {});
    std::string_view value;
    int rc = db_get(txn_, dbi, kMetaMagicKey, &value);
    if (rc != 0) {
      meta_problem(kMetaMagicKey, rc, "");
    } else if (value != kMagic) {
      problems_.add("meta 'magic'", join("is not ", kMagic));
    }
    rc = db_get(txn_, dbi, kMetaVersionKey, &value);
    if (rc != 0 || value.size() != 4) {
      meta_problem(kMetaVersionKey, rc, "is not 4 bytes");
    } else if (get_be32(value) != kFormatVersion) {
      problems_.add("meta 'format_version'",
                    number(number("is ", get_be32(value)) += ", not ", kFormatVersion));
    }
    rc = db_get(txn_, dbi, kMetaNextSeqKey, &value);
    if (rc != 0 || value.size() != 8) {
      meta_problem(kMetaNextSeqKey, rc, "is not 8 bytes");
    } else {
      next_seq_ = get_be64(value);
      if (*next_seq_ == 0) problems_.add("meta 'next_seq'", "is 0 (sequences start at 1)");
    }
  }

  void meta_problem(std::string_view key, int rc, std::string_view malformed) {
    std::string where("meta '");
    (where += key) += "'";
    if (rc == MDB_NOTFOUND) {
      problems_.add(std::move(where), "is missing");
    } else if (rc != 0) {
      problems_.add(std::move(where), join("cannot be read: ", mdb_strerror(rc)));
    } else {
      problems_.add(std::move(where), std::string(malformed));
    }
  }

  void check_rows(Dbi dbi) {
    scan(dbi, "instances", &report_.instances,
         [this](std::string_view key, std::string_view value) {
           auto id = decode_instance_key(key);
           if (!id) {
             problems_.add(join("instances key ", hex_bytes(key)), undecodable(id.error()));
             return;
           }
           RowInfo& info = rows_[*id];
           auto row = decode_instance_record(value);
           if (!row) {
             problems_.add(row_where(*id), undecodable(row.error()));
           } else if (row->instance_id != *id) {
             problems_.add(row_where(*id), join("names instance ", quote_id(row->instance_id)));
           } else {
             if (row->state != InstanceState::Running && row->suspended) {
               problems_.add(row_where(*id), join("is suspended but ", state_name(row->state)));
             }
             info.row = std::move(*row);
           }
         });
  }

  /// The counters get_store_stats reports agree with the rows (when every row decoded).
  void check_counts(Dbi meta) {
    std::uint64_t held[4] = {0, 0, 0, 0};  // running, completed, failed, suspended
    for (const auto& [id, info] : rows_) {
      if (!info.row) return;  // an undecodable row is reported already; it counts nowhere
      const InstanceRecord& row = *info.row;
      ++held[row.state == InstanceState::Running     ? 0
             : row.state == InstanceState::Completed ? 1
                                                     : 2];
      if (row.state == InstanceState::Running && row.suspended) ++held[3];
    }
    std::string_view value;
    const int rc = db_get(txn_, meta, kMetaCountsKey, &value);
    if (rc != 0 || value.size() != 32) {
      meta_problem(kMetaCountsKey, rc, "is not 32 bytes");
      return;
    }
    const std::uint64_t stored[4] = {get_be64(value), get_be64(value.substr(8)),
                                     get_be64(value.substr(16)), get_be64(value.substr(24))};
    if (std::equal(std::begin(held), std::end(held), std::begin(stored))) return;
    auto figures = [](const std::uint64_t(&n)[4]) {
      return "running " + std::to_string(n[0]) + ", completed " + std::to_string(n[1]) +
             ", failed " + std::to_string(n[2]) + ", suspended " + std::to_string(n[3]);
    };
    problems_.add("meta 'instance_counts'",
                  join(join("says ", figures(stored)), "; the rows hold ") += figures(held));
  }

  /// Returns: where a queue record is, or nullopt (reported) when its key does not decode.
  std::optional<std::string> queue_where(std::string_view queue, std::string_view key) {
    auto decoded = decode_queue_key(key);
    if (!decoded) {
      problems_.add(join(queue, " key ") += hex_bytes(key), undecodable(decoded.error()));
      return std::nullopt;
    }
    std::string where = number(join(queue, " seq "), decoded->seq);
    if (next_seq_ && decoded->seq >= *next_seq_) {
      problems_.add(where, number("is not below meta next_seq ", *next_seq_));
    }
    return where;
  }

  /// Returns: the row of `id`, or null (reported at `where`) when it has none.
  RowInfo* row_of(const std::string& id, const std::string& where, std::string_view what) {
    auto found = rows_.find(id);
    if (found != rows_.end()) return &found->second;
    problems_.add(where, (join(what, " for instance ") += quote_id(id)) += ", which has no row");
    return nullptr;
  }

  void check_messages(Dbi dbi) {
    scan(dbi, "orchestrator_queue", &report_.queued_messages,
         [this](std::string_view key, std::string_view value) {
           auto where = queue_where("orchestrator_queue", key);
           if (!where) return;
           auto message = decode_orchestrator_message(value);
           if (!message) return problems_.add(*where, undecodable(message.error()));
           RowInfo* info = row_of(message->instance_id, *where, "a message");
           if (info == nullptr || !info->row) return;
           if (message->kind == MessageKind::StartOrchestration &&
               (message->execution_id == 0 || message->execution_id == info->row->execution_id)) {
             info->start_queued = true;
           }
         });
  }

  void check_work_items(Dbi dbi) {
    scan(dbi, "worker_queue", &report_.queued_activities,
         [this](std::string_view key, std::string_view value) {
           auto where = queue_where("worker_queue", key);
           if (!where) return;
           auto item = decode_activity_work_item(value);
           if (!item) return problems_.add(*where, undecodable(item.error()));
           if (row_of(item->instance_id, *where, "a work item") == nullptr) return;
           const auto seq = decode_queue_key(key)->seq;
           work_[{item->instance_id, item->execution_id}].push_back(
               WorkRef{seq, item->activity_id, item->name});
         });
  }

  void check_histories(Dbi dbi) {
    scan(dbi, "history", &report_.history_events,
         [this](std::string_view key, std::string_view value) {
           auto decoded = decode_history_key(key);
           if (!decoded) {
             problems_.add(join("history key ", hex_bytes(key)), undecodable(decoded.error()));
             return;
           }
           if (decoded->instance_id != current_.instance_id ||
               decoded->execution_id != current_.execution_id) {
             finish_execution();
             current_.instance_id = decoded->instance_id;
             current_.execution_id = decoded->execution_id;
           }
           auto event = decode_history_event(value);
           const std::string where =
               history_where(decoded->instance_id, decoded->execution_id, decoded->event_id);
           if (!event) {
             problems_.add(where, undecodable(event.error()));
             current_.events.emplace_back(decoded->event_id, std::nullopt);
           } else if (event->event_id != decoded->event_id) {
             problems_.add(where, number("the event's id is ", event->event_id));
             current_.events.emplace_back(decoded->event_id, std::nullopt);
           } else {
             current_.events.emplace_back(decoded->event_id, std::move(*event));
           }
         });
    finish_execution();
  }

  void finish_execution() {
    if (current_.events.empty()) return;
    const ExecutionSummary summary = check_execution(current_, problems_);
    const std::string& id = current_.instance_id;
    const std::uint64_t execution = current_.execution_id;
    auto found = rows_.find(id);
    if (found == rows_.end()) {
      if (id != orphan_reported_) {
        orphan_reported_ = id;
        problems_.add(history_where(id, execution), "the instance has no row");
      }
    } else if (found->second.row) {
      check_against_row(found->second, summary);
    }
    check_work_of_execution(summary);
    current_.events.clear();
  }

  void check_against_row(RowInfo& info, const ExecutionSummary& summary) {
    const InstanceRecord& row = *info.row;
    const std::uint64_t execution = current_.execution_id;
    if (execution > row.execution_id) {
      problems_.add(history_where(row.instance_id, execution),
                    number("is above the row's execution_id ", row.execution_id));
      return;
    }
    if (execution == row.execution_id) info.current_has_history = true;
    if (!summary.decoded) return;
    if (execution < row.execution_id) {
      if (!summary.terminal || summary.terminal->kind != EventKind::OrchestrationContinuedAsNew) {
        problems_.add(history_where(row.instance_id, execution),
                      number("does not end with OrchestrationContinuedAsNew, although the "
                             "row's execution_id is ",
                             row.execution_id));
      }
      return;
    }
    check_current(row, summary);
  }

  // The row of an instance and the end of its current execution say the same.
  void check_current(const InstanceRecord& row, const ExecutionSummary& summary) {
    const std::string where = row_where(row.instance_id);
    const HistoryEvent* end = summary.terminal ? &*summary.terminal : nullptr;
    const std::string ended = end == nullptr
                                  ? std::string(", but its execution has no terminal event")
                                  : number(", but its execution ends at event ", end->event_id);
    auto not_kind = [end](std::string_view kind) {
      return end == nullptr ? std::string() : join(", not ", kind);
    };
    switch (row.state) {
      case InstanceState::Completed:
        if (end == nullptr || end->kind != EventKind::OrchestrationCompleted) {
          problems_.add(where, join("is Completed", ended) += not_kind("OrchestrationCompleted"));
        } else if (end->data != row.output) {
          problems_.add(where, number("has another output than OrchestrationCompleted at event ",
                                      end->event_id));
        }
        return;
      case InstanceState::Failed:
        if (end == nullptr || end->kind != EventKind::OrchestrationFailed) {
          problems_.add(where, join("is Failed", ended) += not_kind("OrchestrationFailed"));
        } else if (end->name != row.error.kind()) {
          std::string what = join("has error kind '", row.error.kind());
          what += number("', OrchestrationFailed at event ", end->event_id);
          ((what += " has '") += end->name) += "'";
          problems_.add(where, std::move(what));
        }
        return;
      case InstanceState::Running:
        if (end != nullptr) problems_.add(where, join("is Running", ended));
        if (row.suspended != summary.suspended) {
          problems_.add(where, row.suspended
                                   ? "is suspended, but its history is not"
                                   : "is not suspended, but its history is (ExecutionSuspended "
                                     "with no ExecutionResumed after it)");
        }
        return;
    }
  }

  // Work items whose execution has history name one of its ActivityScheduled events.
  void check_work_of_execution(const ExecutionSummary& summary) {
    auto found = work_.find({current_.instance_id, current_.execution_id});
    if (found == work_.end()) return;
    if (summary.decoded) {
      for (const WorkRef& work : found->second) {
        const std::string where = number("worker_queue seq ", work.seq);
        auto scheduled = summary.activities.find(work.activity_id);
        if (scheduled == summary.activities.end()) {
          problems_.add(where, number("names activity_id ", work.activity_id) +=
                               join(", which is no ActivityScheduled event of its ",
                                    history_where(current_.instance_id, current_.execution_id)));
        } else if (scheduled->second != work.name) {
          problems_.add(where, (join("names activity '", work.name) += "', its ActivityScheduled "
                                                                       "event names '") +=
                               scheduled->second + "'");
        }
      }
    }
    work_.erase(found);
  }

  void check_rows_without_history() {
    for (const auto& [id, info] : rows_) {
      if (!info.row || info.current_has_history) continue;
      const InstanceRecord& row = *info.row;
      const std::string where = row_where(id);
      const std::string none = number(" but its execution ", row.execution_id) += " has no history";
      if (row.state != InstanceState::Running) {
        problems_.add(where, join(join("is ", state_name(row.state)), none));
        continue;
      }
      if (!info.start_queued) {
        problems_.add(where, join("is Running", none) += " and no StartOrchestration is queued");
      }
      if (row.suspended) problems_.add(where, join("is suspended", none));
    }
  }

  MDB_txn* txn_;
  const CheckDbs& dbs_;
  StoreCheckReport& report_;
  ProblemSink problems_;
  const StageFn& stage_;
  std::optional<std::uint64_t> next_seq_;
  std::map<std::string, RowInfo> rows_;
  std::map<std::pair<std::string, std::uint64_t>, std::vector<WorkRef>> work_;
  ExecutionHistory current_;
  std::string orphan_reported_;
};

}  // namespace

void ProblemSink::add(std::string where, std::string what) {
  ++report_.problem_count;
  if (report_.problems.size() < max_) {
    report_.problems.push_back(StoreProblem{std::move(where), std::move(what)});
  }
}

std::string quote_id(std::string_view id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out("'");
  for (const char c : id) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && c != '\\' && c != '\'') {
      out += c;
    } else {
      ((out += "\\x") += kDigits[b >> 4]) += kDigits[b & 15];
    }
  }
  return out += '\'';
}

void check_snapshot(MDB_txn* txn, const CheckDbs& dbs, const StoreCheckOptions& options,
                    StoreCheckReport& report, const StageFn& stage) {
  Checker(txn, dbs, options, report, stage).run();
}

}  // namespace duroxide::storage

namespace duroxide {

Result<StoreCheckReport, Error> check_store(LmdbProvider& store, StoreCheckOptions options) {
  auto* lmdb = dynamic_cast<storage::LmdbStore*>(&store);
  if (lmdb == nullptr) {
    return Err(Error{ErrorCode::InvalidArgument, "check_store: not duroxide's LMDB store"});
  }
  storage::ReadTxn txn(lmdb->env());
  if (!txn.ok()) return Err(txn.error());
  const storage::Databases& dbs = lmdb->env().dbs();
  const storage::CheckDbs check{dbs.meta, dbs.instances, dbs.history, dbs.orchestrator_queue,
                                dbs.worker_queue};
  StoreCheckReport report;
  storage::check_snapshot(txn.get(), check, options, report);
  return report;
}

}  // namespace duroxide
