// TrustStore: the manufacturer keys a node trusts and what it has revoked — key ids and single
// package hashes (a package hash is the SHA-256 of its manifest.toml, see package_verifier.h).
// Revocation wins: a revoked key is never trusted again, even if added back.
// A store opened on a directory keeps it in DIR/trust.json, rewritten atomically (a 0600 temp
// file, fsync, rename) on every change; a change that cannot be saved is undone and reported.
// Loading is strict: a damaged, unreadable or oversized file is an error, never an empty store
// (only a missing file is one). An in-memory store (`pkg verify --trust-key`) saves nothing.
// Not thread-safe: its owner serialises access. Movable.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "troupe/base/result.h"
#include "troupe/platform/signing_key.h"

namespace troupe::platform {

inline constexpr const char* kTrustStoreFile = "trust.json";

class TrustStore {
 public:
  static TrustStore in_memory();
  // kIo when the directory or file cannot be read, kMalformed when the file is damaged.
  static Result<TrustStore> open(const std::filesystem::path& dir);

  // The key's id. kRevoked for a revoked key; adding a trusted key again changes nothing.
  Result<std::string> add_key(const PublicKey& key);
  // kMalformed for text that is not a key id / a SHA-256 in hex. Revoking twice is harmless.
  Result<void> revoke_key(std::string_view key_id);
  Result<void> revoke_package(std::string_view package_hash);

  // The key trusted under this id, or null (unknown or revoked).
  const PublicKey* trusted_key(std::string_view key_id) const;
  bool key_revoked(std::string_view key_id) const;
  bool package_revoked(std::string_view package_hash) const;

  const std::map<std::string, PublicKey, std::less<>>& keys() const { return keys_; }
  const std::set<std::string, std::less<>>& revoked_keys() const { return revoked_keys_; }
  const std::set<std::string, std::less<>>& revoked_packages() const { return revoked_packages_; }

 private:
  TrustStore() = default;
  Result<void> save() const;

  std::optional<std::filesystem::path> dir_;
  std::map<std::string, PublicKey, std::less<>> keys_;
  std::set<std::string, std::less<>> revoked_keys_;
  std::set<std::string, std::less<>> revoked_packages_;
};

}  // namespace troupe::platform
