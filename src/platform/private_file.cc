#include "troupe/platform/private_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace troupe {
namespace {

Error io_error(const std::string& what) {
  return Error{BaseErrc::kIo, what + ": " + std::strerror(errno)};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Opens DIR/name for reading and checks it against the rule; returns the descriptor and size.
struct CheckedFile {
  int fd = -1;
  std::size_t size = 0;
};
Result<CheckedFile> open_checked(const PrivateDir& dir, std::string_view name,
                                 const PrivateFileRule& rule) {
  const std::string path = dir.path_of(name);
  const std::string name_z(name);
  const int fd = ::openat(dir.fd(), name_z.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error{BaseErrc::kNotFound, "no file " + path};
    if (errno == ELOOP) return Error{BaseErrc::kRefused, path + " is a symbolic link"};
    return io_error("open " + path);
  }
  Fd guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error{BaseErrc::kRefused, path + " is not a regular file"};
  // A second link to it elsewhere would let whoever owns that name see or swap a key's record.
  if (st.st_nlink != 1) {
    return Error{BaseErrc::kRefused, path + " has " + std::to_string(st.st_nlink) +
                                         " hard links (a private file has one)"};
  }
  if (st.st_uid != rule.owner) {
    return Error{BaseErrc::kRefused,
                 path + " belongs to another user (uid " + std::to_string(st.st_uid) + ")"};
  }
  if ((st.st_mode & 077) != 0) {
    return Error{BaseErrc::kRefused,
                 path + " has mode " + mode_text(st.st_mode) + ": it must be 0600"};
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (st.st_size < 0 || size < rule.min_bytes || size > rule.max_bytes) {
    const std::string want =
        rule.min_bytes == rule.max_bytes
            ? std::to_string(rule.min_bytes)
            : std::to_string(rule.min_bytes) + ".." + std::to_string(rule.max_bytes);
    return Error{BaseErrc::kRefused,
                 path + " is " + std::to_string(st.st_size) + " bytes (expected " + want + ")"};
  }
  return CheckedFile{guard.release(), size};
}

// Reads exactly `size` bytes; a file that changed size meanwhile is refused.
Result<void> read_exact(int fd, unsigned char* out, std::size_t size, const std::string& path) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, out + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read " + path);
    if (n == 0) return Error{BaseErrc::kRefused, path + " shrank while it was read"};
    got += static_cast<std::size_t>(n);
  }
  unsigned char extra = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &extra, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read " + path);
    if (n != 0) return Error{BaseErrc::kRefused, path + " grew while it was read"};
    return {};
  }
}

}  // namespace

Result<PrivateDir> PrivateDir::open(const std::string& path) {
  if (path.empty() || path.find('\0') != std::string::npos) {
    return Error{BaseErrc::kInvalidArgument, "a private directory needs a path"};
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return io_error("create " + path);
  PrivateDir dir;
  // O_NOFOLLOW: a symlink in the directory's place would put keys or trust decisions
  // wherever it points.
  dir.fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir.fd_ < 0) {
    if (errno == ELOOP) return Error{BaseErrc::kRefused, path + " is a symlink"};
    if (errno == ENOTDIR) return Error{BaseErrc::kRefused, path + " is not a directory"};
    return io_error("open " + path);
  }
  dir.path_ = path;
  struct stat st {};
  if (::fstat(dir.fd_, &st) != 0) return io_error("stat " + path);
  if (st.st_uid != ::geteuid()) {
    return Error{BaseErrc::kRefused, "directory " + path + " belongs to another user (uid " +
                                         std::to_string(st.st_uid) + ")"};
  }
  if ((st.st_mode & 022) != 0) {
    return Error{BaseErrc::kRefused,
                 "directory " + path + " is writable by group or others: chmod go-w it"};
  }
  return dir;
}

PrivateDir::~PrivateDir() {
  if (fd_ >= 0) ::close(fd_);
}

PrivateDir::PrivateDir(PrivateDir&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

PrivateDir& PrivateDir::operator=(PrivateDir&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

PrivateFileRule private_file_rule(std::size_t min_bytes, std::size_t max_bytes) {
  return PrivateFileRule{min_bytes, max_bytes, ::geteuid()};
}

Result<SecretBuffer> read_private_secret(const PrivateDir& dir, std::string_view name,
                                         const PrivateFileRule& rule) {
  auto file = open_checked(dir, name, rule);
  if (!file.ok()) return file.error();
  Fd guard(file->fd);
  auto buffer = SecretBuffer::allocate(file->size);
  if (!buffer.ok()) return buffer.error();
  if (auto ok = read_exact(guard.get(), buffer->data(), file->size, dir.path_of(name)); !ok.ok())
    return ok.error();
  return std::move(buffer).value();
}

Result<std::string> read_private_file(const PrivateDir& dir, std::string_view name,
                                      const PrivateFileRule& rule) {
  auto file = open_checked(dir, name, rule);
  if (!file.ok()) return file.error();
  Fd guard(file->fd);
  std::string out(file->size, '\0');
  if (auto ok = read_exact(guard.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                           dir.path_of(name));
      !ok.ok())
    return ok.error();
  return out;
}

Result<WriteOutcome> write_private_file(const PrivateDir& dir, std::string_view name,
                                        std::string_view bytes, WriteMode mode) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  const std::string name_z(name);
  const std::string tmp = "." + name_z + ".tmp-" + std::to_string(randombytes_random());
  const std::string tmp_path = dir.path_of(tmp);
  Fd fd(
      ::openat(dir.fd(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return io_error("create " + tmp_path);
  const auto fail = [&](const std::string& what) {
    Error e = io_error(what + " " + tmp_path);
    ::unlinkat(dir.fd(), tmp.c_str(), 0);
    return e;
  };
  // The umask may have cleared bits, never added them; fchmod makes the mode exact anyway.
  if (::fchmod(fd.get(), 0600) != 0) return fail("chmod");
  std::size_t put = 0;
  while (put < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + put, bytes.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    put += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("fsync");
  const int rc =
      mode == WriteMode::kReplace
          ? ::renameat(dir.fd(), tmp.c_str(), dir.fd(), name_z.c_str())
          : ::renameat2(dir.fd(), tmp.c_str(), dir.fd(), name_z.c_str(), RENAME_NOREPLACE);
  if (rc != 0) {
    const int err = errno;
    ::unlinkat(dir.fd(), tmp.c_str(), 0);
    if (mode == WriteMode::kCreateOnly && err == EEXIST) return WriteOutcome{true};
    errno = err;
    return io_error("rename " + tmp_path);
  }
  // The rename is durable only once the directory is flushed.
  if (::fsync(dir.fd()) != 0) return io_error("fsync " + dir.path());
  return WriteOutcome{false};
}

Result<void> remove_private_file(const PrivateDir& dir, std::string_view name) {
  const std::string name_z(name);
  if (::unlinkat(dir.fd(), name_z.c_str(), 0) != 0) {
    if (errno == ENOENT) return Error{BaseErrc::kNotFound, "no file " + dir.path_of(name)};
    return io_error("remove " + dir.path_of(name));
  }
  if (::fsync(dir.fd()) != 0) return io_error("fsync " + dir.path());
  return {};
}

}  // namespace troupe
