// inspect_package: what a package says about itself, for `troupe pkg inspect` — its entries,
// its manifest and package hash — read under the verifier's bounds (file size, entry count,
// manifest size) but WITHOUT checking trust, the signature or any hash: nothing it returns is
// verified (verify_package is the gate). Pure apart from reading the file; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/manifest.h"
#include "troupe/platform/package_verifier.h"

namespace troupe::platform {

struct PackageSummary {
  struct Entry {
    std::string name;
    std::uint64_t size = 0;
  };
  std::vector<Entry> entries;
  Manifest manifest;         // parsed strictly (an unparsable manifest is an error)
  std::string package_hash;  // SHA-256 of manifest.toml
  std::uint64_t signature_bytes = 0;
};

Result<PackageSummary> inspect_package(const std::filesystem::path& file,
                                       const VerifyLimits& limits = {});

}  // namespace troupe::platform
