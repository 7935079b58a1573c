// SPDX-License-Identifier: MIT
// LmdbStore and the LmdbProvider factories: opening, reads, leases and the dispatch claim.
#include "storage/lmdb_store.hpp"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <thread>
#include <utility>

#include <lmdb.h>

#include <duroxide/detail/saturating.hpp>

#include "storage/codec.hpp"
#include "storage/keys.hpp"
#include "storage/platform/platform.hpp"
#include "storage/prepared_batch.hpp"

namespace duroxide::storage {
namespace {

/// Smallest map accepted: room for the meta pages, the sub-database roots and some records.
constexpr std::size_t kMinMapSize = std::size_t{64} << 10;

Error error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

/// Stores open in this process, by file: a second open of one file returns the first store.
/// The mutex is recursive because a store that fails while being opened (under the mutex) is
/// destroyed there, and its destructor unregisters it.
struct Registry {
  std::recursive_mutex mutex;
  std::condition_variable_any closed;  ///< signalled when a store has closed its file
  std::map<FileId, std::weak_ptr<LmdbStore>> stores;
  std::uint64_t pid = platform::process_id();
};

Registry& registry() {
  static auto* instance = new Registry;  // never destroyed: stores may close after exit() began
  return *instance;
}

/// Returns: the live store of `path`, or null. Waits while one is still closing its file.
std::shared_ptr<LmdbStore> find_open(std::unique_lock<std::recursive_mutex>& lock,
                                     const std::string& path) {
  Registry& reg = registry();
  if (reg.pid != platform::process_id()) {  // a forked child owns none of its parent's stores
    reg.stores.clear();
    reg.pid = platform::process_id();
  }
  const auto id = platform::file_id(path);
  if (!id) return nullptr;  // no such file yet: nothing is open
  for (;;) {
    const auto it = reg.stores.find(*id);
    if (it == reg.stores.end()) return nullptr;
    if (auto store = it->second.lock()) return store;
    reg.closed.wait(lock);
  }
}

void forget_store(const FileId& id) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  const auto it = reg.stores.find(id);
  if (it != reg.stores.end() && it->second.expired()) reg.stores.erase(it);
  reg.closed.notify_all();
}

Result<void, Error> validate(const std::string& path, const LmdbOptions& options) {
  auto invalid = [](std::string message) {
    return Err(error(ErrorCode::InvalidArgument, message));
  };
  if (path.empty()) return invalid("store path is empty");
  if (path.find('\0') != std::string::npos) return invalid("store path contains a NUL byte");
  if (options.map_size < kMinMapSize) {
    return invalid("map_size " + std::to_string(options.map_size) + " is below the minimum of " +
                   std::to_string(kMinMapSize) + " bytes");
  }
  if (options.max_map_size < options.map_size) return invalid("max_map_size is below map_size");
  if (options.max_readers == 0) return invalid("max_readers is 0");
  if (options.max_batches_per_commit == 0) return invalid("max_batches_per_commit is 0");
  return {};
}

Result<std::shared_ptr<LmdbProvider>, Error> open_new(const std::string& path,
                                                      const LmdbOptions& options,
                                                      std::string temp_dir) {
  auto env = Env::open(path, options);
  if (!env) return Err(env.error());
  const auto id = platform::file_id(path);
  if (!id) {
    return Err(
        error(ErrorCode::IOError, "cannot stat store '" + path + "': " + id.error().message));
  }
  // Opened once and kept until the env is closed: closing a descriptor of the lock file would
  // drop the fcntl locks LMDB holds on it for this process.
  auto lock_file = platform::LockFile::open(path + "-lock");
  if (!lock_file) {
    return Err(error(ErrorCode::IOError, "cannot open the lock file of store '" + path +
                                             "': " + lock_file.error().message));
  }
  std::shared_ptr<LmdbStore> store(
      new LmdbStore(std::move(*env), options, std::move(*lock_file), std::move(temp_dir), *id),
      &LmdbStore::destroy);
  registry().stores[*id] = store;
  return std::shared_ptr<LmdbProvider>(std::move(store));
}

Result<std::shared_ptr<LmdbProvider>, Error> open_store(std::string path,
                                                        const LmdbOptions& options,
                                                        std::string temp_dir) {
  if (auto valid = validate(path, options); !valid) return Err(valid.error());
  try {
    std::unique_lock lock(registry().mutex);
    if (auto existing = find_open(lock, path)) return std::shared_ptr<LmdbProvider>(existing);
    return open_new(path, options, std::move(temp_dir));
  } catch (const std::exception& e) {  // thread creation or allocation failed
    return Err(error(ErrorCode::IOError, "cannot open store '" + path + "': " + e.what()));
  }
}

}  // namespace

Error invalid_id(const std::string& instance_id) {
  return error(ErrorCode::InvalidArgument, "instance id of " + std::to_string(instance_id.size()) +
                                               " bytes: ids must be 1.." +
                                               std::to_string(kMaxInstanceIdBytes) + " bytes");
}

Error in_record(Error cause, std::string_view where) {
  cause.message = std::string(where) + ": " + cause.message;
  return cause;
}

LmdbStore::LmdbStore(std::unique_ptr<Env> env, const LmdbOptions& options,
                     platform::LockFile lock_file, std::string temp_dir, FileId file_id)
    : env_(std::move(env)),
      lock_file_(std::move(lock_file)),
      temp_dir_(std::move(temp_dir)),
      file_id_(file_id) {
  auto after_commit = [this](const std::vector<QueueKey>& messages,
                             const std::vector<QueueKey>& activities) {
    on_committed(messages, activities);
  };
  try {
    writer_ = std::make_unique<Writer>(*env_, options, listeners_, std::move(after_commit));
  } catch (...) {  // no thread: close what this object owns, in the order the destructor uses
    env_.reset();
    lock_file_.close();
    throw;
  }
}

LmdbStore::~LmdbStore() {
  writer_->stop();
  writer_.reset();
  if (claimed_) lock_file_.unlock();
  env_.reset();        // closes the file and LMDB's locks
  lock_file_.close();  // only now: closing it earlier would drop LMDB's fcntl locks
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
  forget_store(file_id_);
}

void LmdbStore::destroy(LmdbStore* store) {
  if (!store->writer_->on_writer_thread()) {
    delete store;
    return;
  }
  try {
    std::thread([store] { delete store; }).detach();
  } catch (const std::exception& e) {  // no thread: nothing can close the store safely
    std::fprintf(stderr, "duroxide: cannot close store '%s': %s\n", store->path().c_str(),
                 e.what());
    std::abort();
  }
}

void LmdbStore::commit(WriteBatch batch, CommitCallback done) {
  writer_->submit(prepare_batch(std::move(batch), std::move(done)));
}

namespace {

/// The results of a group, filled by each batch's `done` (all called on the writer thread, in
/// order); the last one hands them on.
struct GroupState {
  std::vector<Result<void, Error>> results;
  std::size_t pending = 0;
  Provider::GroupCallback done;
};

}  // namespace

void LmdbStore::commit_group(std::vector<WriteBatch> batches, GroupCallback done) {
  if (batches.empty()) {
    done({});
    return;
  }
  auto group = std::make_shared<GroupState>();
  group->results.resize(batches.size());
  group->pending = batches.size();
  group->done = std::move(done);
  std::vector<PreparedBatch> prepared;
  prepared.reserve(batches.size());
  for (std::size_t i = 0; i < batches.size(); ++i) {
    prepared.push_back(prepare_batch(std::move(batches[i]), [group, i](Result<void, Error> r) {
      group->results[i] = std::move(r);
      if (--group->pending == 0) std::exchange(group->done, nullptr)(std::move(group->results));
    }));
  }
  writer_->submit_group(std::move(prepared));
}

void LmdbStore::on_committed(const std::vector<QueueKey>& messages,
                             const std::vector<QueueKey>& activities) {
  std::lock_guard lock(lease_mutex_);
  leases_.forget(messages, activities);
}

std::pair<std::size_t, std::size_t> LmdbStore::lease_counts() {
  std::lock_guard lock(lease_mutex_);
  return {leases_.leased_messages(), leases_.tracked_activities()};
}

Result<InstanceRecord, Error> LmdbStore::read_instance(const std::string& instance_id) {
  if (!valid_instance_id(instance_id)) return Err(invalid_id(instance_id));
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  std::string_view value;
  const int rc = db_get(txn.get(), env_->dbs().instances, instance_id, &value);
  if (rc == MDB_NOTFOUND) {
    return Err(error(ErrorCode::NotFound, "instance '" + instance_id + "' not found"));
  }
  if (rc != 0) return Err(lmdb_error(rc, "reading instance '" + instance_id + "'", path()));
  auto record = decode_instance_record(value);
  if (!record) return Err(in_record(record.error(), "instance '" + instance_id + "'"));
  if (record->instance_id != instance_id) {
    return Err(error(ErrorCode::Corruption, "row of instance '" + instance_id +
                                                "' names instance '" + record->instance_id + "'"));
  }
  return record;
}

Result<std::vector<HistoryEvent>, Error> LmdbStore::read_history(const std::string& instance_id,
                                                                 std::uint64_t execution_id) {
  if (!valid_instance_id(instance_id)) return Err(invalid_id(instance_id));
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  Cursor cursor(txn.get(), env_->dbs().history);
  if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "reading history", path()));
  const std::string prefix = history_key_prefix(instance_id, execution_id);
  std::vector<HistoryEvent> events;
  std::string_view key;
  std::string_view value;
  for (int rc = cursor.seek(prefix, &key, &value);; rc = cursor.next(&key, &value)) {
    if (rc == MDB_NOTFOUND || (rc == 0 && !key.starts_with(prefix))) break;
    if (rc != 0) return Err(lmdb_error(rc, "reading history", path()));
    auto event = decode_history_event(value);
    if (!event) return Err(in_record(event.error(), "history of '" + instance_id + "'"));
    if (key.size() != prefix.size() + 8 || get_be64(key.substr(prefix.size())) != event->event_id) {
      return Err(error(ErrorCode::Corruption, "history of '" + instance_id +
                                                  "': an event is stored under another event id"));
    }
    events.push_back(std::move(*event));
  }
  return events;
}

Error LmdbStore::not_claimed(const char* operation) const {
  return error(ErrorCode::Busy,
               std::string(operation) + " on store '" + path() + "' needs claim_dispatch() first");
}

Result<std::vector<QueuedMessage>, Error> LmdbStore::fetch_messages(TimestampMs now,
                                                                    std::size_t max) {
  std::lock_guard lock(lease_mutex_);
  if (!claimed_) return Err(not_claimed("fetch_messages"));
  // The txn begins under the lease mutex: a commit ends the leases of what it consumed under
  // the same mutex after it is durable, so this scan sees a consumed record only while it is
  // still leased, and skips it.
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  auto found = scan_messages(txn.get(), now, max);
  if (found) {
    for (const auto& queued : *found) leases_.lease_message(queued.key);
  }
  return found;
}

Result<std::vector<QueuedMessage>, Error> LmdbStore::scan_messages(MDB_txn* txn, TimestampMs now,
                                                                   std::size_t max) const {
  std::vector<QueuedMessage> found;
  Cursor cursor(txn, env_->dbs().orchestrator_queue);
  if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "fetching messages", path()));
  std::string_view key;
  std::string_view value;
  for (int rc = cursor.first(&key, &value); found.size() < max; rc = cursor.next(&key, &value)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return Err(lmdb_error(rc, "fetching messages", path()));
    auto queue_key = decode_queue_key(key);
    if (!queue_key) return Err(in_record(queue_key.error(), "orchestrator queue"));
    if (queue_key->visible_at > now) break;
    if (leases_.message_leased(*queue_key)) continue;
    auto message = decode_orchestrator_message(value);
    if (!message) return Err(in_record(message.error(), "orchestrator queue"));
    found.push_back(QueuedMessage{*queue_key, std::move(*message)});
  }
  return found;
}

void LmdbStore::release_messages(const std::vector<QueueKey>& keys) {
  ChangeNotice notice;
  {
    std::lock_guard lock(lease_mutex_);
    for (const auto& key : keys) {
      if (!leases_.message_leased(key)) continue;
      leases_.release_message(key);
      ChangeNotice one;
      one.messages = true;
      one.earliest_visible_at = key.visible_at;
      merge_notice(notice, one);
    }
  }
  if (notice_has_news(notice)) writer_->post(notice);
}

std::optional<TimestampMs> LmdbStore::next_message_due() {
  std::lock_guard lock(lease_mutex_);
  ReadTxn txn(*env_);
  if (!txn.ok()) return std::nullopt;
  Cursor cursor(txn.get(), env_->dbs().orchestrator_queue);
  if (cursor.status() != 0) return std::nullopt;
  std::string_view key;
  std::string_view value;
  for (int rc = cursor.first(&key, &value); rc == 0; rc = cursor.next(&key, &value)) {
    auto queue_key = decode_queue_key(key);
    if (queue_key && !leases_.message_leased(*queue_key)) return queue_key->visible_at;
  }
  return std::nullopt;
}

Result<std::vector<QueuedActivity>, Error> LmdbStore::fetch_activities(
    TimestampMs now, std::size_t max, std::chrono::milliseconds lease) {
  std::lock_guard lock(lease_mutex_);
  if (!claimed_) return Err(not_claimed("fetch_activities"));
  ReadTxn txn(*env_);  // under the lease mutex, as in fetch_messages
  if (!txn.ok()) return Err(txn.error());
  auto found = scan_activities(txn.get(), now, max);
  if (found) {
    const TimestampMs until = detail::saturating_add(now, lease);
    for (const auto& queued : *found)
      leases_.lease_activity(queued.key, queued.item.attempt, until);
  }
  return found;
}

Result<std::vector<QueuedActivity>, Error> LmdbStore::scan_activities(MDB_txn* txn, TimestampMs now,
                                                                      std::size_t max) const {
  std::vector<QueuedActivity> found;
  Cursor cursor(txn, env_->dbs().worker_queue);
  if (cursor.status() != 0) return Err(lmdb_error(cursor.status(), "fetching activities", path()));
  std::string_view key;
  std::string_view value;
  for (int rc = cursor.first(&key, &value); found.size() < max; rc = cursor.next(&key, &value)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return Err(lmdb_error(rc, "fetching activities", path()));
    auto queue_key = decode_queue_key(key);
    if (!queue_key) return Err(in_record(queue_key.error(), "worker queue"));
    if (queue_key->visible_at > now) break;
    if (leases_.activity_leased(*queue_key, now)) continue;
    auto item = decode_activity_work_item(value);
    if (!item) return Err(in_record(item.error(), "worker queue"));
    item->attempt = leases_.next_attempt(*queue_key, item->attempt);
    found.push_back(QueuedActivity{*queue_key, std::move(*item)});
  }
  return found;
}

void LmdbStore::release_activities(const std::vector<QueueKey>& keys) {
  end_activity_leases(keys, &LeaseTable::release_activity);
}

void LmdbStore::return_activities(const std::vector<QueueKey>& keys) {
  end_activity_leases(keys, &LeaseTable::unlease_activity);
}

// Ends the leases with `end` and tells the runtime that activities are available again.
void LmdbStore::end_activity_leases(const std::vector<QueueKey>& keys,
                                    void (LeaseTable::*end)(const QueueKey&)) {
  {
    std::lock_guard lock(lease_mutex_);
    for (const auto& key : keys) (leases_.*end)(key);
  }
  if (keys.empty()) return;
  ChangeNotice notice;
  notice.activities = true;
  writer_->post(notice);
}

Result<std::uint64_t, Error> LmdbStore::next_queue_seq() {
  ReadTxn txn(*env_);
  if (!txn.ok()) return Err(txn.error());
  std::uint64_t next_seq = 0;
  const int rc = read_next_seq(txn.get(), env_->dbs(), &next_seq);
  if (rc == MDB_CORRUPTED) {
    return Err(error(ErrorCode::Corruption, "the queue sequence in the meta table is damaged"));
  }
  if (rc != 0) return Err(lmdb_error(rc, "reading the queue sequence", path()));
  return next_seq;
}

Result<void, Error> LmdbStore::claim_dispatch() {
  std::lock_guard lock(lease_mutex_);
  const auto busy = [this] {
    return Err(error(ErrorCode::Busy, "store '" + path() + "' is in use by another runtime"));
  };
  if (claimed_) return busy();
  // The lock belongs to this store's descriptor of the lock file: it excludes other processes
  // and other descriptors of this one (see platform::LockFile).
  auto locked = lock_file_.try_lock();
  if (!locked) {
    return Err(error(ErrorCode::IOError,
                     "claiming dispatch of store '" + path() + "': " + locked.error().message));
  }
  if (!*locked) return busy();
  claimed_ = true;
  return {};
}

void LmdbStore::release_dispatch() {
  {
    std::lock_guard lock(lease_mutex_);
    if (!claimed_) return;
    leases_.release_all();
    lock_file_.unlock();
    claimed_ = false;
  }
  ChangeNotice notice;
  notice.messages = true;
  notice.activities = true;
  writer_->post(notice);
}

std::uint64_t LmdbStore::subscribe(ChangeListener listener) {
  return listeners_.add(std::move(listener));
}

void LmdbStore::unsubscribe(std::uint64_t token) { listeners_.remove(token); }

}  // namespace duroxide::storage

namespace duroxide {

Result<std::shared_ptr<LmdbProvider>, Error> LmdbProvider::open(std::string path) {
  return open(std::move(path), LmdbOptions{});
}

Result<std::shared_ptr<LmdbProvider>, Error> LmdbProvider::open(std::string path,
                                                                LmdbOptions options) {
  return storage::open_store(std::move(path), options, std::string());
}

Result<std::shared_ptr<LmdbProvider>, Error> LmdbProvider::open_temporary() {
  return open_temporary(LmdbOptions{});
}

Result<std::shared_ptr<LmdbProvider>, Error> LmdbProvider::open_temporary(LmdbOptions options) {
  auto dir = storage::platform::make_temp_directory("duroxide-");
  if (!dir) return Err(dir.error());
  options.create_if_missing = true;  // a temporary store is always new
  auto store = storage::open_store(*dir + "/store.duro", options, *dir);
  if (!store) {
    std::error_code ignored;
    std::filesystem::remove_all(*dir, ignored);
  }
  return store;
}

}  // namespace duroxide
