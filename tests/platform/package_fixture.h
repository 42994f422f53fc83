// Shared by the platform tests: a scratch directory, file helpers, a minimal guest module that
// GuestModule::load accepts, and a manifest template for it. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "troupe/platform/manifest.h"
#include "troupe/wasm/wat.h"
#include "wat_guests.h"

namespace troupe::testing {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("troupe-" + tag + "-XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Throws (failing the test) when the file is missing: a test's input is never silently absent.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A guest the wasm layer loads: memory, cabi_realloc and a dispatch that answers ok(empty).
inline std::string guest_wasm() {
  auto bin = wasm::wat_to_wasm(wat_guest("", "(i32.const 16)"));
  if (!bin.ok()) throw std::runtime_error(bin.error().to_string());
  return std::string(bin->begin(), bin->end());
}

inline platform::Manifest template_manifest() {
  auto m = platform::Manifest::parse(R"(manufacturer = "acme"
name = "echo"
version = "1.0.0"

[binary]
path = "bin/actor.wasm"
target = "wasm32-unknown-unknown"

[metadata]
description = "an echo actor"
license = "Apache-2.0"
)",
                                     platform::ManifestMode::kTemplate);
  if (!m.ok()) throw std::runtime_error(m.error().to_string());
  return std::move(m).value();
}

}  // namespace troupe::testing
