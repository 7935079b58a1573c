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
#include <string>
#include <utility>

namespace duroxide::storage::platform {
namespace {

Error system_error(int err) { return Error{ErrorCode::IOError, std::strerror(err)}; }

}  // namespace

Result<FileId, Error> file_id(const std::string& path) {
  struct stat file;
  if (::stat(path.c_str(), &file) != 0) return Err(system_error(errno));
  return FileId{static_cast<std::uint64_t>(file.st_dev), static_cast<std::uint64_t>(file.st_ino)};
}

Result<bool, Error> file_exists(const std::string& path) {
  struct stat file;
  if (::stat(path.c_str(), &file) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return Err(system_error(errno));
}

Result<NewFile, Error> NewFile::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return Err(Error{ErrorCode::AlreadyExists, "it exists"});
    return Err(system_error(errno));
  }
  return NewFile(path, fd);
}

Result<void, Error> NewFile::truncate() {
  if (::ftruncate(handle_, 0) != 0 || ::lseek(handle_, 0, SEEK_SET) != 0) {
    return Err(system_error(errno));
  }
  return {};
}

Result<void, Error> NewFile::finish() {
  if (::fsync(handle_) != 0) {
    const int err = errno;
    abandon();
    return Err(system_error(err));
  }
  if (::close(std::exchange(handle_, kNone)) != 0) {
    const int err = errno;
    ::unlink(path_.c_str());
    return Err(system_error(err));
  }
  // The directory entry too, so that the file itself survives a crash.
  const auto slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path_.substr(0, slash);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: some file systems refuse fsync of a directory
    ::close(dir_fd);
  }
  return {};
}

void NewFile::abandon() {
  if (handle_ == kNone) return;
  ::close(std::exchange(handle_, kNone));
  ::unlink(path_.c_str());
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
