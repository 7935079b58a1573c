// SPDX-License-Identifier: MIT
// Building and looking up the activity and orchestration registries.
#include <duroxide/registry.hpp>

#include <charconv>
#include <stdexcept>

namespace duroxide {

ActivityRegistry::ActivityRegistry() : map_(std::make_shared<const Map>()) {}

ActivityRegistry::Builder& ActivityRegistry::Builder::add(std::string name, ActivityFn fn) {
  entries_.emplace_back(std::move(name), std::move(fn));
  return *this;
}

ActivityRegistry ActivityRegistry::Builder::build() {
  auto map = std::make_shared<Map>();
  for (auto& [name, fn] : entries_) {
    if (name.empty()) throw std::invalid_argument("activity name is empty");
    if (!map->emplace(name, fn).second) {
      throw std::invalid_argument("activity '" + name + "' is registered twice");
    }
  }
  return ActivityRegistry(std::move(map));
}

const ActivityFn* ActivityRegistry::find(std::string_view name) const {
  auto it = map_->find(name);
  return it == map_->end() ? nullptr : &it->second;
}

OrchestrationRegistry::OrchestrationRegistry() : map_(std::make_shared<const Map>()) {}

OrchestrationRegistry::Builder& OrchestrationRegistry::Builder::add(std::string name,
                                                                    std::string version,
                                                                    OrchestrationFn fn) {
  entries_.push_back(Entry{std::move(name), std::move(version), std::move(fn)});
  return *this;
}

OrchestrationRegistry OrchestrationRegistry::Builder::build() {
  auto map = std::make_shared<Map>();
  for (auto& entry : entries_) {
    if (entry.name.empty()) throw std::invalid_argument("orchestration name is empty");
    if (entry.version.empty()) {
      throw std::invalid_argument("orchestration '" + entry.name + "' has an empty version");
    }
    if (!(*map)[entry.name].emplace(entry.version, entry.fn).second) {
      throw std::invalid_argument("orchestration '" + entry.name + "' version " + entry.version +
                                  " is registered twice");
    }
  }
  return OrchestrationRegistry(std::move(map));
}

const OrchestrationFn* OrchestrationRegistry::find(std::string_view name,
                                                   std::string_view version) const {
  auto it = map_->find(name);
  if (it == map_->end()) return nullptr;
  auto fn = it->second.find(std::string(version));
  return fn == it->second.end() ? nullptr : &fn->second;
}

std::string OrchestrationRegistry::latest_version(std::string_view name) const {
  auto it = map_->find(name);
  if (it == map_->end() || it->second.empty()) return {};
  return it->second.rbegin()->first;
}

namespace {
// Splits "1.10.2-rc" into numeric parts {1, 10, 2}; a part that is not a number counts as 0.
std::vector<unsigned long> version_parts(const std::string& version) {
  std::vector<unsigned long> parts;
  std::size_t start = 0;
  while (start <= version.size()) {
    auto end = version.find('.', start);
    if (end == std::string::npos) end = version.size();
    unsigned long value = 0;
    std::from_chars(version.data() + start, version.data() + end, value);
    parts.push_back(value);
    start = end + 1;
  }
  return parts;
}
}  // namespace

// Numeric part by part ("1.10.0" > "1.9.0"), then by text so distinct versions never tie.
bool OrchestrationRegistry::VersionLess::operator()(const std::string& a,
                                                    const std::string& b) const {
  auto pa = version_parts(a), pb = version_parts(b);
  if (pa != pb) return pa < pb;
  return a < b;
}

}  // namespace duroxide
