// SPDX-License-Identifier: MIT
// The bytes check_store_file's child sends its parent: encoder and bounds-checked decoder.
#include "storage/lmdb_check_wire.hpp"

#include <cstdint>
#include <utility>

namespace duroxide::storage {
namespace {

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

void put_string(std::string& out, std::string_view text) {
  put_u64(out, text.size());
  out += text;
}

/// Reads from the front of its input; any read past the end sets failed() and returns zeros.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool empty() const { return rest_.empty(); }
  bool failed() const { return failed_; }

  std::uint8_t byte() {
    if (rest_.empty()) return fail(), 0;
    const auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  std::uint64_t u64() {
    if (rest_.size() < 8) return fail(), 0;
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
      value |= std::uint64_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
    }
    rest_.remove_prefix(8);
    return value;
  }
  std::string string() {
    const std::uint64_t size = u64();
    if (failed_ || size > rest_.size()) return fail(), std::string();
    std::string out(rest_.substr(0, size));
    rest_.remove_prefix(size);
    return out;
  }

 private:
  void fail() {
    failed_ = true;
    rest_ = {};
  }
  std::string_view rest_;
  bool failed_ = false;
};

StoreCheckReport read_report(Reader& in) {
  StoreCheckReport report;
  report.records_read = in.u64();
  report.instances = in.u64();
  report.history_events = in.u64();
  report.queued_messages = in.u64();
  report.queued_activities = in.u64();
  report.problem_count = in.u64();
  const std::uint64_t n = in.u64();
  // Each problem takes at least 16 bytes: a count beyond that is malformed, never allocated.
  for (std::uint64_t i = 0; i < n && !in.failed(); ++i) {
    StoreProblem problem;
    problem.where = in.string();
    problem.what = in.string();
    if (!in.failed()) report.problems.push_back(std::move(problem));
  }
  return report;
}

}  // namespace

std::string encode_stage(std::string_view where) {
  std::string out("S");
  put_string(out, where);
  return out;
}

std::string encode_result(const Result<StoreCheckReport, Error>& result) {
  std::string out;
  if (!result) {
    out += 'E';
    out += static_cast<char>(result.error().code);
    put_string(out, result.error().message);
    return out;
  }
  const StoreCheckReport& report = *result;
  out += 'R';
  for (const std::uint64_t n :
       {report.records_read, report.instances, report.history_events, report.queued_messages,
        report.queued_activities, report.problem_count, std::uint64_t{report.problems.size()}}) {
    put_u64(out, n);
  }
  for (const StoreProblem& problem : report.problems) {
    put_string(out, problem.where);
    put_string(out, problem.what);
  }
  return out;
}

ChildStream decode_child_stream(std::string_view bytes) {
  ChildStream stream;
  Reader in(bytes);
  while (!in.empty() && !stream.result) {
    const std::uint8_t tag = in.byte();
    if (tag == 'S') {
      std::string where = in.string();
      if (!in.failed()) stream.last_stage = std::move(where);
    } else if (tag == 'R') {
      StoreCheckReport report = read_report(in);
      if (!in.failed()) stream.result = std::move(report);
    } else if (tag == 'E') {
      const std::uint8_t code = in.byte();
      std::string message = in.string();
      if (code > static_cast<std::uint8_t>(ErrorCode::Internal)) break;
      if (!in.failed())
        stream.result = Err(Error{static_cast<ErrorCode>(code), std::move(message)});
    } else {
      break;
    }
    if (in.failed()) break;
  }
  stream.malformed = in.failed() || !in.empty();
  return stream;
}

}  // namespace duroxide::storage
