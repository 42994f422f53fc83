// Sha256: a streaming SHA-256 (libsodium's) for hashing package entries chunk by chunk, and the
// lowercase-hex form the manifest writes hashes in. A Sha256 is one hash in progress: not
// thread-safe, movable; final() ends it.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::platform {

using Sha256Digest = std::array<std::uint8_t, crypto_hash_sha256_BYTES>;

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  Sha256Digest final();

 private:
  crypto_hash_sha256_state state_{};
};

Sha256Digest sha256(std::string_view bytes);
// 64 lowercase hex digits.
std::string to_hex(const Sha256Digest& digest);
std::string sha256_hex(std::string_view bytes);
// A manifest hash: exactly 64 hex digits, lowercase.
bool is_sha256_hex(std::string_view text);

}  // namespace troupe::platform
