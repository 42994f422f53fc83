#include "troupe/node/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "troupe/base/encoding.h"

namespace troupe {
namespace {

std::string mib(std::size_t bytes) {
  return bytes % (1 << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                : std::to_string(bytes) + " bytes";
}

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes,
                                      const std::string& what) {
  const std::string shown = printable_line(path);  // opened as given, shown escaped
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Error{BaseErrc::kNotFound, "no " + what + " file " + shown};
    }
    return Error{BaseErrc::kIo,
                 "cannot open " + what + " file " + shown + ": " + std::strerror(err)};
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Error{BaseErrc::kIo, "cannot stat " + shown + ": " + std::strerror(errno)};
  }
  if (!S_ISREG(st.st_mode)) {
    return Error{BaseErrc::kInvalidArgument,
                 what + " " + shown + " is " + file_type(st.st_mode) + ", not a regular file"};
  }
  const auto too_large = [&] {
    return Error{BaseErrc::kTooLarge,
                 what + " " + shown + " is over the " + mib(max_bytes) + " cap"};
  };
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes) return too_large();
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t off = 0;
  for (;;) {
    // One byte of room past the cap tells a file that grew past it.
    if (off == out.size()) {
      if (out.size() > max_bytes) return too_large();
      out.resize(std::min(max_bytes + 1, out.size() + (std::size_t{1} << 16)));
    }
    ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{BaseErrc::kIo, "cannot read " + shown + ": " + std::strerror(errno)};
    }
    if (n == 0) break;
    off += static_cast<std::size_t>(n);
  }
  if (off > max_bytes) return too_large();
  out.resize(off);
  return out;
}

}  // namespace troupe
