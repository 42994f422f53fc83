// MasterKey: the node's key-encryption key. Every custodial key rests sealed under it
// (XChaCha20-Poly1305, key_custody.h); it never leaves this object — it seals and opens, and
// shows only a fingerprint (key_id) that says which master key sealed a record.
//
// Two sources, one per node (a directory holding the files of one refuses the other):
// - a key file `master.key` (32 random bytes, a private file: 0600, this user's) made at the
//   first start and never overwritten; a file with another mode, owner or size is refused;
// - a passphrase, stretched with Argon2id (crypto_pwhash) over a random salt kept with the
//   work limits and the derived key's fingerprint in `master.salt`: the same passphrase gives
//   the same key at every start, and a wrong one is refused (master-key-mismatch) before any
//   record is touched. The limits are fixed when the salt is made; later starts use the stored
//   ones.
// The 32 bytes live in sodium_malloc memory and are wiped when the object goes.
// Move-only. After creation it is immutable: seal/open are thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "troupe/base/result.h"
#include "troupe/platform/secret_buffer.h"

namespace troupe {

// Argon2id work limits. Bounds keep a tampered salt file from asking for absurd work.
struct PassphraseLimits {
  static constexpr std::uint64_t kMinOps = 1;
  static constexpr std::uint64_t kMaxOps = 64;
  static constexpr std::size_t kMinMemBytes = 8192;                  // libsodium's minimum
  static constexpr std::size_t kMaxMemBytes = std::size_t{4} << 30;  // 4 GiB

  std::uint64_t ops = 3;
  std::size_t mem_bytes = std::size_t{64} << 20;  // 64 MiB
};

class MasterKey {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  static constexpr std::size_t kSaltBytes = 16;
  static constexpr std::size_t kNonceBytes = 24;
  static constexpr std::size_t kTagBytes = 16;
  static constexpr std::string_view kKeyFileName = "master.key";
  static constexpr std::string_view kSaltFileName = "master.salt";
  using KeyId = std::array<std::uint8_t, 8>;

  // Reads DIR/master.key, or makes it when missing (a start racing another reads the winner's).
  // DIR is created 0700 when missing. Errors: refused (bad mode/owner/size, a symbolic link,
  // DIR holds a passphrase salt), io, internal.
  static Result<MasterKey> load_or_create(const std::string& dir);

  // Derives the key from `passphrase` and DIR/master.salt, making the salt (with `limits_if_new`)
  // at the first start. Errors: invalid-argument (empty passphrase, limits out of bounds),
  // master-key-mismatch (not the passphrase the salt was made with), malformed (a salt file
  // that does not parse), refused, io, internal.
  static Result<MasterKey> from_passphrase(const std::string& dir, std::string_view passphrase,
                                           const PassphraseLimits& limits_if_new = {});

  // The derivation itself: the same passphrase, salt and limits always give the same key.
  static Result<MasterKey> derive(std::string_view passphrase,
                                  const std::array<std::uint8_t, kSaltBytes>& salt,
                                  const PassphraseLimits& limits);

  // A fingerprint of the key (keyed BLAKE2b): tells master keys apart, reveals nothing of it.
  const KeyId& key_id() const { return key_id_; }
  std::string key_id_hex() const;

  // nonce (24 random bytes) || ciphertext || tag, binding `associated` (not stored).
  std::string seal(std::string_view associated, const unsigned char* plain,
                   std::size_t plain_size) const;
  // The plaintext, in guarded memory. Errors: damaged (too short, or authentication failed:
  // a changed byte, other associated data or another key).
  Result<SecretBuffer> open(std::string_view associated, std::string_view sealed) const;

 private:
  MasterKey() = default;
  void compute_key_id();

  SecretBuffer key_;
  KeyId key_id_{};
};

}  // namespace troupe
