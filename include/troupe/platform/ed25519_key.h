// Ed25519 values the platform hands out (public keys, detached signatures) and the one key id
// scheme for them: the first 16 hex digits of SHA-256(public key) — the digest a package
// signing key's id uses after its "mfr-" prefix, so one key has one id everywhere. Plain
// values and pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace troupe {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

std::string ed25519_key_id(const Ed25519PublicKey& public_key);

}  // namespace troupe
