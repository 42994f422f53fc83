// A manufacturer's Ed25519 key pair and its files, in actr's conventions: the key id is
// "mfr-" + the first 16 hex digits of SHA-256(public key); the public key file holds one line,
// the raw 32-byte key in base64. The secret key file holds one line, the 32-byte Ed25519 seed in
// base64; it is created 0600 with O_EXCL (never overwriting) and refused when group or others
// may read it. SigningKey wipes its secret on destruction; it is movable, not copyable, and
// not thread-safe to mutate (sign() is const and safe to call concurrently).
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe::platform {

using PublicKey = std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES>;
using Signature = std::array<std::uint8_t, crypto_sign_BYTES>;

// "mfr-" + 16 hex digits.
std::string key_id_of(const PublicKey& key);
bool is_key_id(std::string_view text);
// The public key file's line (base64 of the 32 raw bytes), and back (kMalformed).
std::string encode_public_key(const PublicKey& key);
Result<PublicKey> decode_public_key(std::string_view text);

bool verify_signature(const PublicKey& key, std::string_view message, const Signature& sig);

class SigningKey {
 public:
  static SigningKey generate();
  // From a 32-byte seed (kMalformed otherwise).
  static Result<SigningKey> from_seed(std::string_view seed);
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  const PublicKey& public_key() const { return public_key_; }
  std::string key_id() const { return key_id_of(public_key_); }
  Signature sign(std::string_view message) const;
  // libsodium's 64-byte secret key (seed, then public key): for writing the key file only.
  const std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES>& secret_for_file() const {
    return secret_;
  }

 private:
  SigningKey() = default;
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret_{};
  PublicKey public_key_{};
};

// The file names keygen writes into its directory.
inline constexpr const char* kSecretKeyFile = "signing.key";
inline constexpr const char* kPublicKeyFile = "signing.pub";

// Writes DIR/signing.key (0600, O_EXCL) and DIR/signing.pub, creating DIR (0700) if needed;
// kIo (naming the file) when either exists or cannot be written. Returns the key id.
Result<std::string> write_key_files(const std::filesystem::path& dir, const SigningKey& key);
// kIo for a missing or unreadable file, kRefused for a secret readable by group or others,
// kMalformed for anything but one base64 line of the right size — or actr's JSON key files
// ({"private_key", "public_key", ...} from `actr pkg keygen`, {"public_key"} for a public
// key), read too so that actr's keys work with troupe's packages.
Result<SigningKey> load_signing_key(const std::filesystem::path& file);
Result<PublicKey> load_public_key(const std::filesystem::path& file);

}  // namespace troupe::platform
