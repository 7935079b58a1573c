// SPDX-License-Identifier: MIT
// The POSIX (Linux) implementation of storage/platform/platform.hpp: stat, flock, mkdtemp.
#include "storage/platform/platform.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace duroxide::storage::platform {
namespace {

Error system_error(int err) { return Error{ErrorCode::IOError, std::strerror(err)}; }

}  // namespace

Result<FileId, Error> file_id(const std::string& path) {
  struct stat file;
  if (::stat(path.c_str(), &file) != 0) return Err(system_error(errno));
  return FileId{static_cast<std::uint64_t>(file.st_dev), static_cast<std::uint64_t>(file.st_ino)};
}

Result<std::uint64_t, Error> file_size(FileHandle handle) {
  struct stat file;
  if (::fstat(handle, &file) != 0) return Err(system_error(errno));
  return static_cast<std::uint64_t>(file.st_size);
}

std::uint64_t process_id() { return static_cast<std::uint64_t>(::getpid()); }

Result<std::string, Error> make_temp_directory(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" +
                    std::string(prefix) + "XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    return Err(Error{ErrorCode::IOError,
                     "cannot create a temporary directory '" + dir + "': " + std::strerror(errno)});
  }
  return dir;
}

Result<LockFile, Error> LockFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Err(system_error(errno));
  return LockFile(fd);
}

// flock locks belong to the open file description, independent of LMDB's fcntl locks on the
// same file, so they exclude other processes and other descriptors of this one.
Result<bool, Error> LockFile::try_lock() {
  if (::flock(handle_, LOCK_EX | LOCK_NB) == 0) return true;
  if (errno == EWOULDBLOCK) return false;
  return Err(system_error(errno));
}

void LockFile::unlock() {
  // Cannot fail for a descriptor that holds the lock; and closing it would give it up anyway.
  static_cast<void>(::flock(handle_, LOCK_UN));
}

void LockFile::close() {
  if (handle_ == kNone) return;
  static_cast<void>(::close(handle_));  // nothing was written through it: no data to lose
  handle_ = kNone;
}

}  // namespace duroxide::storage::platform
