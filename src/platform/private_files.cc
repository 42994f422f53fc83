#include "troupe/platform/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace troupe {
namespace {

Error io_error(const std::string& what) {
  return Error{BaseErrc::kIo, what + ": " + std::strerror(errno)};
}

std::string mode_string(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Result<void> check_owner(const struct stat& st, const std::string& path) {
  if (st.st_uid != ::geteuid()) {
    return Error{BaseErrc::kRefused,
                 path + " belongs to another user (uid " + std::to_string(st.st_uid) + ")"};
  }
  return {};
}

// Why openat(dir, name, O_DIRECTORY | O_NOFOLLOW) failed: a symlink gives ENOTDIR (or ELOOP),
// like a plain file does, so look at what is there.
Error open_error(int dir, const std::string& name, const std::string& path) {
  const int saved = errno;
  struct stat st {};
  if ((saved == ENOTDIR || saved == ELOOP) &&
      ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return Error{BaseErrc::kRefused, path + " is a symlink"};
  }
  errno = saved;
  if (errno == ELOOP) return Error{BaseErrc::kRefused, path + " is a symlink"};
  if (errno == ENOTDIR) return Error{BaseErrc::kRefused, path + " is not a directory"};
  if (errno == ENOENT) return Error{BaseErrc::kNotFound, path + " does not exist"};
  return io_error("open " + path);
}

Result<void> check_private_file_stat(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode)) return Error{BaseErrc::kRefused, path + " is not a regular file"};
  if (Result<void> ok = check_owner(st, path); !ok.ok()) return ok;
  if ((st.st_mode & 077) != 0) {
    return Error{BaseErrc::kRefused,
                 path + " has mode " + mode_string(st.st_mode) + ": it must be 0600"};
  }
  if (st.st_nlink != 1) {
    return Error{BaseErrc::kRefused,
                 path + " has " + std::to_string(st.st_nlink) + " hard links: it must have one"};
  }
  return {};
}

}  // namespace

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<OwnedFd> open_storage_root(const std::string& path) {
  if (path.empty()) return Error{BaseErrc::kInvalidArgument, "storage root is empty"};
  // Walk from / (or the working directory) one component at a time, refusing a symlink in
  // any of them: SQLite refuses one anywhere in a store's path too (SQLITE_OPEN_NOFOLLOW), so
  // this says so at start rather than at the first store.
  OwnedFd dir(::open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return io_error("open storage root " + path);
  std::string walked = path[0] == '/' ? "/" : "";
  std::string_view rest = path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return Error{BaseErrc::kInvalidArgument, "storage root " + path + " has a '..' component"};
    }
    const std::string name(part);
    walked += name;
    OwnedFd next(
        ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return open_error(dir.get(), name, walked);
    dir = std::move(next);
    walked += '/';
  }
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0) return io_error("stat storage root " + path);
  if (Result<void> ok = check_owner(st, "storage root " + path); !ok.ok()) return ok.error();
  if ((st.st_mode & 022) != 0) {
    return Error{BaseErrc::kRefused, "storage root " + path + " has mode " +
                                         mode_string(st.st_mode) +
                                         ": group and others may not write to it"};
  }
  return dir;
}

Result<OwnedFd> open_private_subdir(int parent, std::string_view name, const std::string& path,
                                    bool create) {
  const std::string name_z(name);
  if (create && ::mkdirat(parent, name_z.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("create " + path);
  }
  OwnedFd dir(::openat(parent, name_z.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) return open_error(parent, name_z, path);
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0) return io_error("stat " + path);
  if (Result<void> ok = check_owner(st, path); !ok.ok()) return ok.error();
  if ((st.st_mode & 077) != 0) {
    return Error{BaseErrc::kRefused,
                 path + " has mode " + mode_string(st.st_mode) + ": it must be 0700"};
  }
  return dir;
}

Result<bool> ensure_private_file(int dir, std::string_view name, const std::string& path,
                                 bool create) {
  const std::string name_z(name);
  const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  bool existed = true;
  OwnedFd fd(::openat(dir, name_z.c_str(), flags));
  if (fd.get() < 0 && errno == ENOENT && create) {
    fd = OwnedFd(::openat(dir, name_z.c_str(), flags | O_CREAT | O_EXCL, 0600));
    existed = false;
  }
  if (fd.get() < 0) {
    if (errno == ELOOP) return Error{BaseErrc::kRefused, path + " is a symlink"};
    if (errno == ENOENT) return Error{BaseErrc::kNotFound, path + " does not exist"};
    return io_error("open " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("stat " + path);
  if (Result<void> ok = check_private_file_stat(st, path); !ok.ok()) return ok.error();
  return existed;
}

Result<bool> check_private_file_if_present(int dir, std::string_view name,
                                           const std::string& path) {
  struct stat st {};
  if (::fstatat(dir, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return io_error("stat " + path);
  }
  if (S_ISLNK(st.st_mode)) return Error{BaseErrc::kRefused, path + " is a symlink"};
  if (Result<void> ok = check_private_file_stat(st, path); !ok.ok()) return ok.error();
  return true;
}

}  // namespace troupe
