// SPDX-License-Identifier: MIT
// Opening the store a verb works on, and the one line on stderr that reports a failure.
#include "cli/store.hpp"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include <fmt/core.h>

namespace duroxide::cli {
namespace {

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::string quoted(const std::string& path) {
  std::string out = "'";
  out += path;
  out += '\'';
  return out;
}

// Refuses what LmdbProvider::open would turn into a new store or cannot open as one, before
// it touches the file system. Returns: the reason, or an empty string when the path may open.
std::string precheck(const std::string& path, StoreUse use) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return use == StoreUse::Existing ? "store " + quoted(path) + " does not exist" : "";
  }
  if (ec) return "cannot open store " + quoted(path) + ": " + ec.message();
  if (status.type() == fs::file_type::directory) {
    return quoted(path) + " is not a duroxide store (it is a directory)";
  }
  // LMDB makes an empty file into a new store; a verb must not write into a file it did not
  // create, and an empty file holds no instances anyway.
  if (status.type() == fs::file_type::regular && fs::file_size(path, ec) == 0 && !ec) {
    return quoted(path) + " is not a duroxide store (the file is empty)";
  }
  return "";
}

}  // namespace

// The precheck gives the friendlier message; create_if_missing makes sure that a verb on an
// existing store never creates one, even if the file disappears in between.
Result<std::shared_ptr<LmdbProvider>, std::string> open_store(const std::string& path,
                                                              StoreUse use) {
  if (path.empty()) return Err(std::string("the store path is empty"));
  if (auto refused = precheck(path, use); !refused.empty()) return Err(std::move(refused));
  const std::string lock = path + "-lock";
  std::error_code ec;
  const bool had_lock = std::filesystem::exists(lock, ec);
  LmdbOptions options;
  options.create_if_missing = use == StoreUse::CreateIfMissing;
  auto store = LmdbProvider::open(path, options);
  if (!store) {
    if (!had_lock) std::filesystem::remove(lock, ec);
    return Err(describe(store.error()));
  }
  return std::move(store).value();
}

std::string describe(const Error& error) {
  switch (error.code) {
    case ErrorCode::Corruption:
      return one_line("store is damaged: " + error.message);
    case ErrorCode::Incompatible:
    case ErrorCode::NotFound:
    case ErrorCode::InvalidArgument:
    case ErrorCode::AlreadyExists:
      return one_line(error.message);
    default:
      return one_line(error.to_string());
  }
}

int fail(std::string_view what) {
  std::fputs(fmt::format("duroxide: {}\n", what).c_str(), stderr);
  return kExitFailed;
}

int fail(const Error& error, std::string_view context) {
  if (context.empty()) return fail(describe(error));
  return fail(fmt::format("{}: {}", context, describe(error)));
}

}  // namespace duroxide::cli
