// SPDX-License-Identifier: MIT
// OrchestrationContext and DurableFuture: the public face of an Execution.
#include <duroxide/context.hpp>

#include <cinttypes>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include <duroxide/client.hpp>

#include "engine/execution.hpp"

namespace duroxide {
namespace {

engine::Execution& checked(engine::Execution* execution) {
  if (execution == nullptr) throw std::logic_error("DurableFuture used after it was moved");
  return *execution;
}

DurableOutput expect(DurableOutput output, DurableOutput::Kind kind, const char* call) {
  if (output.kind != kind) {
    throw std::logic_error(fmt::format("{} called on a future of another kind", call));
  }
  return output;
}

// A 64-bit mix (splitmix64 finalizer): spreads the seed's bits over the whole word.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_text(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace

Result<std::string> DurableFuture::into_activity() {
  return expect(checked(execution_).await(index_), DurableOutput::Kind::Activity, "into_activity()")
      .result;
}

void DurableFuture::into_timer() {
  expect(checked(execution_).await(index_), DurableOutput::Kind::Timer, "into_timer()");
}

std::string DurableFuture::into_event() {
  return expect(checked(execution_).await(index_), DurableOutput::Kind::External, "into_event()")
      .result.value();
}

Result<std::string> DurableFuture::into_sub_orchestration() {
  return expect(checked(execution_).await(index_), DurableOutput::Kind::SubOrchestration,
                "into_sub_orchestration()")
      .result;
}

DurableOutput DurableFuture::get() { return checked(execution_).await(index_); }

void DurableFuture::drop() noexcept {
  if (execution_ != nullptr) std::exchange(execution_, nullptr)->drop(index_);
}

DurableFuture OrchestrationContext::schedule_activity(std::string_view name, std::string input) {
  return execution_.schedule_activity(name, std::move(input));
}

DurableFuture OrchestrationContext::schedule_timer(std::chrono::milliseconds delay) {
  return execution_.schedule_timer(delay);
}

DurableFuture OrchestrationContext::schedule_wait(std::string_view event_name) {
  return execution_.schedule_wait(event_name);
}

DurableFuture OrchestrationContext::schedule_activity_with_retry(std::string_view name,
                                                                 std::string input,
                                                                 RetryPolicy policy) {
  return execution_.schedule_activity_with_retry(name, std::move(input), std::move(policy));
}

DurableFuture OrchestrationContext::schedule_sub_orchestration(std::string_view name,
                                                               std::string input) {
  return execution_.schedule_sub_orchestration(name, {}, std::move(input));
}

DurableFuture OrchestrationContext::schedule_sub_orchestration_with_id(std::string_view name,
                                                                       std::string_view instance_id,
                                                                       std::string input) {
  if (instance_id.empty()) {
    throw std::invalid_argument("schedule_sub_orchestration_with_id() needs a non-empty id");
  }
  return execution_.schedule_sub_orchestration(name, instance_id, std::move(input));
}

void OrchestrationContext::schedule_orchestration(std::string_view name,
                                                  std::string_view instance_id, std::string input) {
  if (instance_id.empty()) {
    throw std::invalid_argument("schedule_orchestration() needs a non-empty id");
  }
  execution_.schedule_orchestration(name, instance_id, std::move(input));
}

// Awaits whichever completes first until all have: every retried activity among them keeps
// advancing, instead of waiting for the ones before it.
std::vector<DurableOutput> OrchestrationContext::join(std::vector<DurableFuture> futures) {
  std::vector<std::size_t> indexes;  // the futures' calls
  indexes.reserve(futures.size());
  for (const auto& future : futures) {
    if (&checked(future.execution_) != &execution_) {
      throw std::invalid_argument("join() got a future of another orchestration");
    }
    indexes.push_back(future.index_);
  }
  return execution_.await_all(indexes);
}

std::pair<std::size_t, DurableOutput> OrchestrationContext::select2(DurableFuture a,
                                                                    DurableFuture b) {
  std::vector<DurableFuture> futures;
  futures.push_back(std::move(a));
  futures.push_back(std::move(b));
  return select(std::move(futures));
}

std::pair<std::size_t, DurableOutput> OrchestrationContext::select(
    std::vector<DurableFuture> futures) {
  if (futures.empty()) throw std::invalid_argument("select() needs at least one future");
  std::vector<std::size_t> indexes;
  indexes.reserve(futures.size());
  for (auto& future : futures) {
    if (&checked(future.execution_) != &execution_) {
      throw std::invalid_argument("select() got a future of another orchestration");
    }
    indexes.push_back(future.index_);
  }
  return execution_.await_first(indexes);
}

void OrchestrationContext::trace(LogLevel level, std::string_view message) {
  const auto& logger = execution_.logger();
  if (execution_.is_replaying() || !logger.enabled(level)) return;
  logger.write(level, fmt::format("[{}] {}", execution_.identity().instance_id, message));
}

void OrchestrationContext::trace_info(std::string_view message) { trace(LogLevel::Info, message); }
void OrchestrationContext::trace_warn(std::string_view message) { trace(LogLevel::Warn, message); }
void OrchestrationContext::trace_error(std::string_view message) {
  trace(LogLevel::Error, message);
}
void OrchestrationContext::trace_debug(std::string_view message) {
  trace(LogLevel::Debug, message);
}

std::string OrchestrationContext::new_guid() {
  const auto& id = execution_.identity();
  const std::uint64_t seed = hash_text(id.instance_id) ^ mix(id.execution_id) ^
                             mix(static_cast<std::uint64_t>(execution_.start_time()));
  const std::uint64_t counter = execution_.next_guid_seed();
  std::uint64_t hi = mix(seed ^ mix(counter));
  std::uint64_t lo = mix(hi ^ counter);
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4 layout
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

Result<std::string> OrchestrationContext::continue_as_new(std::string input) {
  execution_.continue_as_new(std::move(input));
  return std::string();
}

void OrchestrationContext::set_custom_status(std::string status) {
  if (status.size() > kMaxPayloadBytes) {
    throw std::invalid_argument(
        fmt::format("custom status of {} bytes is over the limit of {} bytes", status.size(),
                    kMaxPayloadBytes));
  }
  execution_.set_custom_status(std::move(status));
}

std::chrono::system_clock::time_point OrchestrationContext::utc_now() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(execution_.turn_time()));
}

const std::string& OrchestrationContext::instance_id() const {
  return execution_.identity().instance_id;
}
std::uint64_t OrchestrationContext::execution_id() const {
  return execution_.identity().execution_id;
}
const std::string& OrchestrationContext::orchestration_name() const {
  return execution_.identity().name;
}
const std::string& OrchestrationContext::orchestration_version() const {
  return execution_.identity().version;
}
bool OrchestrationContext::is_replaying() const { return execution_.is_replaying(); }

}  // namespace duroxide
