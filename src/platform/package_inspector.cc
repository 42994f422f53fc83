#include "troupe/platform/package_inspector.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "troupe/base/encoding.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"
#include "zip_central_directory.h"

namespace troupe::platform {

Result<PackageSummary> inspect_package(const std::filesystem::path& file,
                                       const VerifyLimits& limits) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;  // before the allocations of the message
    return Error{BaseErrc::kIo,
                 "cannot open " + printable_line(file.string()) + ": " + std::strerror(err)};
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{PlatformErrc::kMalformed,
                 printable_line(file.string()) + " is not a regular file"};
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size > limits.max_package_bytes) {
    return Error{PlatformErrc::kTooLarge, "the package is " + std::to_string(file_size) +
                                              " bytes, over the cap of " +
                                              std::to_string(limits.max_package_bytes)};
  }
  auto dir = read_zip_directory(fd, file_size, limits.max_entries);
  if (!dir.ok()) return dir.error();
  PackageSummary out;
  const ZipDirectoryEntry* manifest = nullptr;
  for (const ZipDirectoryEntry& e : dir->entries) {
    out.entries.push_back({e.name, e.size});
    if (e.name == kManifestEntry) manifest = &e;
    if (e.name == kSignatureEntry) out.signature_bytes = e.size;
  }
  if (manifest == nullptr)
    return Error{PlatformErrc::kMalformed, "the package has no manifest.toml"};
  if (manifest->size > limits.max_manifest_bytes) {
    return Error{PlatformErrc::kTooLarge,
                 "manifest.toml is over the cap of " + std::to_string(limits.max_manifest_bytes)};
  }
  auto offset = zip_entry_data_offset(fd, *dir, *manifest);
  if (!offset.ok()) return offset.error();
  std::string text(static_cast<std::size_t>(manifest->size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n =
        ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(*offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{PlatformErrc::kMalformed, "manifest.toml is cut short"};
    got += static_cast<std::size_t>(n);
  }
  auto parsed = Manifest::parse(text, ManifestMode::kSigned);
  if (!parsed.ok()) return parsed.error();
  out.manifest = std::move(parsed).value();
  out.package_hash = sha256_hex(text);
  return out;
}

}  // namespace troupe::platform
