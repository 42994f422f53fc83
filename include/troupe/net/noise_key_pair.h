// NoiseKeyPair: an X25519 key pair for the Noise handshake (a node's static key or a
// handshake's ephemeral). The public half is a plain 32-byte value; the private half lives in a
// SecretBuffer (sodium_malloc memory, wiped when freed) and is only ever read by the Noise code
// that computes DH with it. Move-only: copy() makes an explicit second guarded copy, so a
// secret is never duplicated by accident. Immutable after creation; const access is
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "troupe/base/result.h"
#include "troupe/platform/secret_buffer.h"

namespace troupe::net {

inline constexpr std::size_t kNoiseKeySize = 32;  // DHLEN for Curve25519
using NoisePublicKey = std::array<std::uint8_t, kNoiseKeySize>;

class NoiseKeyPair {
 public:
  // A fresh random key pair. Errors: internal (libsodium or guarded memory unavailable).
  static Result<NoiseKeyPair> generate();
  // The key pair whose private key is these 32 bytes (the public key is derived from it). The
  // caller wipes its own copy of the bytes. Errors: invalid-argument (not 32 bytes), internal.
  static Result<NoiseKeyPair> from_private_key(std::span<const unsigned char> private_key);

  // A second key pair with the same keys, in its own guarded memory. Errors: internal.
  Result<NoiseKeyPair> copy() const;

  const NoisePublicKey& public_key() const { return public_key_; }
  // kNoiseKeySize bytes.
  const unsigned char* private_key() const { return private_key_.data(); }

 private:
  NoiseKeyPair() = default;
  SecretBuffer private_key_;
  NoisePublicKey public_key_{};
};

}  // namespace troupe::net
