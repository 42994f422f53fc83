#include "zip_central_directory.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "troupe/platform/platform_error.h"

namespace troupe::platform {
namespace {

constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kMaxComment = 0xFFFF;

std::uint16_t u16(const char* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(p[0]) |
                                    static_cast<unsigned char>(p[1]) << 8);
}
std::uint32_t u32(const char* p) {
  return static_cast<std::uint32_t>(u16(p)) | static_cast<std::uint32_t>(u16(p + 2)) << 16;
}

Error malformed(const std::string& why) { return Error{PlatformErrc::kMalformed, why}; }

Result<std::string> read_at(int fd, std::uint64_t offset, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return malformed("the ZIP file is truncated");
    got += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

Result<ZipDirectory> read_zip_directory(int fd, std::uint64_t file_size, std::size_t max_entries) {
  if (file_size < kEndSize) return malformed("not a ZIP file (too short)");
  // The end record is the last 22 bytes plus a comment of up to 64 KiB; the one whose comment
  // length reaches exactly the end of the file is the real one.
  const std::size_t tail_size =
      static_cast<std::size_t>(std::min<std::uint64_t>(file_size, kEndSize + kMaxComment));
  auto tail = read_at(fd, file_size - tail_size, tail_size);
  if (!tail.ok()) return tail.error();
  std::size_t end_at = std::string::npos;
  for (std::size_t i = tail_size - kEndSize + 1; i-- > 0;) {
    if (u32(tail->data() + i) == kEndSignature &&
        i + kEndSize + u16(tail->data() + i + 20) == tail_size) {
      end_at = i;
      break;
    }
  }
  if (end_at == std::string::npos) return malformed("not a ZIP file (no end of central directory)");
  const char* end = tail->data() + end_at;
  const std::uint16_t disk = u16(end + 4), cd_disk = u16(end + 6);
  const std::uint16_t on_disk = u16(end + 8), count = u16(end + 10);
  const std::uint32_t cd_size = u32(end + 12), cd_offset = u32(end + 16);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    return malformed("ZIP64 archives are not supported");
  }
  if (disk != 0 || cd_disk != 0 || on_disk != count) {
    return malformed("multi-disk ZIP archives are not supported");
  }
  if (count > max_entries) {
    return Error{PlatformErrc::kTooLarge, "the ZIP holds " + std::to_string(count) +
                                              " entries, over the cap of " +
                                              std::to_string(max_entries)};
  }
  const std::uint64_t end_offset = file_size - tail_size + end_at;
  if (std::uint64_t{cd_offset} + cd_size != end_offset) {
    return malformed("the ZIP central directory does not end where the end record begins");
  }
  auto cd = read_at(fd, cd_offset, cd_size);
  if (!cd.ok()) return cd.error();
  ZipDirectory dir;
  dir.central_offset = cd_offset;
  dir.entries.reserve(count);
  std::size_t at = 0;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (at + kCentralSize > cd->size() || u32(cd->data() + at) != kCentralSignature) {
      return malformed("the ZIP central directory is damaged");
    }
    const char* h = cd->data() + at;
    const std::uint16_t flags = u16(h + 8);
    const std::size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    if (at + kCentralSize + name_len + extra_len + comment_len > cd->size()) {
      return malformed("the ZIP central directory is damaged");
    }
    if ((flags & 0x0008) != 0) {
      return malformed("ZIP entries with a data descriptor are not supported");
    }
    if ((flags & 0x0001) != 0) return malformed("encrypted ZIP entries are not supported");
    dir.entries.push_back(
        ZipDirectoryEntry{std::string(h + kCentralSize, name_len), u32(h + 42), u32(h + 20)});
    at += kCentralSize + name_len + extra_len + comment_len;
  }
  if (at != cd->size()) return malformed("the ZIP central directory has trailing bytes");
  return dir;
}

Result<std::uint64_t> zip_entry_data_offset(int fd, const ZipDirectory& dir,
                                            const ZipDirectoryEntry& entry) {
  constexpr std::size_t kLocalSize = 30;
  if (entry.local_offset + kLocalSize > dir.central_offset) {
    return malformed("ZIP entry '" + entry.name + "' lies outside the archive");
  }
  auto local = read_at(fd, entry.local_offset, kLocalSize);
  if (!local.ok()) return local.error();
  if (u32(local->data()) != 0x04034b50) {
    return malformed("ZIP entry '" + entry.name + "' has no local header");
  }
  const std::uint64_t data =
      entry.local_offset + kLocalSize + u16(local->data() + 26) + u16(local->data() + 28);
  if (data + entry.size > dir.central_offset) {
    return malformed("ZIP entry '" + entry.name + "' runs into the central directory");
  }
  return data;
}

}  // namespace troupe::platform
