// SPDX-License-Identifier: MIT
// One instance's life on its fiber: load, replay or start, run, commit each step, finish.
#include "engine/instance.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <set>
#include <variant>

#include <fmt/format.h>
#include <boost/fiber/future.hpp>

#include <duroxide/client.hpp>

#include "engine/clock.hpp"
#include "engine/shard.hpp"

namespace duroxide::engine {

namespace {
std::atomic<std::size_t> live_instances{0};

const OrchestratorMessage& message_of(const InboxEntry& entry) {
  return std::visit([](const auto& e) -> const OrchestratorMessage& { return e.message; }, entry);
}

bool is_result(const InboxEntry& entry) { return std::holds_alternative<ActivityResult>(entry); }

bool is_start(const InboxEntry& entry) {
  return message_of(entry).kind == MessageKind::StartOrchestration;
}
}  // namespace

Instance::Instance(Shard& shard, const Services& services, Router& router, std::string instance_id)
    : shard_(shard), services_(services), router_(router), id_(std::move(instance_id)) {
  live_instances.fetch_add(1, std::memory_order_relaxed);
}

Instance::~Instance() { live_instances.fetch_sub(1, std::memory_order_relaxed); }

std::size_t Instance::live_count() { return live_instances.load(std::memory_order_relaxed); }

void Instance::run() noexcept {
  try {
    execute();
  } catch (const Unwind&) {
    // Evicted or stopped (the store holds every step that counts), or failed_ is set.
  } catch (const std::exception& e) {
    failed_ = true;
    services_.logger.log(LogLevel::Error, "instance '{}' stopped: {}", id_, e.what());
  } catch (...) {
    failed_ = true;
    services_.logger.log(LogLevel::Error, "instance '{}' stopped by an unknown exception", id_);
  }
  leave_recovery_gate();  // stopped before its recovered turn was durable
  shard_.on_instance_done(*this);
}

void Instance::deliver(std::vector<QueuedMessage> messages) {
  for (auto& message : messages) inbox_.push_back(std::move(message));
  wakeup_.wake();
}

void Instance::deliver_result(ActivityResult result) {
  inbox_.emplace_back(std::move(result));
  wakeup_.wake();
}

std::vector<ActivityResult> Instance::take_unrecorded_results() {
  std::vector<ActivityResult> results = step_.take_results();
  for (Inbox* queue : {&deliver_first_, &inbox_}) {
    for (auto& entry : *queue) {
      if (auto* result = std::get_if<ActivityResult>(&entry)) results.push_back(std::move(*result));
    }
    std::erase_if(*queue, is_result);
  }
  return results;
}

void Instance::request_unwind() {
  unwind_requested_ = true;
  wakeup_.wake();
}

std::vector<QueuedMessage> Instance::take_inbox() {
  std::vector<QueuedMessage> messages;
  messages.reserve(deliver_first_.size() + inbox_.size());
  for (Inbox* queue : {&deliver_first_, &inbox_}) {
    for (auto& entry : *queue) messages.push_back(std::get<QueuedMessage>(std::move(entry)));
    queue->clear();
  }
  return messages;
}

// Takes `held` back into the instance's inbox if the gate refuses (the runtime is stopping;
// Shard::on_instance_done then keeps them leased until the runtime releases its claim).
void Instance::enter_recovery_gate(RecoveryGate::Mode mode, std::uint32_t count, Inbox& held) {
  if (!services_.recovery_gate->enter(mode, count, &shard_)) {
    deliver_first_ = std::exchange(held, {});
    unwind();
  }
  in_recovery_gate_ = mode;
}

// While a suspect waits or runs its recovered turn alone, every other turn waits for it: the
// turn whose code kills the process may be one on new messages.
void Instance::wait_for_suspects(Inbox& held) {
  if (!in_recovery_gate_ && services_.recovery_gate->suspects_present()) {
    enter_recovery_gate(RecoveryGate::Mode::Shared, 0, held);
  }
}

void Instance::leave_recovery_gate() {
  if (auto mode = std::exchange(in_recovery_gate_, std::nullopt)) {
    services_.recovery_gate->leave(*mode);
  }
}

void Instance::unwind() {
  if (execution_) execution_->abandon();  // futures destroyed by the unwind cancel nothing
  unwinding_ = true;
  unwind_requested_ = true;
  throw Unwind{};
}

TimestampMs Instance::now() const { return services_.now(); }

// Takes the inbox, waiting for messages if `wait` and there are none: parked (so that the
// shard may evict it) if `evictable`. Suspends.
Inbox Instance::take_queued(bool wait, bool evictable) {
  while (wait && inbox_.empty() && !unwind_requested_) {
    if (evictable) shard_.park(*this);
    wakeup_.sleep();
    shard_.unpark(*this);
  }
  if (unwind_requested_) unwind();
  return std::exchange(inbox_, {});
}

// From here on the messages count as consumed: the next commit deletes them. Child starts
// meant for another instance of this id are answered here, wherever they arrive.
std::vector<OrchestratorMessage> Instance::hand_over(Inbox queued) {
  std::vector<OrchestratorMessage> messages;
  messages.reserve(queued.size());
  for (auto& entry : queued) {
    if (auto* result = std::get_if<ActivityResult>(&entry)) {
      messages.push_back(result->message);  // the step keeps the outcome until it is durable
      step_.take_result(std::move(*result));
      continue;
    }
    auto& message = std::get<QueuedMessage>(entry);
    step_.consume(message.key);
    if (is_foreign_start(message.message)) {
      refuse_start(message.message);
    } else {
      messages.push_back(std::move(message.message));
    }
  }
  return messages;
}

// A child start whose parent does not own this row: the id was in use before (by another
// instance, or the parent itself).
bool Instance::is_foreign_start(const OrchestratorMessage& m) const {
  return m.kind == MessageKind::StartOrchestration && !m.parent_id.empty() &&
         (m.parent_id != row_.parent_id || m.source_id != row_.parent_event_id ||
          m.parent_execution_id != row_.parent_execution_id);
}

// The parent's future fails instead of waiting forever, and this instance is left alone.
void Instance::refuse_start(const OrchestratorMessage& start) {
  services_.logger.log(LogLevel::Warn, "instance '{}' refuses a start as a child of '{}'", id_,
                       start.parent_id);
  OrchestratorMessage reply;
  reply.instance_id = start.parent_id;
  reply.execution_id = start.parent_execution_id;
  reply.kind = MessageKind::SubOrchestrationFailed;
  reply.source_id = start.source_id;
  reply.visible_at = now();
  reply.name = std::string(to_string(ErrorKind::OrchestrationFailed));
  reply.data = "sub-orchestration id '" + id_ + "' is already in use";
  step_.send(std::move(reply));
}

// More messages in the inbox join the current step; only an empty inbox ends it, so a burst
// of completions costs one commit. A terminate request among them ends the instance here,
// without returning to its code.
std::vector<OrchestratorMessage> Instance::next_messages(StepOutput output) {
  if (unwinding_) unwind();  // the code caught an Unwind and went on: stop it again
  step_.add(std::move(output));
  Inbox queued = std::exchange(deliver_first_, {});
  if (queued.empty()) queued = take_queued(false);
  if (queued.empty()) {
    commit_step();
    queued = take_queued(true);
    wait_for_suspects(queued);
  }
  if (!termination(queued) && termination(inbox_)) {
    std::move(inbox_.begin(), inbox_.end(), std::back_inserter(queued));  // it ends them all
    inbox_.clear();
  }
  if (auto details = termination(queued)) {
    end_stopped(queued, std::move(*details));
    unwind();  // the instance has ended: its code does not run again
  }
  split_at_request(queued);
  return hand_over(std::move(queued));
}

// A suspend or resume request opens a turn of its own: what came before it is handed over
// first (the code may run on it), and what comes after it waits in deliver_first_ for the next
// turn, so that no code runs on a turn in which the instance was suspended, and none runs on
// both sides of a resume.
void Instance::split_at_request(Inbox& queued) {
  auto is_request = [](const InboxEntry& e) {
    const MessageKind kind = message_of(e).kind;
    return kind == MessageKind::SuspendRequested || kind == MessageKind::ResumeRequested;
  };
  auto request = std::find_if(queued.begin(), queued.end(), is_request);
  if (request == queued.end()) return;
  auto split = request == queued.begin()
                   ? std::find_if(std::next(request), queued.end(), is_request)
                   : request;
  if (split == queued.end()) return;
  Inbox later(std::make_move_iterator(split), std::make_move_iterator(queued.end()));
  queued.erase(split, queued.end());
  std::move(deliver_first_.begin(), deliver_first_.end(), std::back_inserter(later));
  deliver_first_ = std::move(later);
}

// Returns: the failure a terminate request among `queued` asks for, if there is one for the
// current execution.
std::optional<ErrorDetails> Instance::termination(const Inbox& queued) const {
  const std::uint64_t current =
      execution_ ? execution_->identity().execution_id : row_.execution_id;
  for (const auto& entry : queued) {
    const OrchestratorMessage& message = message_of(entry);
    if (message.kind == MessageKind::TerminateRequested &&
        (message.execution_id == 0 || message.execution_id == current)) {
      return ErrorDetails(ErrorCategory::Application, ErrorKind::Terminated, message.data);
    }
  }
  return std::nullopt;
}

// Ends the instance with `details` without running its code (terminated, poisoned):
// everything in `queued` is consumed, its children are stopped and its activities told.
void Instance::end_stopped(Inbox& queued, ErrorDetails details) {
  deliver_first_.insert(deliver_first_.begin(), std::make_move_iterator(queued.begin()),
                        std::make_move_iterator(queued.end()));
  queued.clear();  // finish_failed records and consumes them
  execution_->stop(details);
  finish_failed(std::move(details));
}

// Makes the step durable: new events, new work, consumed messages and the row in one batch.
// Suspends until the group commit that carries it is done. Throws Unwind if it failed: the
// instance will be replayed from what the store holds.
void Instance::commit_step() {
  if (unwinding_) unwind();  // after an unwind nothing more may be committed
  if (execution_ && execution_->custom_status() &&
      execution_->custom_status() != row_.custom_status) {
    row_.custom_status = execution_->custom_status();
    step_.change_row();
  }
  if (execution_ && row_.state == InstanceState::Running &&
      execution_->suspended() != row_.suspended) {
    row_.suspended = execution_->suspended();  // the request is taken with this step
    step_.change_row();
  }
  if (step_.empty()) return;
  if (step_.row_changed()) row_.updated_at = now();
  const std::uint64_t execution_id =
      execution_ ? execution_->identity().execution_id : row_.execution_id;
  auto result = commit_and_wait(step_.to_batch(id_, execution_id, row_, row_stored_));
  if (!result) {
    services_.logger.log(LogLevel::Error, "instance '{}': commit failed: {}", id_,
                         result.error().to_string());
    failed_ = true;  // what this fiber holds is ahead of the store: replay from the store
    unwind();
  }
  step_durable(step_.committed());
}

void Instance::step_durable(Step::Durable durable) {
  leave_recovery_gate();  // a recovered turn ends with its first durable step
  row_stored_ = row_stored_ || durable.wrote_row;
  for (std::uint64_t activity_id : durable.cancelled_activities) {
    router_.cancel_activity(id_, durable.execution_id, activity_id);
  }
}

// Suspends the fiber (not the thread) until the group commit carrying `batch` is done.
Result<void, Error> Instance::commit_and_wait(WriteBatch batch) {
  auto done = std::make_shared<boost::fibers::promise<Result<void, Error>>>();
  auto committed = done->get_future();
  shard_.callback_begins();
  services_.store->commit(std::move(batch), [done, &shard = shard_](Result<void, Error> result) {
    done->set_value(std::move(result));
    shard.callback_ends();  // after set_value has woken (and let go of) the shard's scheduler
  });
  return committed.get();
}

void Instance::execute() {
  auto first = take_queued(true);
  bool runs = false;
  try {
    runs = begin(first);
  } catch (...) {
    put_back(first);
    throw;
  }
  if (!runs) return;
  // A terminate that came while the instance waited for its start (or the gate) ends it here.
  if (auto details = termination(deliver_first_)) {
    Inbox held = std::exchange(deliver_first_, {});
    end_stopped(held, std::move(*details));
    return;
  }
  run_function(resolve_function());
}

// What begin() did not get to hand on (it threw, or unwound while it waited for a start) goes
// back in front of the inbox: the outcomes in it are then committed and the messages released
// or handed on by Shard::on_instance_done, like the rest of the inbox.
void Instance::put_back(Inbox& first) {
  if (first.empty()) return;
  std::move(deliver_first_.begin(), deliver_first_.end(), std::back_inserter(first));
  deliver_first_ = std::exchange(first, {});
}

// Loads the instance and creates its execution. Returns: false when there is nothing to run
// (the instance is gone or finished: its messages are consumed without effect).
bool Instance::begin(Inbox& first) {
  auto row = services_.store->read_instance(id_);
  if (!row) {
    if (row.error().code != ErrorCode::NotFound) throw std::runtime_error(row.error().to_string());
    return begin_without_row(first);
  }
  row_ = std::move(*row);
  row_stored_ = true;
  if (row_.state != InstanceState::Running) {
    hand_over(std::exchange(first, {}));  // stale messages for a finished instance
    commit_step();
    return false;
  }
  if (auto details = termination(first)) {
    load_without_running(first);
    end_stopped(first, std::move(*details));
    return false;
  }
  if (!count_recovery(first)) return false;
  auto history = services_.store->read_history(id_, row_.execution_id);
  if (!history) throw std::runtime_error(history.error().to_string());
  if (history->empty()) return start_new(first);
  execution_ = std::make_unique<Execution>(*this, row_.execution_id, id_, std::move(*history));
  // The messages that woke the instance open the first live turn after replay.
  deliver_first_ = std::exchange(first, {});
  return true;
}

// Children and detached starts create their instance with its first step; other messages for
// a missing instance are consumed without effect.
bool Instance::begin_without_row(Inbox& first) {
  auto start = std::find_if(first.begin(), first.end(), is_start);
  if (start == first.end()) {
    services_.logger.log(LogLevel::Warn, "dropping {} message(s) for missing instance '{}'",
                         first.size(), id_);
    hand_over(std::exchange(first, {}));
    commit_step();
    return false;
  }
  const OrchestratorMessage& message = message_of(*start);
  row_.instance_id = id_;
  row_.created_at = now();
  row_.parent_id = message.parent_id;
  if (!message.parent_id.empty()) {
    row_.parent_execution_id = message.parent_execution_id;
    row_.parent_event_id = message.source_id;
  }
  return start_new(first);
}

// Messages queued before this runtime started may be what a crash left: the instance's turn
// on them is counted durably before any code runs (docs/ENGINE.md, "The recovery gate and
// poison counting"). Retries after a failure in this process (the shard's back-off) are no
// crash and are not counted. Returns: false if the instance was poisoned (it has failed
// without running its code).
bool Instance::count_recovery(Inbox& first) {
  const bool recovered = std::any_of(first.begin(), first.end(), [this](const InboxEntry& e) {
    const auto* queued = std::get_if<QueuedMessage>(&e);
    return queued != nullptr && queued->key.seq < services_.recovered_below;
  });
  if (!recovered || shard_.failures(id_) != 0) {
    if (row_.recovery_attempts != 0) {  // counted by an earlier runtime: cleared by this step
      row_.recovery_attempts = 0;
      step_.change_row();
    }
    wait_for_suspects(first);
    return true;
  }
  const auto mode =
      row_.recovery_attempts == 0 ? RecoveryGate::Mode::Shared : RecoveryGate::Mode::Alone;
  enter_recovery_gate(mode, row_.recovery_attempts, first);
  if (row_.recovery_attempts != UINT32_MAX) ++row_.recovery_attempts;
  if (row_.recovery_attempts > std::max<std::uint32_t>(services_.options.max_attempts, 1)) {
    fail_poisoned(first);
    return false;
  }
  record_recovery(first);
  return true;
}

// Commits the counted recovery on its own, before any code runs; the first step clears it.
void Instance::record_recovery(Inbox& first) {
  WriteBatch mark;
  mark.instance_id = id_;
  mark.precondition = WriteBatch::Precondition::InstancePresent;
  mark.execution_id = row_.execution_id;
  mark.instance = row_;
  if (auto marked = commit_and_wait(std::move(mark)); !marked) {
    services_.logger.log(LogLevel::Error, "instance '{}': recording its restart failed: {}", id_,
                         marked.error().to_string());
    failed_ = true;
    deliver_first_ = std::exchange(first, {});  // released with the rest after the back-off
    unwind();
  }
  row_.recovery_attempts = 0;  // written with the first step
  step_.change_row();
}

// Ends the instance as Poison without running its code: no replay, no new turn. It stops like
// a cancelled one: its children are cancelled, its running activities told.
void Instance::fail_poisoned(Inbox& first) {
  const std::uint32_t max_attempts = std::max<std::uint32_t>(services_.options.max_attempts, 1);
  ErrorDetails details(
      ErrorCategory::Poison, ErrorKind::Poison,
      fmt::format("orchestration '{}' was started {} times on messages left from before a "
                  "restart without completing a step (max_attempts {}); its code may be "
                  "crashing the process",
                  row_.name, row_.recovery_attempts - 1, max_attempts));
  load_without_running(first);
  end_stopped(first, std::move(details));
}

// Creates the execution of an instance that ends without running its code (poisoned,
// terminated): from its history, or from its start (recorded now) if it has none yet.
void Instance::load_without_running(Inbox& first) {
  auto history = services_.store->read_history(id_, row_.execution_id);
  if (!history) throw std::runtime_error(history.error().to_string());
  if (history->empty()) {
    start_new(first);  // records the start it never got to run
    first = std::exchange(deliver_first_, {});
  } else {
    execution_ = std::make_unique<Execution>(*this, row_.execution_id, id_, std::move(*history));
  }
}

// Creates the execution from the first start meant for this instance, waiting for it if a
// message overtook it (clock skew). Returns: true.
bool Instance::start_new(Inbox& first) {
  auto own_start = [this](const InboxEntry& e) {
    return is_start(e) && !is_foreign_start(message_of(e));
  };
  auto start = std::find_if(first.begin(), first.end(), own_start);
  while (start == first.end()) {
    // Not evictable: an evicted instance hands what it holds to a fresh one at once, which
    // would wait here again and count the same left-over messages as a recovery again.
    auto more = take_queued(true, /*evictable=*/false);
    std::move(more.begin(), more.end(), std::back_inserter(first));
    start = std::find_if(first.begin(), first.end(), own_start);
  }
  Inbox taken;
  taken.push_back(std::move(*start));
  first.erase(start);
  OrchestratorMessage message = std::move(hand_over(std::move(taken)).front());
  ExecutionIdentity identity{id_, row_.execution_id, message.name, message.version};
  if (identity.version.empty()) {
    identity.version = services_.orchestrations.latest_version(identity.name);
  }
  row_.name = identity.name;
  row_.version = identity.version;
  step_.change_row();
  execution_ = std::make_unique<Execution>(*this, std::move(identity), std::move(message.data));
  // Events carried over from the previous execution (addressed to this one) were raised before
  // any event addressed to whatever execution is current: they go first.
  std::stable_partition(first.begin(), first.end(), [this](const InboxEntry& e) {
    return message_of(e).execution_id == row_.execution_id;
  });
  deliver_first_ = std::exchange(first, {});
  return true;
}

// A function that is not registered may be on its way (a rolling upgrade): the instance is
// retried with the shard's back-off a few times before it fails.
const OrchestrationFn* Instance::resolve_function() {
  const auto& identity = execution_->identity();
  const bool named = !identity.version.empty();  // an empty version: the name is unknown
  if (named) {
    if (const auto* fn = services_.orchestrations.find(identity.name, identity.version)) return fn;
  }
  const std::string what =
      named ? "'" + identity.name + "' version " + identity.version : "'" + identity.name + "'";
  if (shard_.failures(id_) < services_.options.unregistered_retries) {
    services_.logger.log(LogLevel::Warn, "instance '{}': {} is not registered", id_, what);
    failed_ = true;
    unwind();
  }
  finish_failed(
      ErrorDetails(ErrorCategory::Configuration,
                   named ? ErrorKind::MissingVersion : ErrorKind::UnregisteredOrchestration,
                   what + " is not registered"));
  return nullptr;
}

void Instance::run_function(const OrchestrationFn* fn) {
  if (fn == nullptr) return;
  OrchestrationContext context(*execution_);
  std::optional<Result<std::string>> result;
  std::optional<ErrorDetails> failure;
  try {
    result.emplace((*fn)(context, execution_->input()));
  } catch (const Unwind&) {
    throw;
  } catch (const NondeterminismDetected& e) {
    failure.emplace(ErrorCategory::Configuration, ErrorKind::Nondeterminism, e.message);
  } catch (const StopRequested& e) {
    failure.emplace(e.details);
  } catch (const ResultError& e) {
    failure.emplace(ErrorCategory::Application, ErrorKind::OrchestrationFailed, e.what());
  } catch (const std::exception& e) {
    failure.emplace(ErrorCategory::Application, ErrorKind::Panicked, e.what());
  } catch (...) {
    failure.emplace(ErrorCategory::Application, ErrorKind::Panicked, "unknown exception");
  }
  if (unwinding_) throw Unwind{};       // the code caught the unwind and returned: ignore it
  execution_->release_deferred_stop();  // a cancel held until the resume still ends it
  if (const auto& divergence = execution_->divergence(); divergence && !failure) {
    failure.emplace(ErrorCategory::Configuration, ErrorKind::Nondeterminism, *divergence);
  }
  if (const auto& stop = execution_->stop_reason();
      stop && (!failure || failure->known_kind() != stop->known_kind())) {
    failure.emplace(*stop);  // the stop wins over what user code made of it
  }
  if (failure) {
    finish_failed(std::move(*failure));
  } else {
    finish(std::move(*result));
  }
}

void Instance::finish(Result<std::string> result) {
  if (execution_->continue_input() && result) {
    continue_as_new();
    return;
  }
  if (!result) {
    finish_failed(
        ErrorDetails(ErrorCategory::Application, ErrorKind::OrchestrationFailed, result.error()));
    return;
  }
  if (result.value().size() > kMaxPayloadBytes) {
    finish_failed(ErrorDetails(ErrorCategory::Application, ErrorKind::OrchestrationFailed,
                               "output of " + std::to_string(result.value().size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(kMaxPayloadBytes) + " bytes"));
    return;
  }
  try {
    execution_->complete(result.value());
  } catch (const NondeterminismDetected& e) {
    finish_failed(ErrorDetails(ErrorCategory::Configuration, ErrorKind::Nondeterminism, e.message));
    return;
  }
  row_.state = InstanceState::Completed;
  row_.suspended = false;
  row_.output = std::move(result).value();
  step_.change_row();
  step_.add(execution_->take_output());
  notify_parent(MessageKind::SubOrchestrationCompleted, {}, row_.output);
  commit_step();
}

// A child's end completes the parent's future, in the same commit as the child's last step.
void Instance::notify_parent(MessageKind kind, std::string error_kind, std::string data) {
  if (row_.parent_id.empty()) return;
  OrchestratorMessage message;
  message.instance_id = row_.parent_id;
  message.execution_id = row_.parent_execution_id;
  message.kind = kind;
  message.source_id = row_.parent_event_id;
  message.visible_at = now();
  message.name = std::move(error_kind);
  message.data = std::move(data);
  step_.send(std::move(message));
}

// Ends this execution and, in the same commit, queues the start of the next one (with the
// events no wait received); the next execution starts through the dispatcher like any other.
void Instance::continue_as_new() {
  std::vector<std::pair<std::string, std::string>> carried;
  try {
    carried = execution_->end_continued();
  } catch (const NondeterminismDetected& e) {
    finish_failed(ErrorDetails(ErrorCategory::Configuration, ErrorKind::Nondeterminism, e.message));
    return;
  }
  const auto& identity = execution_->identity();
  const std::uint64_t next = identity.execution_id + 1;
  StepOutput output = execution_->take_output();
  OrchestratorMessage start;
  start.instance_id = id_;
  start.execution_id = next;
  start.kind = MessageKind::StartOrchestration;
  start.visible_at = now();
  start.name = identity.name;  // an empty version: the latest registered one
  start.data = *execution_->continue_input();
  output.messages.push_back(std::move(start));
  for (auto& [name, data] : carried) {
    OrchestratorMessage event;
    event.instance_id = id_;
    event.execution_id = next;
    event.kind = MessageKind::ExternalEvent;
    event.visible_at = now();
    event.name = std::move(name);
    event.data = std::move(data);
    output.messages.push_back(std::move(event));
  }
  step_.add(std::move(output));
  row_.execution_id = next;
  row_.version.clear();
  row_.suspended = false;
  step_.change_row();
  commit_step();
}

void Instance::finish_failed(ErrorDetails details) {
  services_.logger.log(LogLevel::Warn, "instance '{}' failed: {}", id_, details.display_message());
  record_unseen();
  execution_->fail(details);
  const bool stopped = execution_->stop_reason().has_value();  // cancel, poison, unregistered
  const bool abandon_work = stopped || details.is(ErrorKind::Nondeterminism);
  row_.state = InstanceState::Failed;
  row_.suspended = false;
  row_.error = std::move(details);
  step_.change_row();
  step_.add(execution_->take_output());
  // Work scheduled in this step must not start for a stopped instance.
  const std::set<std::string> unstarted =
      abandon_work ? step_.abandon_work() : std::set<std::string>{};
  if (stopped) cancel_children(unstarted);
  notify_parent(MessageKind::SubOrchestrationFailed, std::string(row_.error.kind()),
                row_.error.display_message());
  commit_step();
  if (stopped) router_.cancel_activities_of(id_);
}

// What the instance holds and its code did not see (the messages that woke it, those that came
// since) goes into the failed attempt's history and is consumed with the failure.
void Instance::record_unseen() {
  Inbox queued = std::exchange(deliver_first_, {});
  std::move(inbox_.begin(), inbox_.end(), std::back_inserter(queued));
  inbox_.clear();
  execution_->record_unseen(hand_over(std::move(queued)));
}

// A stop cascades to the children still running (not to those this step no longer starts):
// a terminate as a terminate, any other stop as a cancel.
void Instance::cancel_children(const std::set<std::string>& unstarted) {
  const auto& stop = execution_->stop_reason();
  const bool terminated = stop && stop->is(ErrorKind::Terminated);
  for (auto& child : execution_->open_children()) {
    if (unstarted.contains(child)) continue;
    OrchestratorMessage message;
    message.instance_id = std::move(child);
    message.kind = terminated ? MessageKind::TerminateRequested : MessageKind::CancelRequested;
    message.visible_at = now();
    message.data = std::string(terminated ? kParentTerminatedReason : kParentCanceledReason);
    step_.send(std::move(message));
  }
}

}  // namespace duroxide::engine
