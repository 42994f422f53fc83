#include "troupe/platform/package_verifier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <span>

#include "printable.h"
#include "troupe/base/encoding.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"
#include "troupe/platform/signing_key.h"
#include "troupe/wasm/guest_module.h"
#include "zip_central_directory.h"

namespace troupe::platform {
namespace {

constexpr std::size_t kChunk = std::size_t{256} << 10;

Error malformed(const std::string& why) { return Error{PlatformErrc::kMalformed, why}; }

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};
struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

// A ZIP entry as the central directory describes it, once checked.
struct Entry {
  std::uint64_t offset;  // of its bytes in the file
  std::uint64_t size;
};

// Streams the entry's `size` bytes through `sink` in chunks, read into `into` (which holds
// `size` bytes) when given — the binary lands in its buffer without a second copy — else into
// a chunk buffer.
template <class Sink>
Result<void> stream_entry(int fd, const Entry& entry, const std::string& name, Sink&& sink,
                          char* into = nullptr) {
  std::string chunk;
  if (into == nullptr)
    chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(entry.size, kChunk)));
  std::uint64_t done = 0;
  while (done < entry.size) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(entry.size - done, kChunk));
    char* dest = into != nullptr ? into + done : chunk.data();
    const ssize_t n = ::pread(fd, dest, want, static_cast<off_t>(entry.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return malformed("cannot read " + name + ": " + std::strerror(errno));
    if (n == 0) return malformed(name + " is cut short (the file changed?)");
    sink(std::string_view(dest, static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  return {};
}

Result<std::string> read_small_entry(int fd, const Entry& entry, const std::string& name) {
  std::string out;
  out.reserve(static_cast<std::size_t>(entry.size));
  auto r = stream_entry(fd, entry, name, [&out](std::string_view b) { out.append(b); });
  if (!r.ok()) return r.error();
  return out;
}

}  // namespace

// The steps, in order; the first that fails ends verification with its error:
//  1. File: a regular file no larger than max_package_bytes.
//  2. ZIP directory: at most max_entries entries (counted before libzip allocates any), no
//     ZIP64, multi-disk, encrypted or data-descriptor entries; names, on their exact bytes,
//     are relative, without "..", backslash, NUL or control characters, and unique; then
//     libzip opens it with ZIP_CHECKCONS, so every local header must agree with its central
//     one; every entry is a regular file (no directory, no symlink) and stored (a compressed
//     one is refused); no entry overlaps another.
//  3. Manifest: manifest.toml present, at most max_manifest_bytes, UTF-8, strict TOML.
//  4. Signature: manifest.sig exactly 64 bytes.
//  5. Trust: the manifest's signing key id is not revoked, the package hash is not revoked,
//     and the key id is trusted.
//  6. Ed25519: the signature verifies over manifest.toml's exact bytes with that key.
//  7. Entries: each listed entry is present; its size (the binary's declared size) is checked
//     before reading; its streamed SHA-256 matches the manifest; no entry is unlisted. Bytes
//     are read with pread where the local header puts them; the ZIP CRC-32 is not consulted,
//     as every byte is covered by a SHA-256 in the signed manifest or by the signature.
//  8. Binary: it loads as a WebAssembly guest module.
Result<VerifiedPackage> verify_package(const std::filesystem::path& file, const TrustStore& trust,
                                       const VerifyLimits& limits) {
  // 1. File.
  FdCloser fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
  if (fd.fd < 0) {
    const int err = errno;  // before the allocations of the message
    return Error{BaseErrc::kIo,
                 "cannot open " + printable_line(file.string()) + ": " + std::strerror(err)};
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return malformed(printable_line(file.string()) + " is not a regular file");
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size > limits.max_package_bytes) {
    return Error{PlatformErrc::kTooLarge, "the package is " + std::to_string(file_size) +
                                              " bytes, over the cap of " +
                                              std::to_string(limits.max_package_bytes)};
  }

  // 2. ZIP directory.
  auto directory = read_zip_directory(fd.fd, file_size, limits.max_entries);
  if (!directory.ok()) return directory.error();
  // Names first, on their exact bytes, before libzip interprets them.
  std::set<std::string_view> seen;
  for (const ZipDirectoryEntry& raw : directory->entries) {
    const std::string& name = raw.name;
    if (name.find('\0') != std::string::npos) return malformed("a ZIP entry name holds a NUL byte");
    const bool reserved = name == kManifestEntry || name == kSignatureEntry;
    if (!reserved) {
      if (auto r = check_entry_path("ZIP entry " + printable(name), name); !r) return r.error();
    }
    if (!seen.insert(name).second) return malformed("ZIP entry '" + name + "' appears twice");
  }
  const int zip_fd = ::dup(fd.fd);
  if (zip_fd < 0) return Error{BaseErrc::kIo, std::string("dup: ") + std::strerror(errno)};
  int zip_err = 0;
  ZipPtr zip(zip_fdopen(zip_fd, ZIP_RDONLY | ZIP_CHECKCONS, &zip_err));
  if (!zip) {
    ::close(zip_fd);
    zip_error_t err;
    zip_error_init_with_code(&err, zip_err);
    std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    return malformed("not a consistent ZIP archive: " + why);
  }
  const zip_int64_t count = zip_get_num_entries(zip.get(), 0);
  if (count < 0 || static_cast<std::uint64_t>(count) != directory->entries.size()) {
    return malformed("libzip and the central directory disagree on the entry count");
  }
  std::map<std::string, Entry, std::less<>> entries;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;  // [local header, data end)
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    zip_stat_t zs;
    zip_stat_init(&zs);
    if (zip_stat_index(zip.get(), i, ZIP_FL_ENC_RAW, &zs) != 0 || zs.name == nullptr) {
      return malformed("cannot read ZIP entry " + std::to_string(i));
    }
    const ZipDirectoryEntry& raw = directory->entries[i];
    const std::string& name = raw.name;
    if (name != zs.name || raw.size != zs.comp_size) {
      return malformed("libzip and the central directory disagree on entry '" + name + "'");
    }
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(zip.get(), i, 0, &opsys, &attributes) != 0) {
      return malformed("cannot read the attributes of ZIP entry '" + name + "'");
    }
    const std::uint32_t unix_type = (attributes >> 16) & S_IFMT;
    if ((opsys == ZIP_OPSYS_UNIX && unix_type != 0 && unix_type != S_IFREG) ||
        (attributes & 0x10) != 0) {
      return malformed("ZIP entry '" + name + "' is not a regular file (directory or symlink)");
    }
    if (zs.comp_method != ZIP_CM_STORE) {
      return malformed("ZIP entry '" + name + "' is compressed: only stored entries are allowed");
    }
    if (zs.encryption_method != ZIP_EM_NONE || zs.comp_size != zs.size || zs.size > file_size) {
      return malformed("ZIP entry '" + name + "' has inconsistent sizes or is encrypted");
    }
    auto data = zip_entry_data_offset(fd.fd, *directory, raw);
    if (!data.ok()) return data.error();
    spans.emplace_back(raw.local_offset, *data + zs.size);
    if (!entries.emplace(name, Entry{*data, zs.size}).second) {
      return malformed("ZIP entry '" + name + "' appears twice");
    }
  }

  // An entry inside another's bytes would have the same bytes read (and hashed) again: a
  // package of overlapping entries could cost far more than its size.
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second) return malformed("ZIP entries overlap");
  }
  zip.reset();  // the directory is checked; entries are read with pread from here on

  // 3. Manifest.
  auto manifest_entry = entries.find(kManifestEntry);
  if (manifest_entry == entries.end()) return malformed("the package has no manifest.toml");
  if (manifest_entry->second.size > limits.max_manifest_bytes) {
    return Error{PlatformErrc::kTooLarge,
                 "manifest.toml is " + std::to_string(manifest_entry->second.size) +
                     " bytes, over the cap of " + std::to_string(limits.max_manifest_bytes)};
  }
  auto manifest_text = read_small_entry(fd.fd, manifest_entry->second, kManifestEntry);
  if (!manifest_text.ok()) return manifest_text.error();
  if (!is_valid_utf8(*manifest_text)) return malformed("manifest.toml is not valid UTF-8");
  auto manifest = Manifest::parse(*manifest_text, ManifestMode::kSigned);
  if (!manifest.ok()) return manifest.error();

  // 4. Signature.
  auto sig_entry = entries.find(kSignatureEntry);
  if (sig_entry == entries.end()) return malformed("the package has no manifest.sig");
  if (sig_entry->second.size != crypto_sign_BYTES) {
    return Error{PlatformErrc::kBadSignature,
                 "manifest.sig is " + std::to_string(sig_entry->second.size) + " bytes, not 64"};
  }
  auto sig_bytes = read_small_entry(fd.fd, sig_entry->second, kSignatureEntry);
  if (!sig_bytes.ok()) return sig_bytes.error();
  Signature signature{};
  std::memcpy(signature.data(), sig_bytes->data(), signature.size());

  // 5. Trust.
  const std::string& key_id = manifest->signing_key_id;
  const std::string package_hash = sha256_hex(*manifest_text);
  if (trust.key_revoked(key_id)) {
    return Error{PlatformErrc::kRevoked, "signing key " + key_id + " is revoked"};
  }
  if (trust.package_revoked(package_hash)) {
    return Error{PlatformErrc::kRevoked, "package " + package_hash + " is revoked"};
  }
  const PublicKey* key = trust.trusted_key(key_id);
  if (key == nullptr) {
    return Error{PlatformErrc::kUntrusted, "signing key " + key_id + " is not trusted"};
  }

  // 6. Ed25519.
  if (!verify_signature(*key, *manifest_text, signature)) {
    return Error{PlatformErrc::kBadSignature, "manifest.sig does not verify with key " + key_id};
  }

  // 7. Entries.
  std::vector<std::uint8_t> binary;
  for (const Manifest::Listed& listed : manifest->listed_entries()) {
    auto it = entries.find(listed.path);
    if (it == entries.end()) return malformed("listed entry '" + listed.path + "' is missing");
    const bool is_binary = listed.path == manifest->binary.path;
    if (is_binary && it->second.size != manifest->binary.size) {
      return Error{PlatformErrc::kHashMismatch,
                   "binary.size is " + std::to_string(manifest->binary.size) + " but '" +
                       listed.path + "' holds " + std::to_string(it->second.size) + " bytes"};
    }
    Sha256 hash;
    Result<void> streamed;
    if (is_binary) {
      binary.resize(static_cast<std::size_t>(it->second.size));
      streamed = stream_entry(
          fd.fd, it->second, listed.path, [&hash](std::string_view b) { hash.update(b); },
          reinterpret_cast<char*>(binary.data()));
    } else {
      streamed = stream_entry(fd.fd, it->second, listed.path,
                              [&hash](std::string_view b) { hash.update(b); });
    }
    if (!streamed.ok()) return streamed.error();
    if (to_hex(hash.final()) != listed.hash) {
      return Error{PlatformErrc::kHashMismatch,
                   "'" + listed.path + "' does not match its SHA-256 in the manifest"};
    }
  }
  if (entries.size() != manifest->listed_entries().size() + 2) {
    for (const auto& [name, entry] : entries) {
      bool listed = name == kManifestEntry || name == kSignatureEntry;
      for (const auto& l : manifest->listed_entries()) listed = listed || l.path == name;
      if (!listed) return malformed("ZIP entry '" + name + "' is not listed in the manifest");
    }
  }

  // 8. Binary.
  auto module = wasm::GuestModule::load(std::span<const std::uint8_t>(binary));
  if (!module.ok()) {
    std::string why = module.error().detail;
    for (char& c : why) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return Error{PlatformErrc::kRefused, "the binary is not a loadable module: " + why};
  }
  return VerifiedPackage{std::move(manifest).value(), std::move(manifest_text).value(),
                         package_hash, std::move(binary),
                         std::make_shared<const wasm::GuestModule>(std::move(module).value())};
}

}  // namespace troupe::platform
