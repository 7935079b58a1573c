// SPDX-License-Identifier: MIT
// ActivityRegistry and OrchestrationRegistry: the named functions a runtime can run.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <duroxide/context.hpp>
#include <duroxide/result.hpp>

namespace duroxide {

/// An activity: plain blocking code run on a worker thread. Return Err(...) or throw to fail.
using ActivityFn = std::function<Result<std::string>(ActivityContext&, std::string input)>;
/// An orchestration: deterministic code run on a fiber.
using OrchestrationFn =
    std::function<Result<std::string>(OrchestrationContext&, std::string input)>;

/// Activities by name. Immutable once built; cheap to copy (shared). Thread-safe.
class ActivityRegistry {
 public:
  class Builder {
   public:
    /// Registers `fn`: any callable (ActivityContext&, std::string) returning std::string or
    /// Result<std::string>.
    template <class F>
    Builder& register_activity(std::string name, F fn) {
      return add(std::move(name),
                 ActivityFn([fn = std::move(fn)](ActivityContext& ctx, std::string input) mutable {
                   return Result<std::string>(fn(ctx, std::move(input)));
                 }));
    }
    /// Registers `fn`: any callable (ActivityContext&, In) returning Out or Result<Out>, with
    /// input and output as JSON (Cereal). Defined in <duroxide/typed.hpp>: include it to use.
    template <class In, class Out, class F>
    Builder& register_activity_typed(std::string name, F fn);
    /// Throws std::invalid_argument if a name is registered twice or is empty.
    ActivityRegistry build();

   private:
    Builder& add(std::string name, ActivityFn fn);
    std::vector<std::pair<std::string, ActivityFn>> entries_;
  };

  static Builder builder() { return Builder(); }
  /// An empty registry.
  ActivityRegistry();

  /// Returns: the activity, or nullptr if `name` is not registered.
  const ActivityFn* find(std::string_view name) const;

 private:
  using Map = std::map<std::string, ActivityFn, std::less<>>;
  explicit ActivityRegistry(std::shared_ptr<const Map> map) : map_(std::move(map)) {}
  std::shared_ptr<const Map> map_;
};

/// Orchestrations by name and version. Immutable once built; cheap to copy. Thread-safe.
class OrchestrationRegistry {
 public:
  /// The version register_orchestration() gives.
  static constexpr std::string_view kDefaultVersion = "1.0.0";

  class Builder {
   public:
    /// Registers `fn` (any callable (OrchestrationContext&, std::string) returning std::string
    /// or Result<std::string>) as version 1.0.0 of `name`.
    template <class F>
    Builder& register_orchestration(std::string name, F fn) {
      return register_versioned(std::move(name), std::string(kDefaultVersion), std::move(fn));
    }
    /// Registers `fn` as `version` ("major.minor.patch") of `name`.
    template <class F>
    Builder& register_versioned(std::string name, std::string version, F fn) {
      return add(std::move(name), std::move(version),
                 OrchestrationFn(
                     [fn = std::move(fn)](OrchestrationContext& ctx, std::string input) mutable {
                       return Result<std::string>(fn(ctx, std::move(input)));
                     }));
    }
    /// Register `fn`: any callable (OrchestrationContext&, In) returning Out or Result<Out>,
    /// with input and output as JSON (Cereal). Defined in <duroxide/typed.hpp>: include it.
    template <class In, class Out, class F>
    Builder& register_orchestration_typed(std::string name, F fn);
    template <class In, class Out, class F>
    Builder& register_versioned_typed(std::string name, std::string version, F fn);
    /// Throws std::invalid_argument if a name and version are registered twice, or a name or
    /// version is empty.
    OrchestrationRegistry build();

   private:
    Builder& add(std::string name, std::string version, OrchestrationFn fn);
    struct Entry {
      std::string name, version;
      OrchestrationFn fn;
    };
    std::vector<Entry> entries_;
  };

  static Builder builder() { return Builder(); }
  /// An empty registry.
  OrchestrationRegistry();

  /// Returns: version `version` of `name`, or nullptr.
  const OrchestrationFn* find(std::string_view name, std::string_view version) const;
  /// Returns: the highest registered version of `name` (compared numerically part by part),
  /// or an empty string if `name` is not registered.
  std::string latest_version(std::string_view name) const;

 private:
  struct VersionLess {
    bool operator()(const std::string& a, const std::string& b) const;
  };
  using Versions = std::map<std::string, OrchestrationFn, VersionLess>;
  using Map = std::map<std::string, Versions, std::less<>>;
  explicit OrchestrationRegistry(std::shared_ptr<const Map> map) : map_(std::move(map)) {}
  std::shared_ptr<const Map> map_;
};

}  // namespace duroxide
