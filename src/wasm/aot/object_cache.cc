#include "aot/object_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace troupe::wasm::aot {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTagBytes = crypto_generichash_BYTES;  // 32
constexpr const char* kTagContext = "troupe-aot-object-1";

// Closes on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// A directory this process may trust: one it made (or its final cache directory) must be this
// user's and writable by nobody else; an existing ancestor may also be root's, and may be
// writable by others only with the sticky bit (/tmp), where nobody can replace our entries.
Result<void> check_dir(const struct stat& st, const fs::path& where, bool ours) {
  const uid_t me = geteuid();
  if (!S_ISDIR(st.st_mode))
    return Error{BaseErrc::kRefused, where.string() + " is not a directory"};
  if (st.st_uid != me && (ours || st.st_uid != 0)) {
    return Error{BaseErrc::kRefused, where.string() + " is owned by uid " +
                                         std::to_string(st.st_uid) + ", not by this user (uid " +
                                         std::to_string(me) + ")"};
  }
  const bool writable_by_others = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (writable_by_others && (ours || (st.st_mode & S_ISVTX) == 0)) {
    return Error{BaseErrc::kRefused,
                 where.string() + " is group- or world-writable (mode " + octal(st.st_mode) + ")"};
  }
  return {};
}

// Opens `name` under `parent` as a directory, creating it 0700 when `create` and it is missing.
// `created` tells whether it did; a directory it made (or any past one it made) is opened
// without following a symbolic link.
Result<int> open_component(int parent, const std::string& name, const fs::path& where,
                           bool must_be_ours, bool& created) {
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  int fd = ::openat(parent, name.c_str(), flags | (must_be_ours || created ? O_NOFOLLOW : 0));
  if (fd < 0 && errno == ENOENT) {
    if (::mkdirat(parent, name.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error{BaseErrc::kIo, "cannot create " + where.string() + ": " + errno_text()};
    }
    created = true;
    fd = ::openat(parent, name.c_str(), flags | O_NOFOLLOW);
  }
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return Error{BaseErrc::kRefused,
                   where.string() + " is not a directory (or is a symbolic link)"};
    }
    return Error{BaseErrc::kIo, "cannot open " + where.string() + ": " + errno_text()};
  }
  Fd guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{BaseErrc::kIo, "cannot stat " + where.string()};
  if (auto ok = check_dir(st, where, must_be_ours || created); !ok.ok()) return ok.error();
  return guard.release();
}

// Reads at most `limit` bytes; more than that is an error.
Result<std::vector<std::uint8_t>> read_all(int fd, std::size_t limit, const std::string& what) {
  std::vector<std::uint8_t> out;
  std::uint8_t buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{BaseErrc::kIo, "cannot read " + what + ": " + errno_text()};
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > limit) {
      return Error{BaseErrc::kRefused,
                   what + " is larger than " + std::to_string(limit) + " bytes"};
    }
    out.insert(out.end(), buf, buf + n);
  }
}

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// A fresh name nobody can predict, for a file that is renamed or linked into place.
std::string temporary_name(const std::string& base) {
  unsigned char r[8];
  randombytes_buf(r, sizeof r);
  std::string out = base + ".tmp-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : r) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Entry names are the cache's own (hex keys): nothing that could leave the directory.
bool plain_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos;
}

}  // namespace

ObjectCache::~ObjectCache() {
  sodium_memzero(key_, sizeof key_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Result<std::unique_ptr<ObjectCache>> ObjectCache::open(const fs::path& dir,
                                                       std::uint64_t max_object_bytes) {
  if (sodium_init() < 0) return Error{BaseErrc::kInternal, "libsodium failed to initialise"};
  if (dir.empty()) return Error{BaseErrc::kInvalidArgument, "no AOT cache directory"};
  const fs::path path = fs::absolute(dir).lexically_normal();
  std::vector<std::string> parts;
  for (const fs::path& p : path.relative_path()) {
    if (!p.empty()) parts.push_back(p.string());
  }
  if (parts.empty()) return Error{BaseErrc::kRefused, "the AOT cache cannot be /"};

  Fd fd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Error{BaseErrc::kIo, "cannot open /"};
  fs::path where = "/";
  bool created = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    where /= parts[i];
    auto next = open_component(fd.get(), parts[i], where, i + 1 == parts.size(), created);
    if (!next.ok()) {
      return Error{next.error().code, "AOT cache directory refused: " + next.error().detail};
    }
    fd = Fd(*next);
  }

  std::unique_ptr<ObjectCache> cache(new ObjectCache());
  cache->path_ = path;
  cache->max_object_bytes_ = max_object_bytes;

  // The key: made once, published with linkat so a concurrent reader never sees it half-written.
  Fd key(::openat(fd.get(), kKeyFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (key.get() < 0 && errno == ENOENT) {
    const std::string tmp = temporary_name(kKeyFile);
    Fd out(::openat(fd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600));
    if (out.get() < 0)
      return Error{BaseErrc::kIo, "cannot create the AOT cache key: " + errno_text()};
    unsigned char fresh[crypto_generichash_KEYBYTES];
    crypto_generichash_keygen(fresh);
    const bool written = write_all(out.get(), fresh, sizeof fresh) && ::fsync(out.get()) == 0;
    sodium_memzero(fresh, sizeof fresh);
    const bool linked = written && (::linkat(fd.get(), tmp.c_str(), fd.get(), kKeyFile, 0) == 0 ||
                                    errno == EEXIST);  // EEXIST: another process was first
    ::unlinkat(fd.get(), tmp.c_str(), 0);
    if (!linked) return Error{BaseErrc::kIo, "cannot store the AOT cache key: " + errno_text()};
    key = Fd(::openat(fd.get(), kKeyFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  }
  const fs::path key_path = path / kKeyFile;
  if (key.get() < 0) {
    return Error{BaseErrc::kRefused,
                 "cannot open the AOT cache key " + key_path.string() + ": " + errno_text()};
  }
  struct stat st {};
  if (::fstat(key.get(), &st) != 0) return Error{BaseErrc::kIo, "cannot stat " + key_path.string()};
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
      st.st_size != static_cast<off_t>(sizeof cache->key_)) {
    return Error{BaseErrc::kRefused, "the AOT cache key " + key_path.string() +
                                         " must be a 32-byte regular file of this user with mode "
                                         "0600 (it has mode " +
                                         octal(st.st_mode) + ", uid " + std::to_string(st.st_uid) +
                                         ", " + std::to_string(st.st_size) + " bytes)"};
  }
  auto bytes = read_all(key.get(), sizeof cache->key_, key_path.string());
  if (!bytes.ok() || bytes->size() != sizeof cache->key_) {
    return Error{BaseErrc::kRefused, "cannot read the AOT cache key " + key_path.string()};
  }
  std::memcpy(cache->key_, bytes->data(), sizeof cache->key_);
  sodium_memzero(bytes->data(), bytes->size());
  cache->dir_fd_ = fd.release();
  return cache;
}

void ObjectCache::tag(const std::string& name, const std::uint8_t* data, std::size_t size,
                      unsigned char* out) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_, sizeof key_, kTagBytes);
  // The name is covered too: an entry moved under another module's name does not verify.
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kTagContext),
                            std::strlen(kTagContext) + 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(name.c_str()),
                            name.size() + 1);
  crypto_generichash_update(&state, data, size);
  crypto_generichash_final(&state, out, kTagBytes);
}

Result<std::vector<std::uint8_t>> ObjectCache::read(const std::string& name) const {
  if (!plain_name(name)) return Error{BaseErrc::kInvalidArgument, "bad cache entry name " + name};
  const std::string what = (path_ / name).string();
  // O_NONBLOCK: a FIFO planted under the name must not block the open.
  Fd fd(::openat(dir_fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Error{BaseErrc::kNotFound, what};
    return Error{BaseErrc::kRefused, "cannot open " + what + ": " + errno_text()};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error{BaseErrc::kIo, "cannot stat " + what};
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    return Error{BaseErrc::kRefused, what + " is not a regular file of this user"};
  }
  auto bytes = read_all(fd.get(), max_object_bytes_ + kTagBytes, what);
  if (!bytes.ok()) return bytes.error();
  if (bytes->size() < kTagBytes) return Error{BaseErrc::kRefused, what + " has no tag"};
  const std::size_t size = bytes->size() - kTagBytes;
  unsigned char expected[kTagBytes];
  tag(name, bytes->data(), size, expected);
  if (sodium_memcmp(expected, bytes->data() + size, kTagBytes) != 0) {
    return Error{BaseErrc::kRefused, what +
                                         " failed authentication (not built by this node, or "
                                         "altered since)"};
  }
  bytes->resize(size);
  return bytes;
}

Result<void> ObjectCache::write(const std::string& name,
                                const std::vector<std::uint8_t>& object) const {
  if (!plain_name(name)) return Error{BaseErrc::kInvalidArgument, "bad cache entry name " + name};
  if (object.size() > max_object_bytes_) {
    return Error{BaseErrc::kRefused,
                 "the object is larger than " + std::to_string(max_object_bytes_) + " bytes"};
  }
  unsigned char t[kTagBytes];
  tag(name, object.data(), object.size(), t);
  const std::string tmp = temporary_name(name);
  Fd fd(::openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Error{BaseErrc::kIo, "cannot create " + tmp + ": " + errno_text()};
  if (!write_all(fd.get(), object.data(), object.size()) || !write_all(fd.get(), t, sizeof t) ||
      ::close(fd.release()) != 0 || ::renameat(dir_fd_, tmp.c_str(), dir_fd_, name.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlinkat(dir_fd_, tmp.c_str(), 0);
    return Error{BaseErrc::kIo, "cannot store " + (path_ / name).string() + ": " + why};
  }
  return {};
}

}  // namespace troupe::wasm::aot
