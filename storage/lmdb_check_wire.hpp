// SPDX-License-Identifier: MIT
// The bytes check_store_file's child sends its parent over a pipe: stages, then a report or an
// error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/result.hpp>
#include <duroxide/store_check.hpp>

namespace duroxide::storage {

// The stream is a sequence of messages, each a tag byte and its body, integers u64le:
//   'S' string                         -- the child begins to read this (a StoreProblem::where)
//   'R' records_read instances history_events queued_messages queued_activities
//       problem_count n n*(where:string what:string)   -- the report; ends the stream
//   'E' code:byte string               -- an Error (code: ErrorCode's value); ends the stream
// string := length:u64le length*byte. Both ends are one build: there is no version.

std::string encode_stage(std::string_view where);
std::string encode_result(const Result<StoreCheckReport, Error>& result);

/// What the parent read from a child.
struct ChildStream {
  std::optional<std::string> last_stage;
  /// The report or error the child sent; nullopt if the stream ended before one.
  std::optional<Result<StoreCheckReport, Error>> result;
  /// The bytes are not a stream of the form above (or continue after the result).
  bool malformed = false;
};

/// Returns: the messages in `bytes`. Never reads past `bytes`, never allocates more than its
/// size.
ChildStream decode_child_stream(std::string_view bytes);

}  // namespace duroxide::storage
