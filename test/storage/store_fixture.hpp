// SPDX-License-Identifier: MIT
// Helpers of the storage suites: temporary directories, sample records, opening stores.
#pragma once

#include <stdlib.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <duroxide/lmdb_provider.hpp>
#include <duroxide/provider.hpp>

#include "storage/lmdb_store.hpp"
#include "test/testlib/temp_dir.hpp"

namespace duroxide::storage::testing {

using testlib::TempDir;

/// Options for tests: no foreign polling unless a test asks for it.
inline LmdbOptions test_options() {
  LmdbOptions options;
  options.foreign_change_poll = std::chrono::milliseconds(0);
  options.sync = false;
  return options;
}

inline std::shared_ptr<LmdbProvider> open_store(const std::string& path,
                                                LmdbOptions options = test_options()) {
  auto opened = LmdbProvider::open(path, options);
  if (!opened) FAIL("open failed: " << opened.error().to_string());
  return std::move(opened).value();
}

inline LmdbStore& as_store(const std::shared_ptr<LmdbProvider>& provider) {
  return dynamic_cast<LmdbStore&>(*provider);
}

inline HistoryEvent event(std::uint64_t id, std::string data = "payload") {
  HistoryEvent e;
  e.event_id = id;
  e.kind = EventKind::ActivityScheduled;
  e.timestamp = 1000 + static_cast<TimestampMs>(id);
  e.name = "step";
  e.data = std::move(data);
  return e;
}

inline InstanceRecord row(const std::string& id, std::string name = "orch") {
  InstanceRecord r;
  r.instance_id = id;
  r.name = std::move(name);
  r.version = "1.0.0";
  r.created_at = 5;
  r.updated_at = 6;
  return r;
}

inline OrchestratorMessage message(const std::string& id, TimestampMs visible_at,
                                   std::string name = "evt") {
  OrchestratorMessage m;
  m.instance_id = id;
  m.kind = MessageKind::ExternalEvent;
  m.visible_at = visible_at;
  m.name = std::move(name);
  m.data = "data";
  return m;
}

inline ActivityWorkItem activity(const std::string& id, std::uint64_t activity_id) {
  ActivityWorkItem item;
  item.instance_id = id;
  item.execution_id = 1;
  item.orchestration_name = "orch";
  item.activity_id = activity_id;
  item.name = "act";
  item.input = "in";
  return item;
}

/// A batch that starts instance `id`: its row and its first event.
inline WriteBatch start_batch(const std::string& id) {
  WriteBatch batch;
  batch.instance_id = id;
  batch.precondition = WriteBatch::Precondition::InstanceAbsent;
  batch.instance = row(id);
  batch.execution_id = 1;
  batch.history.push_back(event(1));
  return batch;
}

/// Collects the results of asynchronous commits; wait() blocks until `expected` arrived.
class Completions {
 public:
  Provider::CommitCallback callback(std::size_t index) {
    std::lock_guard lock(mutex_);
    if (results_.size() <= index) results_.resize(index + 1);
    return [this, index](Result<void, Error> result) {
      std::lock_guard lock(mutex_);
      results_[index] = std::move(result);
      ++done_;
      changed_.notify_all();
    };
  }
  void wait(std::size_t expected) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_ >= expected; });
  }
  std::vector<Result<void, Error>> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }
  std::size_t done() {
    std::lock_guard lock(mutex_);
    return done_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Result<void, Error>> results_;
  std::size_t done_ = 0;
};

}  // namespace duroxide::storage::testing
