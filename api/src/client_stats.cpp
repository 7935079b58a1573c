// SPDX-License-Identifier: MIT
// Client::get_store_stats.
#include <duroxide/client.hpp>

namespace duroxide {

Result<StoreStats, Error> Client::get_store_stats() {
  return Err(Error{ErrorCode::Internal, "get_store_stats is not implemented yet"});
}

}  // namespace duroxide
