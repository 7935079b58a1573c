// SPDX-License-Identifier: MIT
// LmdbProvider: the Provider that keeps all durable state in one LMDB file.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <duroxide/error.hpp>
#include <duroxide/provider.hpp>
#include <duroxide/result.hpp>

namespace duroxide {

/// Tuning of an LMDB store. The defaults suit a desktop program.
struct LmdbOptions {
  /// Initial size of the memory map. The map grows (doubling) when a commit finds it full.
  std::size_t map_size = std::size_t{10} << 20;
  /// The map never grows past this; a commit that would need more fails with IOError.
  std::size_t max_map_size = std::size_t{1} << 40;
  /// fsync every commit (true) or leave flushing to the OS (false: a power loss may lose the
  /// latest commits, never corrupt the file).
  bool sync = true;
  /// Reader slots for concurrent read transactions (LMDB's default of 126 is too few).
  unsigned max_readers = 1024;
  /// How often an idle store checks for commits made by another process, to wake this process's
  /// runtime for work a client elsewhere wrote. Zero disables the check.
  std::chrono::milliseconds foreign_change_poll{200};
  /// Most batches gathered into one transaction by the group committer.
  std::size_t max_batches_per_commit = 1024;
  /// Create the store when no file exists at the path (true), or fail: open then returns
  /// NotFound naming the path, and creates nothing (neither the file nor its -lock file).
  /// open_temporary always creates.
  bool create_if_missing = true;
};

/// Provider over one LMDB file (plus LMDB's `<path>-lock` file beside it).
///
/// All writes go through one writer thread that gathers the batches queued at that moment
/// into one transaction and one fsync (group commit). Readers never block the writer.
/// The file carries a format version checked on open (see storage/FORMAT.md).
///
/// Instance ids may be 1 to 493 bytes (LMDB's key limit). fetch_messages/fetch_activities
/// return Busy unless claim_dispatch() succeeded on this provider.
///
/// Thread safety: all methods may be called from any thread.
class LmdbProvider : public Provider {
 public:
  /// Opens (creating if missing) the store file at `path`. Opening a file that this process
  /// has open already returns the same provider (LMDB forbids two environments on one file in
  /// a process); the options of the later call are then ignored.
  /// Returns: Incompatible for a file that is not a duroxide store or has another format
  /// version, Corruption for a damaged or truncated one, IOError if the OS refuses,
  /// InvalidArgument for an empty path or a map_size below 64 KiB, NotFound for a missing file
  /// with LmdbOptions::create_if_missing false (nothing is created then).
  static Result<std::shared_ptr<LmdbProvider>, Error> open(std::string path);
  static Result<std::shared_ptr<LmdbProvider>, Error> open(std::string path, LmdbOptions options);
  /// Opens a fresh store in a new temporary directory, removed when the provider is destroyed.
  static Result<std::shared_ptr<LmdbProvider>, Error> open_temporary();
  static Result<std::shared_ptr<LmdbProvider>, Error> open_temporary(LmdbOptions options);

  /// Returns: the path of the store file.
  virtual const std::string& path() const = 0;

  /// Writes a consistent, compacted copy of the store to `destination_path` (LMDB's compacting
  /// copy), while runtimes and clients keep working. The copy opens as a store and holds every
  /// commit acknowledged before the call began. Returns: AlreadyExists if the destination
  /// exists, IOError if it cannot be written.
  virtual Result<void, Error> backup(std::string destination_path) = 0;
};

}  // namespace duroxide
