// build_package: makes a signed .actr package from a manifest template, the binary and the
// other files — fills in every SHA-256, the binary's size and the signing key id, signs the
// manifest's exact bytes (manifest.sig) and writes a ZIP of stored entries: manifest.toml,
// manifest.sig, the binary, then the other files in the manifest's order. The output replaces
// OUT atomically (written beside it, then renamed) and is byte-for-byte reproducible (fixed
// timestamps). Pure apart from writing OUT; thread-safe for distinct outputs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/manifest.h"
#include "troupe/platform/signing_key.h"

namespace troupe::platform {

struct PackageFile {
  std::string path;   // the entry name
  std::string bytes;  // its content
};

struct PackageInputs {
  Manifest manifest;  // a template (ManifestMode::kTemplate): hashes, size, key id are filled
  std::string binary;
  // One per resource, proto file and lock file the template lists; a file the template does
  // not list is added as a resource.
  std::vector<PackageFile> files;
};

// The signed manifest as written. kInvalidArgument for a listed file without content, or a
// file given twice; kMalformed for a manifest that would not verify; kIo when OUT cannot be
// written.
Result<Manifest> build_package(PackageInputs inputs, const SigningKey& key,
                               const std::filesystem::path& out);

}  // namespace troupe::platform
