// Internal: the AOT tier's on-disk cache of compiled objects, a code-loading boundary. Anything
// in it is about to be dlopen'ed, so:
// - the directory is private: created 0700 component by component, refused when another user
//   owns it or it is group/world-writable (checked with fstat on the opened directory, every
//   later access relative to that fd, the last component opened with O_NOFOLLOW); existing
//   ancestors must be owned by root or this user and not be writable by others unless sticky;
// - every entry is authenticated: a keyed BLAKE2b tag (libsodium crypto_generichash) over the
//   entry's name and every byte of the object, under a node-local 32-byte key kept 0600 in
//   the directory (created at first use with O_EXCL; refused when its owner, mode or size is
//   wrong). read() hands back the verified bytes themselves, so what is loaded is exactly
//   what was checked (the caller loads them from a sealed memfd, never from the path).
// Thread-safe after construction (every call works on its own fds); the directory fd lives
// as long as the cache.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::wasm::aot {

class ObjectCache {
 public:
  // Opens (creating what is missing) the private directory `dir` and its key.
  static Result<std::unique_ptr<ObjectCache>> open(const std::filesystem::path& dir,
                                                   std::uint64_t max_object_bytes);
  ~ObjectCache();
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // The object stored under `name` after its tag checked out. kNotFound when there is none;
  // kRefused when it is not a regular file of ours, too large, or its tag does not match.
  Result<std::vector<std::uint8_t>> read(const std::string& name) const;
  // Stores `object` under `name` with its tag; atomic (a reader sees the old entry or the new).
  Result<void> write(const std::string& name, const std::vector<std::uint8_t>& object) const;

  // The key file's name inside the directory.
  static constexpr const char* kKeyFile = "aot.key";

 private:
  ObjectCache() = default;
  void tag(const std::string& name, const std::uint8_t* data, std::size_t size,
           unsigned char* out) const;

  std::filesystem::path path_;
  int dir_fd_ = -1;
  std::uint64_t max_object_bytes_ = 0;
  unsigned char key_[crypto_generichash_KEYBYTES] = {};
};

}  // namespace troupe::wasm::aot
