#include "troupe/net/noise_static_key.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "troupe/net/net_error.h"

namespace troupe::net {

Result<NoisePublicKey> noise_public_key_of(const Ed25519PublicKey& identity) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  NoisePublicKey out{};
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), identity.data()) != 0) {
    return Error{NetErrc::kMalformed, "an Ed25519 public key that is not a valid curve point"};
  }
  return out;
}

Result<NoiseKeyPair> noise_key_pair_of(std::span<const unsigned char> ed25519_secret_key) {
  if (ed25519_secret_key.size() != crypto_sign_ed25519_SECRETKEYBYTES) {
    return Error{BaseErrc::kInvalidArgument, "an Ed25519 secret key is 64 bytes, not " +
                                                 std::to_string(ed25519_secret_key.size())};
  }
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  unsigned char x25519_secret[crypto_scalarmult_curve25519_SCALARBYTES];
  // Only the seed half counts: the scalar is SHA-512(seed)'s first half, clamped.
  if (crypto_sign_ed25519_sk_to_curve25519(x25519_secret, ed25519_secret_key.data()) != 0) {
    sodium_memzero(x25519_secret, sizeof x25519_secret);
    return Error{BaseErrc::kInternal, "crypto_sign_ed25519_sk_to_curve25519 failed"};
  }
  auto pair = NoiseKeyPair::from_private_key(x25519_secret);
  sodium_memzero(x25519_secret, sizeof x25519_secret);
  if (!pair.ok()) return pair.error();
  // The public half of libsodium's secret key is what peers know the node by: it has to be the
  // seed's, or the peers would check this node's Noise key against another identity.
  Ed25519PublicKey identity{};
  std::copy_n(ed25519_secret_key.begin() + crypto_sign_ed25519_SEEDBYTES, identity.size(),
              identity.begin());
  auto expected = noise_public_key_of(identity);
  if (!expected.ok() || *expected != pair->public_key()) {
    return Error{BaseErrc::kInvalidArgument,
                 "the Ed25519 secret key's public half does not belong to its seed"};
  }
  return pair;
}

Result<void> check_noise_identity(const NoisePublicKey& remote_static,
                                  const Ed25519PublicKey& identity) {
  auto expected = noise_public_key_of(identity);
  if (!expected.ok()) return expected.error();
  if (*expected != remote_static) {
    return Error{NetErrc::kIdentityMismatch,
                 "the peer's Noise static key is not the one of the identity it announced"};
  }
  return {};
}

}  // namespace troupe::net
