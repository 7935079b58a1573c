// SPDX-License-Identifier: MIT
// Client: suspend, resume, terminate and rewind.
#include <duroxide/client.hpp>

#include <chrono>
#include <optional>
#include <set>

#include "api/src/client_input.hpp"
#include "api/src/instance_tree.hpp"
#include "engine/rewind.hpp"

namespace duroxide {

namespace {

using detail::now_ms;

using detail::check_text;

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

// Rewinds one Failed instance. The failed children it waits for are rewound first (deepest
// first); after the instance's own commit, the children it waits for are read again and the
// outcome of those that ended meanwhile is sent again: a child that ended before the commit
// found its parent Failed and its notice was dropped (a duplicate is dropped by the parent).
// `seen` guards against a cycle of parent ids in a damaged store.
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
      if (auto r = prepare_child(*row, child, batch); !r) return r;
    }
    if (auto r = set_aside(*row, plan->set_aside_children, batch); !r) return r;
    InstanceRecord rewound = *row;
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
    if (auto r = store_.commit_sync(std::move(batch)); !r) return r;
    return resend_outcomes(*row, plan->open_children);
  }

 private:
  bool is_ours(const InstanceRecord& parent, const engine::OpenChild& child,
               const InstanceRecord& row) const {
    return row.parent_id == parent.instance_id && row.parent_event_id == child.scheduled_by &&
           row.parent_execution_id == parent.execution_id;
  }

  // Before the parent's commit: a Failed child is rewound; one whose start the failed step
  // abandoned (no row) is started again with the parent's commit, as its scheduling step
  // would have; one whose id another instance took gets a failure, as a refused start does.
  Result<void, Error> prepare_child(const InstanceRecord& parent, const engine::OpenChild& child,
                                    WriteBatch& batch) {
    auto row = store_.read_instance(child.instance_id);
    if (!row) {
      if (row.error().code != ErrorCode::NotFound) return Err(row.error());
      start_child(parent, child, batch);
      return {};
    }
    if (!is_ours(parent, child, *row)) {
      batch.messages.push_back(
          child_notice(parent, child, MessageKind::SubOrchestrationFailed,
                       std::string(to_string(ErrorKind::OrchestrationFailed)),
                       "sub-orchestration id '" + child.instance_id + "' is already in use"));
      return {};
    }
    if (row->state == InstanceState::Failed) return rewind(child.instance_id);
    return {};
  }

  void start_child(const InstanceRecord& parent, const engine::OpenChild& child,
                   WriteBatch& batch) {
    const TimestampMs now = now_ms();
    InstanceRecord row;
    row.instance_id = child.instance_id;
    row.name = child.name;
    row.created_at = row.updated_at = now;
    row.parent_id = parent.instance_id;
    row.parent_execution_id = parent.execution_id;
    row.parent_event_id = child.scheduled_by;
    batch.created_instances.push_back(std::move(row));
    OrchestratorMessage start =
        message_to(child.instance_id, MessageKind::StartOrchestration, child.input);
    start.name = child.name;
    start.source_id = child.scheduled_by;
    start.parent_id = parent.instance_id;
    start.parent_execution_id = parent.execution_id;
    batch.messages.push_back(std::move(start));
  }

  // The children the set-aside attempt started are not the rewound run's: finished ones are
  // removed (with their own children), running ones terminated, so that the code may start
  // them again under the same ids.
  Result<void, Error> set_aside(const InstanceRecord& parent,
                                const std::vector<engine::OpenChild>& children, WriteBatch& batch) {
    std::optional<detail::InstanceTree> tree;
    for (const auto& child : children) {
      auto row = our_child(parent, child);
      if (!row) return Err(row.error());
      if (!*row) continue;
      if ((*row)->state == InstanceState::Running) {
        batch.messages.push_back(
            message_to(child.instance_id, MessageKind::TerminateRequested, "parent rewound"));
        continue;
      }
      if (!tree) {
        auto loaded = detail::InstanceTree::load(store_);
        if (!loaded) return Err(loaded.error());
        tree = std::move(*loaded);
      }
      for (auto& id : tree->subtree(child.instance_id)) {
        batch.deleted_instances.push_back(std::move(id));
      }
    }
    return {};
  }

  // Returns: the child's row if it is the one `parent` started at `child`; nullopt for a
  // child without a row or one whose id another instance holds.
  Result<std::optional<InstanceRecord>, Error> our_child(const InstanceRecord& parent,
                                                         const engine::OpenChild& child) {
    auto row = store_.read_instance(child.instance_id);
    if (!row) {
      if (row.error().code == ErrorCode::NotFound) return std::optional<InstanceRecord>();
      return Err(row.error());
    }
    if (!is_ours(parent, child, *row)) return std::optional<InstanceRecord>();
    return std::optional<InstanceRecord>(std::move(*row));
  }

  OrchestratorMessage child_notice(const InstanceRecord& parent, const engine::OpenChild& child,
                                   MessageKind kind, std::string name, std::string data) const {
    OrchestratorMessage notice = message_to(parent.instance_id, kind, std::move(data));
    notice.execution_id = parent.execution_id;
    notice.source_id = child.scheduled_by;
    notice.name = std::move(name);
    return notice;
  }

  // After the parent's commit: the outcome of every child of ours that has ended, again.
  Result<void, Error> resend_outcomes(const InstanceRecord& parent,
                                      const std::vector<engine::OpenChild>& children) {
    WriteBatch batch;
    batch.instance_id = parent.instance_id;
    batch.precondition = WriteBatch::Precondition::InstancePresent;
    for (const auto& child : children) {
      auto row = our_child(parent, child);
      if (!row) return Err(row.error());
      if (!*row) continue;
      const InstanceRecord& ended = **row;
      if (ended.state == InstanceState::Completed) {
        batch.messages.push_back(
            child_notice(parent, child, MessageKind::SubOrchestrationCompleted, {}, ended.output));
      } else if (ended.state == InstanceState::Failed) {
        batch.messages.push_back(child_notice(parent, child, MessageKind::SubOrchestrationFailed,
                                              std::string(ended.error.kind()),
                                              ended.error.display_message()));
      }
    }
    if (batch.messages.empty()) return {};
    return store_.commit_sync(std::move(batch));
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
