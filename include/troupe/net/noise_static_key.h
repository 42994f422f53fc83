// A troupe node's Noise static key is its Ed25519 node identity converted to X25519 (libsodium's
// birational map): the node keeps one key, and a peer's Noise static key can be checked
// against the Ed25519 identity it announced. The key pair from the secret key is what the
// node hands NoiseHandshake; the public conversion is what the peer's remote_static() must
// equal. Pure functions; thread-safe.
#pragma once

#include <span>

#include "troupe/base/result.h"
#include "troupe/net/noise_key_pair.h"
#include "troupe/platform/ed25519_key.h"

namespace troupe::net {

// The X25519 public key of an Ed25519 identity. Errors: malformed (not a valid Ed25519 point:
// off the curve or of small order).
Result<NoisePublicKey> noise_public_key_of(const Ed25519PublicKey& identity);

// The X25519 key pair of an Ed25519 key pair, from libsodium's 64-byte Ed25519 secret key
// (seed || public key). Errors: invalid-argument (not 64 bytes, or its public half is not the
// seed's), internal.
Result<NoiseKeyPair> noise_key_pair_of(std::span<const unsigned char> ed25519_secret_key);

// Whether `remote_static` (a finished handshake's remote_static()) is the Noise key of
// `identity`. Errors: identity-mismatch (it is not), malformed (as noise_public_key_of).
Result<void> check_noise_identity(const NoisePublicKey& remote_static,
                                  const Ed25519PublicKey& identity);

}  // namespace troupe::net
