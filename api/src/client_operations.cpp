// SPDX-License-Identifier: MIT
// Client: suspend, resume, terminate and rewind.
#include <duroxide/client.hpp>

#include <chrono>
#include <set>

#include "api/src/client_input.hpp"
#include "engine/rewind.hpp"

namespace duroxide {

namespace {

using detail::check_text;

TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<void, Error> check_request(std::string_view instance_id, const std::string& reason) {
  if (auto r = check_text("instance id", instance_id, kMaxInstanceIdBytes); !r) return r;
  return detail::check_length("reason", reason, kMaxPayloadBytes);
}

OrchestratorMessage message_to(std::string instance_id, MessageKind kind, std::string data) {
  OrchestratorMessage message;
  message.instance_id = std::move(instance_id);
  message.kind = kind;
  message.visible_at = now_ms();
  message.data = std::move(data);
  return message;
}

// Queues a request for a running instance; a finished one is left as it is. The message goes
// through the queue like any other, so requests are taken in the order they were made.
Result<void, Error> request(Provider& store, std::string_view instance_id, MessageKind kind,
                            std::string reason) {
  if (auto r = check_request(instance_id, reason); !r) return r;
  auto row = store.read_instance(std::string(instance_id));
  if (!row) return Err(row.error());
  if (row->state != InstanceState::Running) return {};
  WriteBatch batch;
  batch.instance_id = std::string(instance_id);
  batch.precondition = WriteBatch::Precondition::InstancePresent;
  batch.messages.push_back(message_to(batch.instance_id, kind, std::move(reason)));
  return store.commit_sync(std::move(batch));
}

// Rewinds one Failed instance, after the failed children it waits for (deepest first, so
// that a child's result always finds its parent rewound or still Failed, and a later rewind
// of the parent settles whatever a failed commit left). `seen` guards against a cycle of
// parent ids in a damaged store.
class Rewinder {
 public:
  Rewinder(Provider& store, std::string reason) : store_(store), reason_(std::move(reason)) {}

  Result<void, Error> rewind(const std::string& instance_id) {
    if (!seen_.insert(instance_id).second) return {};
    auto row = store_.read_instance(instance_id);
    if (!row) return Err(row.error());
    auto history = store_.read_history(instance_id, row->execution_id);
    if (!history) return Err(history.error());
    auto plan = engine::plan_rewind(*row, *history, reason_, now_ms());
    if (!plan) return Err(plan.error());

    WriteBatch batch;
    batch.instance_id = instance_id;
    batch.precondition = WriteBatch::Precondition::InstancePresent;
    batch.execution_id = row->execution_id;
    for (const auto& child : plan->open_children) {
      if (auto settled = settle_child(*row, child, batch); !settled) return settled;
    }
    InstanceRecord rewound = std::move(*row);
    rewound.state = InstanceState::Running;
    rewound.output.clear();
    rewound.error = ErrorDetails();
    rewound.recovery_attempts = 0;
    rewound.suspended = plan->suspended;
    rewound.updated_at = now_ms();
    batch.instance = std::move(rewound);
    // The events go after the last one recorded: a runtime that wrote meanwhile makes the
    // commit fail on an event id already present, rather than interleave with it.
    batch.history = std::move(plan->events);
    batch.activities = std::move(plan->activities);
    for (auto& message : plan->messages) batch.messages.push_back(std::move(message));
    return store_.commit_sync(std::move(batch));
  }

 private:
  // A child the rewound parent waits for: a Failed one is rewound, a Completed one's output
  // is sent again (its first notice found the parent Failed and was dropped), a missing one
  // fails the call. A Running one will notify the parent when it ends.
  Result<void, Error> settle_child(const InstanceRecord& parent, const engine::OpenChild& child,
                                   WriteBatch& batch) {
    auto row = store_.read_instance(child.instance_id);
    if (!row && row.error().code != ErrorCode::NotFound) return Err(row.error());
    const bool ours =
        row && row->parent_id == parent.instance_id && row->parent_event_id == child.scheduled_by;
    if (ours && row->state == InstanceState::Running) return {};
    if (ours && row->state == InstanceState::Failed) return rewind(child.instance_id);
    OrchestratorMessage notice;
    notice.instance_id = parent.instance_id;
    notice.execution_id = parent.execution_id;
    notice.source_id = child.scheduled_by;
    notice.visible_at = now_ms();
    if (ours) {
      notice.kind = MessageKind::SubOrchestrationCompleted;
      notice.data = row->output;
    } else {
      notice.kind = MessageKind::SubOrchestrationFailed;
      notice.name = std::string(to_string(ErrorKind::OrchestrationFailed));
      notice.data = "sub-orchestration '" + child.instance_id +
                    "' no longer exists: the rewind cannot run it again";
    }
    batch.messages.push_back(std::move(notice));
    return {};
  }

  Provider& store_;
  std::string reason_;
  std::set<std::string> seen_;
};

}  // namespace

Result<void, Error> Client::suspend_instance(std::string_view instance_id, std::string reason) {
  return request(*store_, instance_id, MessageKind::SuspendRequested, std::move(reason));
}

Result<void, Error> Client::resume_instance(std::string_view instance_id, std::string reason) {
  return request(*store_, instance_id, MessageKind::ResumeRequested, std::move(reason));
}

Result<void, Error> Client::terminate_instance(std::string_view instance_id, std::string reason) {
  return request(*store_, instance_id, MessageKind::TerminateRequested, std::move(reason));
}

Result<void, Error> Client::rewind_instance(std::string_view instance_id, std::string reason) {
  if (auto r = check_request(instance_id, reason); !r) return r;
  return Rewinder(*store_, std::move(reason)).rewind(std::string(instance_id));
}

}  // namespace duroxide
