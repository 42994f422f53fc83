// KeyRecord: how one custodial key rests on disk, sealed under the master key.
//
//   header  = "TRPKEY01" | master key id (8) | name length (u16, big-endian) | name
//   file    = header | nonce (24) | XChaCha20-Poly1305(plaintext, associated data = header)
//   plaintext = Ed25519 seed (32) | created (i64) | n (u32) | n × (public key (32) |
//               created (i64) | retired (i64))          (integers big-endian, times Unix s)
//
// The header travels in the clear so a record names its owner and its master key, and is
// authenticated with the rest: a record copied to another name's file, a changed byte
// anywhere, or a record under another master key is refused — never read as some other key.
// Decrypted material lives only in sodium_malloc memory. Internal to src/platform: only
// KeyCustody opens records (no public header hands out a secret key). Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/ed25519_key.h"
#include "troupe/platform/key_custody.h"
#include "troupe/platform/master_key.h"
#include "troupe/platform/secret_buffer.h"

namespace troupe {

struct KeyRecord {
  static constexpr std::size_t kMaxFileBytes = 4096;

  SecretBuffer secret_key;  // libsodium's 64-byte Ed25519 secret key (seed || public key)
  Ed25519PublicKey public_key{};
  std::int64_t created = 0;
  std::vector<RetiredPublicKey> retired;  // oldest first, at most KeyCustody::kMaxRetiredKeys
};

// The file bytes for `record` under `master`. Only the seed half of the secret key is stored.
// Errors: internal (no guarded memory, bounds broken by the caller).
Result<std::string> seal_key_record(const MasterKey& master, std::string_view name,
                                    const KeyRecord& record);

// The record `file` holds for `name`. Errors: damaged (not a record, a record of another name,
// a changed byte), master-key-mismatch (sealed under another
// master key), internal.
Result<KeyRecord> open_key_record(const MasterKey& master, std::string_view name,
                                  std::string_view file);

// The name in a record's clear header (for listing). Errors: damaged.
Result<std::string> key_record_name(std::string_view file);

}  // namespace troupe
