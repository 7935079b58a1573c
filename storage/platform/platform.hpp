// SPDX-License-Identifier: MIT
// What a port of storage must provide: file identity and size, the dispatch lock, temp dirs.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <duroxide/error.hpp>
#include <duroxide/result.hpp>

// Only storage/platform/*.cpp include operating-system headers (test/layering_test.sh checks
// it). storage/platform/posix.cpp implements this header for Linux, the one platform that is
// tested; a port to another system adds its own .cpp and selects it in storage/meson.build.
// LMDB itself is portable; the durability it gives (fsync of the data file) is its own.
namespace duroxide::storage::platform {

/// LMDB's mdb_filehandle_t on this platform (a descriptor here; a HANDLE on Windows). Checked
/// against <lmdb.h> in storage/lmdb_env.cpp.
using FileHandle = int;

/// The identity of a file (device and inode here): two paths name one file when their ids are
/// equal. A plain value type.
struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  friend auto operator<=>(const FileId&, const FileId&) = default;
};

/// Returns: the id of the file at `path`; IOError with the system's reason if it cannot be
/// inspected (no such file, no permission).
Result<FileId, Error> file_id(const std::string& path);

/// Returns: whether something exists at `path`; IOError with the system's reason if that
/// cannot be told (no permission to look).
Result<bool, Error> file_exists(const std::string& path);

/// Returns: the size in bytes of the open file `file`; IOError with the system's reason.
Result<std::uint64_t, Error> file_size(FileHandle file);

/// Returns: an id of the calling process; a forked child gets another one.
std::uint64_t process_id();

/// Creates a new, empty, private directory in the system's directory for temporary files
/// ($TMPDIR if set and not empty, else /tmp here), named `<prefix>` plus a unique suffix.
/// Returns: its path; IOError "cannot create a temporary directory '<path>': <reason>".
Result<std::string, Error> make_temp_directory(std::string_view prefix);

/// An open descriptor of a file that can hold an exclusive, non-blocking advisory lock: the
/// single-runtime claim on a store (flock on `<path>-lock` here). The lock belongs to this
/// descriptor: another process, and another descriptor of the same file in this process, cannot
/// take it meanwhile. It is independent of the locks LMDB takes on the same file, and closing
/// the descriptor must not drop those (LMDB uses fcntl locks, which closing any descriptor of
/// the file in the process drops: a LockFile is closed only after the LMDB environment).
///
/// Thread safety: none; the owner serialises calls. Move-only.
class LockFile {
 public:
  /// Opens the existing file at `path` for locking. Returns: IOError with the system's reason.
  static Result<LockFile, Error> open(const std::string& path);

  LockFile() = default;
  /// Closes the descriptor (see close()).
  ~LockFile() { close(); }
  LockFile(LockFile&& other) noexcept : handle_(std::exchange(other.handle_, kNone)) {}
  LockFile& operator=(LockFile&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, kNone);
    }
    return *this;
  }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

  /// Takes the exclusive lock without waiting. Returns: true if it is now held by this
  /// descriptor, false if someone else holds it; IOError with the system's reason otherwise.
  /// Requires: open, and the lock not held already.
  Result<bool, Error> try_lock();
  /// Gives the lock up. Requires: it is held.
  void unlock();
  /// Closes the descriptor (giving up the lock); does nothing if it is closed already.
  void close();

 private:
  static constexpr FileHandle kNone = -1;
  explicit LockFile(FileHandle handle) : handle_(handle) {}
  FileHandle handle_ = kNone;
};

/// A file this process creates and fills (a backup): created only where nothing exists, and
/// removed again unless finish() made it durable.
/// Thread safety: none; the owner serialises calls. Move-only.
class NewFile {
 public:
  /// Creates the file at `path` for writing, with mode 0644, failing if anything exists there
  /// (O_EXCL here). Returns: AlreadyExists if it does, IOError with the system's reason else.
  static Result<NewFile, Error> create(const std::string& path);

  NewFile() = default;
  /// Closes and removes the file unless finish() succeeded.
  ~NewFile() { abandon(); }
  NewFile(NewFile&& other) noexcept
      : path_(std::move(other.path_)), handle_(std::exchange(other.handle_, kNone)) {}
  NewFile& operator=(NewFile&& other) noexcept {
    if (this != &other) {
      abandon();
      path_ = std::move(other.path_);
      handle_ = std::exchange(other.handle_, kNone);
    }
    return *this;
  }
  NewFile(const NewFile&) = delete;
  NewFile& operator=(const NewFile&) = delete;

  FileHandle handle() const { return handle_; }
  /// Empties the file (to write it again from the start). Returns: IOError with the reason.
  Result<void, Error> truncate();
  /// Flushes the file and its directory entry to disk and closes it; it stays. Returns:
  /// IOError with the system's reason (the file is then removed).
  Result<void, Error> finish();

 private:
  static constexpr FileHandle kNone = -1;
  NewFile(std::string path, FileHandle handle) : path_(std::move(path)), handle_(handle) {}
  void abandon();
  std::string path_;
  FileHandle handle_ = kNone;
};

}  // namespace duroxide::storage::platform
