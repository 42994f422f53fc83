// Manifest: a package's manifest.toml — actr's fields (manufacturer, name, version,
// signature_algorithm, signing_key_id, [binary], [[resources]], [[proto_files]], [lock_file],
// [metadata]) and troupe's own [troupe] table (capabilities requested, default limits).
// parse() is strict: unknown keys anywhere, wrong types, missing fields, bad hashes, unsafe
// entry paths and unsupported targets or kinds are errors naming the key (kMalformed; what
// troupe cannot run yet or ever — a component, wasm32-wasip2, actr's native-cdylib — is
// kRefused). kTemplate mode (what `pkg build` reads) lets the fields the builder fills in —
// hashes, size, signing key id — be absent. to_toml() writes a manifest parse() reads back
// equal. Plain value; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/actor_type.h"
#include "troupe/platform/capability_request.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe::platform {

inline constexpr const char* kManifestEntry = "manifest.toml";
inline constexpr const char* kSignatureEntry = "manifest.sig";
inline constexpr std::size_t kMaxEntryPath = 255;

// A package entry's name: relative, '/'-separated, UTF-8, at most kMaxEntryPath bytes, no
// empty, "." or ".." component, no backslash, no NUL or control character, not a directory,
// and not one of the two reserved names. kMalformed naming `what`.
Result<void> check_entry_path(std::string_view what, std::string_view path);

struct BinaryEntry {
  std::string path;
  std::string target;  // wasm32-wasip1 | wasm32-unknown-unknown
  std::string hash;    // SHA-256, 64 lowercase hex digits
  std::uint64_t size = 0;
  std::string kind = "core-module";
  friend bool operator==(const BinaryEntry&, const BinaryEntry&) = default;
};

// A listed file other than the binary: a resource, a proto file or the lock file.
struct FileEntry {
  std::string path;
  std::string hash;
  std::string name;  // proto files only (required there, as in actr)
  friend bool operator==(const FileEntry&, const FileEntry&) = default;
};

struct ManifestMetadata {
  std::optional<std::string> description;
  std::optional<std::string> license;
  friend bool operator==(const ManifestMetadata&, const ManifestMetadata&) = default;
};

// The [troupe] table.
struct TroupeSettings {
  CapabilityRequest capabilities;
  wasm::LimitRequest limits;  // [troupe.limits]: the actor's default limits
  friend bool operator==(const TroupeSettings&, const TroupeSettings&) = default;
};

enum class ManifestMode { kSigned, kTemplate };

struct Manifest {
  ActorType type;
  std::string signature_algorithm = "ed25519";
  std::string signing_key_id;
  BinaryEntry binary;
  std::vector<FileEntry> resources;
  std::vector<FileEntry> proto_files;
  std::optional<FileEntry> lock_file;
  ManifestMetadata metadata;
  TroupeSettings troupe;

  static Result<Manifest> parse(std::string_view text, ManifestMode mode = ManifestMode::kSigned);
  std::string to_toml() const;

  // Every entry the manifest lists beside manifest.toml and manifest.sig: path and hash.
  struct Listed {
    std::string path;
    std::string hash;
  };
  std::vector<Listed> listed_entries() const;

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

}  // namespace troupe::platform
