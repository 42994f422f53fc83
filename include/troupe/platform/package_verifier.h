// verify_package: the one gate a package passes before anything of it runs. Bounded (every size
// is checked against its cap before it is read), streaming (entries are hashed chunk by chunk)
// and fail-closed (anything unexpected is an error), in the order docs/PLATFORM.md documents.
// Errors are PlatformErrc kinds (malformed, too-large, untrusted, revoked, bad-signature,
// hash-mismatch, refused) with a one-line detail; BaseErrc::kIo when the file cannot be opened.
// The package hash is the SHA-256 of manifest.toml's exact bytes: the manifest is signed and
// pins every other entry by hash, so it names the package's content — and re-packing the same
// signed entries into another ZIP does not escape a revocation, as a hash of the file would.
// Pure apart from reading the file; thread-safe for distinct calls (the TrustStore is only read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/manifest.h"
#include "troupe/platform/trust_store.h"
#include "troupe/wasm/guest_module.h"

namespace troupe::platform {

struct VerifyLimits {
  std::uint64_t max_package_bytes = std::uint64_t{64} << 20;  // the whole .actr file
  std::size_t max_entries = 1024;                             // ZIP entries
  std::uint64_t max_manifest_bytes = std::uint64_t{1} << 20;  // manifest.toml
};

struct VerifiedPackage {
  Manifest manifest;
  std::string manifest_text;  // the signed bytes
  std::string package_hash;   // SHA-256 of manifest_text, 64 hex digits
  std::vector<std::uint8_t> binary;
  // The binary as loaded by the last step, so that spawning it does not load it again.
  std::shared_ptr<const wasm::GuestModule> module;
};

Result<VerifiedPackage> verify_package(const std::filesystem::path& file, const TrustStore& trust,
                                       const VerifyLimits& limits = {});

}  // namespace troupe::platform
