// SPDX-License-Identifier: MIT
// Typed payloads: inputs and outputs as C++ types, stored as readable JSON through Cereal.
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <cereal/archives/json.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <duroxide/context.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/result.hpp>

// Not part of <duroxide/duroxide.hpp>: include it where typed payloads are used; it needs
// Cereal's headers (Debian: libcereal-dev). A type T works when Cereal can serialize it (give
// it a `serialize(Archive&)` member naming its fields) and it is default-constructible.
// Payloads are JSON objects {"value": ...}, so histories stay readable.

namespace duroxide {

/// Returns: `value` as JSON text.
template <class T>
std::string to_json(const T& value) {
  std::ostringstream out;
  {
    cereal::JSONOutputArchive archive(out, cereal::JSONOutputArchive::Options::NoIndent());
    archive(cereal::make_nvp("value", value));
  }  // the archive completes the text when it goes out of scope
  // Cereal puts each value on a line of its own even without indentation. Newlines inside
  // JSON strings are escaped, so every raw newline is layout and can go.
  std::string text = out.str();
  std::erase(text, '\n');
  return text;
}

/// Returns: the value in JSON text written by to_json, or an error saying why it does not
/// decode.
template <class T>
Result<T> from_json(const std::string& text) {
  try {
    std::istringstream in(text);
    cereal::JSONInputArchive archive(in);
    T value{};
    archive(cereal::make_nvp("value", value));
    return value;
  } catch (const std::exception& e) {
    return Err(std::string("cannot decode payload: ") + e.what());
  }
}

/// Returns: the decoded output of an awaited activity or child, or its error.
template <class T>
Result<T> from_json(const Result<std::string>& result) {
  if (!result) return Err(result.error());
  return from_json<T>(*result);
}

/// Adapts `fn`, any callable (ActivityContext&, In) returning Out or Result<Out>, into an
/// activity over JSON payloads: `.register_activity("Price", typed_activity<Order, double>(fn))`.
/// An input that does not decode fails the activity.
template <class In, class Out, class F>
auto typed_activity(F fn) {
  return
      [fn = std::move(fn)](ActivityContext& ctx, std::string input) mutable -> Result<std::string> {
        auto in = from_json<In>(input);
        if (!in) return Err(in.error());
        Result<Out> out = fn(ctx, std::move(*in));
        if (!out) return Err(out.error());
        return to_json(*out);
      };
}

/// Adapts `fn`, any callable (OrchestrationContext&, In) returning Out or Result<Out>, into an
/// orchestration over JSON payloads. An input that does not decode fails the orchestration.
template <class In, class Out, class F>
auto typed_orchestration(F fn) {
  return [fn = std::move(fn)](OrchestrationContext& ctx,
                              std::string input) mutable -> Result<std::string> {
    auto in = from_json<In>(input);
    if (!in) return Err(in.error());
    Result<Out> out = fn(ctx, std::move(*in));
    if (!out) return Err(out.error());
    return to_json(*out);
  };
}

/// A DurableFuture whose output decodes to Out. Move-only, like DurableFuture.
template <class Out>
class TypedFuture {
 public:
  explicit TypedFuture(DurableFuture future) : future_(std::move(future)) {}

  /// Suspends. Returns: the decoded output, or the activity's error (or the decoding error).
  Result<Out> into_activity() { return from_json<Out>(future_.into_activity()); }
  /// Suspends. Returns: the decoded output of the child, or its error.
  Result<Out> into_sub_orchestration() { return from_json<Out>(future_.into_sub_orchestration()); }
  /// The untyped future, for join() and select(); decode their outputs with from_json<Out>.
  DurableFuture untyped() && { return std::move(future_); }

 private:
  DurableFuture future_;
};

/// Schedules activity `name` with `input` encoded as JSON.
template <class Out, class In>
TypedFuture<Out> schedule_activity_typed(OrchestrationContext& ctx, std::string_view name,
                                         const In& input) {
  return TypedFuture<Out>(ctx.schedule_activity(name, to_json(input)));
}

// Definitions of the typed members declared in registry.hpp and context.hpp, which do not
// include Cereal.

template <class Out, class In>
TypedFuture<Out> OrchestrationContext::schedule_activity_typed(std::string_view name,
                                                               const In& input) {
  return TypedFuture<Out>(schedule_activity(name, to_json(input)));
}

template <class Out, class In>
TypedFuture<Out> OrchestrationContext::schedule_activity_with_retry_typed(std::string_view name,
                                                                          const In& input,
                                                                          RetryPolicy policy) {
  return TypedFuture<Out>(schedule_activity_with_retry(name, to_json(input), std::move(policy)));
}

template <class Out, class In>
TypedFuture<Out> OrchestrationContext::schedule_sub_orchestration_typed(std::string_view name,
                                                                        const In& input) {
  return TypedFuture<Out>(schedule_sub_orchestration(name, to_json(input)));
}

template <class In, class Out, class F>
ActivityRegistry::Builder& ActivityRegistry::Builder::register_activity_typed(std::string name,
                                                                              F fn) {
  return register_activity(std::move(name), typed_activity<In, Out>(std::move(fn)));
}

template <class In, class Out, class F>
OrchestrationRegistry::Builder& OrchestrationRegistry::Builder::register_orchestration_typed(
    std::string name, F fn) {
  return register_orchestration(std::move(name), typed_orchestration<In, Out>(std::move(fn)));
}

template <class In, class Out, class F>
OrchestrationRegistry::Builder& OrchestrationRegistry::Builder::register_versioned_typed(
    std::string name, std::string version, F fn) {
  return register_versioned(std::move(name), std::move(version),
                            typed_orchestration<In, Out>(std::move(fn)));
}

}  // namespace duroxide
