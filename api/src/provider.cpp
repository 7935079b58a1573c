// SPDX-License-Identifier: MIT
// The blocking convenience wrapper over Provider::commit.
#include <duroxide/provider.hpp>

#include <future>

namespace duroxide {

Result<void, Error> Provider::commit_sync(WriteBatch batch) {
  std::promise<Result<void, Error>> done;
  auto result = done.get_future();
  commit(std::move(batch), [&done](Result<void, Error> r) { done.set_value(std::move(r)); });
  return result.get();
}

}  // namespace duroxide
