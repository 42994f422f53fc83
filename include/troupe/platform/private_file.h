// Private files: where the platform keeps secrets and sealed records (the master key, its
// passphrase salt, key-custody records). A private directory belongs to this user and nobody
// else may write it; a private file is a regular file of this user with mode 0600 (no group or
// other bits), never followed through a symbolic link, opened without blocking (a FIFO in its
// place is refused, not waited on), and read only up to a size checked before reading.
// Writes go to a fresh temporary file beside the target, are flushed, then renamed into place,
// so a reader sees the old bytes or the new ones, never a torn file.
// Functions are thread-safe (no shared state); they block on disk I/O.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "troupe/base/result.h"
#include "troupe/platform/secret_buffer.h"

namespace troupe {

// An open directory descriptor, closed when the object goes.
class PrivateDir {
 public:
  // Creates `path` (mode 0700) when missing. Errors: refused (another owner, writable by group
  // or others, not a directory), io.
  static Result<PrivateDir> open(const std::string& path);

  PrivateDir() = default;
  ~PrivateDir();
  PrivateDir(PrivateDir&& other) noexcept;
  PrivateDir& operator=(PrivateDir&& other) noexcept;
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  int fd_ = -1;
  std::string path_;
};

// What the platform demands of a private file it reads. `owner` is normally geteuid().
struct PrivateFileRule {
  std::size_t min_bytes = 0;
  std::size_t max_bytes = 0;
  uid_t owner = 0;
};
PrivateFileRule private_file_rule(std::size_t min_bytes, std::size_t max_bytes);

// Reads DIR/name into `out`'s memory (a secret never passes through the ordinary heap).
// Errors: not-found (no such file), refused (a symbolic link, not a regular file, another
// owner, group/other mode bits, size outside the rule), io.
Result<SecretBuffer> read_private_secret(const PrivateDir& dir, std::string_view name,
                                         const PrivateFileRule& rule);
// The same for bytes that are not secret (sealed records, salts).
Result<std::string> read_private_file(const PrivateDir& dir, std::string_view name,
                                      const PrivateFileRule& rule);

enum class WriteMode {
  kCreateOnly,  // never replace an existing file: fails with `exists` = true instead
  kReplace,     // atomically replace whatever is there
};
struct WriteOutcome {
  bool exists = false;  // kCreateOnly and the target was already there: nothing was written
};
// Writes `bytes` as DIR/name, mode 0600, through a temporary file `.NAME.tmp-RANDOM` that is
// removed on failure. Errors: io.
Result<WriteOutcome> write_private_file(const PrivateDir& dir, std::string_view name,
                                        std::string_view bytes, WriteMode mode);

// Removes DIR/name. Errors: not-found, io.
Result<void> remove_private_file(const PrivateDir& dir, std::string_view name);

}  // namespace troupe
