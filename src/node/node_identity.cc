#include "troupe/node/node_identity.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "troupe/net/noise_static_key.h"

namespace troupe {
namespace {

constexpr const char* kKeyFile = "node.key";
constexpr const char* kBootFile = "node.boot";

Error io_error(const std::string& what) {
  return Error{BaseErrc::kIo, what + ": " + std::strerror(errno)};
}

// Closes a file descriptor at scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A file the node keeps secrets or state in: a regular file of this user that nobody else may
// read or write.
Result<void> check_private_file(int fd, const std::string& path, off_t max_size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path);
  if (!S_ISREG(st.st_mode)) return Error{BaseErrc::kRefused, path + " is not a regular file"};
  if (st.st_uid != ::geteuid()) {
    return Error{BaseErrc::kRefused,
                 path + " belongs to another user (uid " + std::to_string(st.st_uid) + ")"};
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error{BaseErrc::kRefused, path + " has mode " + mode + ": it must be 0600"};
  }
  if (st.st_size > max_size) {
    return Error{BaseErrc::kRefused, path + " is " + std::to_string(st.st_size) +
                                         " bytes (at most " + std::to_string(max_size) + ")"};
  }
  return {};
}

Result<std::string> read_all(int fd, const std::string& path, std::size_t max_size) {
  std::string out(max_size + 1, '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read " + path);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

// Writes `bytes` to a fresh private file beside `name`, flushes it, then renames it over
// `name` (replace = false: only if `name` does not exist yet). Returns false when `name`
// appeared meanwhile (and replace is false).
Result<bool> write_private_file(int dir, const std::string& dir_path, const char* name,
                                std::string_view bytes, bool replace) {
  std::uint32_t tag = randombytes_random();
  const std::string tmp = std::string(name) + ".new-" + std::to_string(tag);
  const std::string path = dir_path + "/" + tmp;
  Fd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return io_error("create " + path);
  std::size_t put = 0;
  while (put < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + put, bytes.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = io_error("write " + path);
      ::unlinkat(dir, tmp.c_str(), 0);
      return e;
    }
    put += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    Error e = io_error("fsync " + path);
    ::unlinkat(dir, tmp.c_str(), 0);
    return e;
  }
  const int rc = replace ? ::renameat(dir, tmp.c_str(), dir, name)
                         : ::renameat2(dir, tmp.c_str(), dir, name, RENAME_NOREPLACE);
  if (rc != 0) {
    const int err = errno;
    ::unlinkat(dir, tmp.c_str(), 0);
    if (!replace && err == EEXIST) return false;
    errno = err;
    return io_error("rename " + path);
  }
  ::fsync(dir);
  return true;
}

// Removes what a start killed mid-write left of its private files: `node.key.new-N` (an
// unused secret key) and `node.boot.new-N`, regular files of this user with exactly that name
// shape. Only a running node does it, holding the key lock (no other node of this directory
// is past its start) and the directory lock (no other start is writing a boot counter).
void remove_interrupted_writes(int dir) {
  const int scan_fd = ::dup(dir);
  if (scan_fd < 0) return;
  DIR* scan = ::fdopendir(scan_fd);
  if (scan == nullptr) {
    ::close(scan_fd);
    return;
  }
  ::rewinddir(scan);
  std::vector<std::string> doomed;
  while (dirent* entry = ::readdir(scan)) {
    const std::string_view name(entry->d_name);
    for (std::string_view prefix : {std::string_view(kKeyFile), std::string_view(kBootFile)}) {
      const std::string marker = std::string(prefix) + ".new-";
      if (name.size() <= marker.size() || name.size() > marker.size() + 10 ||
          name.substr(0, marker.size()) != marker) {
        continue;
      }
      const std::string_view tag = name.substr(marker.size());
      if (tag.find_first_not_of("0123456789") != std::string_view::npos) continue;
      struct stat st {};
      if (::fstatat(dir, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
          st.st_uid == ::geteuid()) {
        doomed.emplace_back(name);
      }
    }
  }
  ::closedir(scan);
  for (const std::string& name : doomed) ::unlinkat(dir, name.c_str(), 0);
}

Result<int> open_data_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return io_error("create " + path);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error e = io_error(path);
    ::close(fd);
    return e;
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    return Error{BaseErrc::kRefused, "data directory " + path + " belongs to another user (uid " +
                                         std::to_string(st.st_uid) + ")"};
  }
  if ((st.st_mode & 022) != 0) {
    ::close(fd);
    return Error{BaseErrc::kRefused,
                 "data directory " + path + " is writable by group or others: chmod go-w it"};
  }
  return fd;
}

}  // namespace

// The node's secret key, in guarded memory that is wiped and unmapped when freed.
struct NodeIdentity::SecretKey {
  unsigned char* bytes = nullptr;  // crypto_sign_SECRETKEYBYTES
  SecretKey() : bytes(static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES))) {}
  ~SecretKey() { sodium_free(bytes); }
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
};

NodeId NodeIdentity::node_id_of(const std::array<std::uint8_t, 32>& public_key) {
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, public_key.data(), public_key.size(), nullptr, 0);
  NodeId id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | hash[i];
  return id == 0 ? 1 : id;  // 0 means "no node"
}

Result<NodeIdentity> NodeIdentity::load_or_create(const std::string& data_dir, bool exclusive,
                                                  IdentityUse mode) {
  if (sodium_init() < 0) return Error{BaseErrc::kInternal, "libsodium failed to initialise"};
  auto opened = open_data_dir(data_dir);
  if (!opened.ok()) return opened.error();
  Fd dir(*opened);
  NodeIdentity id;
  id.secret_ = std::make_shared<SecretKey>();
  if (id.secret_->bytes == nullptr) return Error{BaseErrc::kInternal, "sodium_malloc failed"};
  const std::string key_path = data_dir + "/" + kKeyFile;

  // The key: read it, or make one (a node that lost the race to another start reads theirs).
  // Files are opened O_NONBLOCK: a FIFO in their place must be refused, not waited on.
  for (int attempt = 0;; ++attempt) {
    Fd key(::openat(dir.get(), kKeyFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (key.get() >= 0) {
      if (auto ok = check_private_file(key.get(), key_path, crypto_sign_SECRETKEYBYTES); !ok.ok())
        return ok.error();
      auto text = read_all(key.get(), key_path, crypto_sign_SECRETKEYBYTES);
      if (!text.ok()) return text.error();
      if (text->size() != crypto_sign_SECRETKEYBYTES) {
        return Error{BaseErrc::kRefused, key_path + " is " + std::to_string(text->size()) +
                                             " bytes, not an Ed25519 secret key (" +
                                             std::to_string(crypto_sign_SECRETKEYBYTES) + ")"};
      }
      std::memcpy(id.secret_->bytes, text->data(), text->size());
      sodium_memzero(text->data(), text->size());
      // The stored public half must be the one the seed makes.
      unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
      unsigned char* check = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
      if (check == nullptr) return Error{BaseErrc::kInternal, "sodium_malloc failed"};
      crypto_sign_ed25519_sk_to_seed(seed, id.secret_->bytes);
      crypto_sign_seed_keypair(pk, check, seed);
      sodium_memzero(seed, sizeof seed);
      sodium_free(check);
      if (sodium_memcmp(pk, id.secret_->bytes + crypto_sign_SEEDBYTES, sizeof pk) != 0) {
        return Error{BaseErrc::kRefused, key_path + " is damaged: its public half does not match"};
      }
      std::memcpy(id.public_key_.data(), pk, sizeof pk);
      break;
    }
    if (errno == ELOOP) return Error{BaseErrc::kRefused, key_path + " is a symbolic link"};
    if (errno != ENOENT || attempt > 0) return io_error("open " + key_path);
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(pk, id.secret_->bytes);
    auto written =
        write_private_file(dir.get(), data_dir, kKeyFile,
                           std::string_view(reinterpret_cast<const char*>(id.secret_->bytes),
                                            crypto_sign_SECRETKEYBYTES),
                           /*replace=*/false);
    if (!written.ok()) return written.error();
    if (*written) {
      std::memcpy(id.public_key_.data(), pk, sizeof pk);
      break;
    }
  }
  id.node_id_ = node_id_of(id.public_key_);

  // A node keeps a lock on its key for as long as it runs: a second node on the same data
  // directory (through another control socket) would run as the same node. Taken before the
  // boot counter is raised, so a refused start leaves it alone.
  if (exclusive) {
    const int fd = ::openat(dir.get(), kKeyFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return io_error("open " + key_path);
    id.run_lock_ = std::shared_ptr<void>(nullptr, [fd](void*) { ::close(fd); });
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Error{BaseErrc::kUnavailable,
                     "another node is running on the data directory " + data_dir};
      }
      return io_error("lock " + key_path);
    }
  }

  // Only the key was asked for (`troupe node id`): the boot counter is left alone.
  if (mode == IdentityUse::kKeyOnly) return id;

  // The boot counter: one more than last time, on disk before anything is served. Read,
  // raised and written under an exclusive lock on the directory, so that starts racing on one
  // data directory never take the same number (the lock goes with `dir`).
  while (::flock(dir.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return io_error("lock " + data_dir);
  }
  if (exclusive) remove_interrupted_writes(dir.get());
  const std::string boot_path = data_dir + "/" + kBootFile;
  std::uint64_t last = 0;
  Fd boot(::openat(dir.get(), kBootFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (boot.get() >= 0) {
    if (auto ok = check_private_file(boot.get(), boot_path, 32); !ok.ok()) return ok.error();
    auto text = read_all(boot.get(), boot_path, 32);
    if (!text.ok()) return text.error();
    std::string_view digits(*text);
    if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), last);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
      return Error{BaseErrc::kRefused, boot_path + " does not hold a boot count"};
    }
  } else if (errno == ELOOP) {
    return Error{BaseErrc::kRefused, boot_path + " is a symbolic link"};
  } else if (errno != ENOENT) {
    return io_error("open " + boot_path);
  }
  if (last >= kMaxBoot) {
    return Error{BaseErrc::kRefused, boot_path + ": this node has used all its boots (" +
                                         std::to_string(kMaxBoot) + ")"};
  }
  id.boot_ = last + 1;
  auto written = write_private_file(dir.get(), data_dir, kBootFile, std::to_string(id.boot_) + "\n",
                                    /*replace=*/true);
  if (!written.ok()) return written.error();
  return id;
}

std::string NodeIdentity::public_key_base64() const {
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, public_key_.data(), public_key_.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  return out;
}

std::array<std::uint8_t, 64> NodeIdentity::sign(std::string_view message) const {
  std::array<std::uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_->bytes);
  return sig;
}

Result<net::NoiseKeyPair> NodeIdentity::noise_key_pair() const {
  return net::noise_key_pair_of(
      std::span<const unsigned char>(secret_->bytes, crypto_sign_SECRETKEYBYTES));
}

}  // namespace troupe
