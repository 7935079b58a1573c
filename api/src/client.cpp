// SPDX-License-Identifier: MIT
// Client: validation of caller input, raising events, cancelling, reading status (starts are
// in client_start.cpp).
#include <duroxide/client.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "api/src/client_input.hpp"

namespace duroxide {

namespace detail {

TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<void, Error> invalid(std::string message) {
  return Err(Error{ErrorCode::InvalidArgument, std::move(message)});
}

Result<void, Error> check_length(std::string_view what, std::string_view value,
                                 std::size_t max_bytes) {
  if (value.size() <= max_bytes) return {};
  return invalid(std::string(what) + " is " + std::to_string(value.size()) +
                 " bytes; the limit is " + std::to_string(max_bytes));
}

Result<void, Error> check_text(std::string_view what, std::string_view value,
                               std::size_t max_bytes) {
  if (value.empty()) return invalid(std::string(what) + " is empty");
  if (auto r = check_length(what, value, max_bytes); !r) return r;
  if (value.find('\0') != std::string_view::npos) {
    return invalid(std::string(what) + " contains a NUL byte");
  }
  return {};
}

}  // namespace detail

namespace {

using detail::now_ms;

using detail::check_text;
using detail::invalid;

Result<void, Error> check_payload(std::string_view what, const std::string& payload) {
  return detail::check_length(what, payload, kMaxPayloadBytes);
}

OrchestrationStatus status_of(const InstanceRecord& row) {
  switch (row.state) {
    case InstanceState::Completed:
      return OrchestrationStatus::completed(row.output, row.custom_status);
    case InstanceState::Failed:
      return OrchestrationStatus::failed(row.error, row.custom_status);
    case InstanceState::Running:
      break;
  }
  if (row.suspended) return OrchestrationStatus::suspended(row.custom_status);
  return OrchestrationStatus::running(row.custom_status);
}

// A message for the current execution of an existing instance (NotFound otherwise).
WriteBatch message_batch(std::string_view instance_id, MessageKind kind, std::string_view name,
                         std::string data) {
  WriteBatch batch;
  batch.instance_id = std::string(instance_id);
  batch.precondition = WriteBatch::Precondition::InstancePresent;
  OrchestratorMessage message;
  message.instance_id = batch.instance_id;
  message.kind = kind;
  message.visible_at = now_ms();
  message.name = std::string(name);
  message.data = std::move(data);
  batch.messages.push_back(std::move(message));
  return batch;
}

// Counts commits seen by a subscription; shared so a late listener call stays safe.
struct ChangeCounter {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t count = 0;
};

}  // namespace

Result<void, Error> Client::raise_event(std::string_view instance_id, std::string_view event_name,
                                        std::string data) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) return r;
  if (auto r = check_text("event name", event_name, kMaxNameBytes); !r) return r;
  if (auto r = check_payload("event data", data); !r) return r;

  return store_->commit_sync(
      message_batch(instance_id, MessageKind::ExternalEvent, event_name, std::move(data)));
}

Result<void, Error> Client::cancel_instance(std::string_view instance_id, std::string reason) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) return r;
  if (auto r = check_payload("reason", reason); !r) return r;
  auto row = store_->read_instance(std::string(instance_id));
  if (!row) return Err(row.error());
  if (row->state != InstanceState::Running) return {};  // finished: nothing to cancel

  return store_->commit_sync(
      message_batch(instance_id, MessageKind::CancelRequested, {}, std::move(reason)));
}

Result<OrchestrationStatus, Error> Client::get_orchestration_status(std::string_view instance_id) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) {
    return Err(r.error());
  }
  auto row = store_->read_instance(std::string(instance_id));
  if (!row) {
    if (row.error().code == ErrorCode::NotFound) return OrchestrationStatus::not_found();
    return Err(row.error());
  }
  return status_of(*row);
}

Result<OrchestrationStatus, Error> Client::wait_for_orchestration(
    std::string_view instance_id, std::chrono::milliseconds timeout) {
  // Capped so that milliseconds::max() ("wait forever") cannot overflow the clock.
  constexpr std::chrono::milliseconds kForever = std::chrono::hours(24 * 365 * 100);
  const auto deadline = std::chrono::steady_clock::now() + std::min(timeout, kForever);
  auto counter = std::make_shared<ChangeCounter>();
  const auto token = store_->subscribe([counter](const ChangeNotice&) {
    std::lock_guard lock(counter->mutex);
    ++counter->count;
    counter->changed.notify_all();
  });
  struct Unsubscribe {
    Provider& store;
    std::uint64_t token;
    ~Unsubscribe() { store.unsubscribe(token); }
  } unsubscribe{*store_, token};

  // A store that cannot notify is read again at least this often.
  constexpr auto kRecheck = std::chrono::seconds(1);
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(counter->mutex);
      seen = counter->count;
    }
    auto status = get_orchestration_status(instance_id);
    if (!status) return status;
    if (status->kind() == OrchestrationStatus::Kind::NotFound) {
      return Err(
          Error{ErrorCode::NotFound, "instance '" + std::string(instance_id) + "' not found"});
    }
    if (status->is_terminal()) return status;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Err(Error{ErrorCode::Timeout, "instance '" + std::string(instance_id) +
                                               "' did not finish within " +
                                               std::to_string(timeout.count()) + " ms"});
    }
    std::unique_lock lock(counter->mutex);
    counter->changed.wait_until(lock, std::min(deadline, now + kRecheck),
                                [&] { return counter->count != seen; });
  }
}

}  // namespace duroxide
