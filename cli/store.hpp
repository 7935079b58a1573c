// SPDX-License-Identifier: MIT
// Opening the store a verb works on, and the one line on stderr that reports a failure.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <duroxide/error.hpp>
#include <duroxide/lmdb_provider.hpp>
#include <duroxide/result.hpp>

#include "cli/verb.hpp"

namespace duroxide::cli {

/// Opens the store at `path`. With StoreUse::Existing a missing path is an error and nothing is
/// created (no store file, no -lock file); so is an empty file or a directory. When the
/// provider refuses the file, a -lock file that the attempt created is removed again.
/// Returns: the provider, or the one-line reason (without the "duroxide: " prefix).
Result<std::shared_ptr<LmdbProvider>, std::string> open_store(const std::string& path,
                                                              StoreUse use);

/// Returns: `error` as one line that names the cause, e.g. "store is damaged: ..." for
/// Corruption. Line breaks in the message become spaces.
std::string describe(const Error& error);

/// Writes "duroxide: {what}" as one line on stderr. Returns: kExitFailed.
int fail(std::string_view what);
/// Writes describe(error) as one line on stderr, after `context` when it is not empty
/// ("{context}: {description}"). Returns: kExitFailed.
int fail(const Error& error, std::string_view context = {});

}  // namespace duroxide::cli
