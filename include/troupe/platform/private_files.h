// The filesystem half of per-actor storage: directories and files only this node's user can
// reach, opened without following symlinks, so the node never touches a file it did not
// create (or one another user could have planted).
// - The storage root must exist, be reached without a symlink in any component, belong to
//   this user (the effective uid) and not be writable by group or others.
// - Directories under it are created 0700; an existing one must be a real directory of this
//   user with no group or other bits.
// - Files are created 0600; an existing one must be a regular file of this user, one link (no
//   hard link to a file elsewhere), no group or other bits.
// Each step is an openat() with O_NOFOLLOW from the directory before it, checked with fstat on
// the opened descriptor. What is left is the window between these checks and SQLite's own open
// by path (which also refuses symlinks, SQLITE_OPEN_NOFOLLOW): only this user can write in
// the 0700 directories, so only this user could race it.
//
// Errors: invalid-argument (a path with '..'), refused (symlink, wrong owner or mode, not a
// directory or regular file), not-found (a missing root), io (a system call failed).
// Thread-safe (no shared state); OwnedFd is move-only and closes its descriptor.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "troupe/base/result.h"

namespace troupe {

class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

Result<OwnedFd> open_storage_root(const std::string& path);

// `path` is `name`'s full path, for messages.
Result<OwnedFd> open_private_subdir(int parent, std::string_view name, const std::string& path,
                                    bool create);

// Creates the file (when `create`) or checks the existing one. Returns whether it existed.
Result<bool> ensure_private_file(int dir, std::string_view name, const std::string& path,
                                 bool create);

// If `name` exists in `dir`, it must pass ensure_private_file's checks (for SQLite's WAL and
// journal files, which SQLite creates itself with the database file's mode). Returns whether
// it exists.
Result<bool> check_private_file_if_present(int dir, std::string_view name, const std::string& path);

}  // namespace troupe
