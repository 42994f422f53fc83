#include "troupe/net/noise_key_pair.h"

#include <sodium.h>

#include <algorithm>
#include <string>

namespace troupe::net {

static_assert(crypto_scalarmult_BYTES == kNoiseKeySize);
static_assert(crypto_scalarmult_SCALARBYTES == kNoiseKeySize);
static_assert(crypto_box_PUBLICKEYBYTES == kNoiseKeySize);
static_assert(crypto_box_SECRETKEYBYTES == kNoiseKeySize);

Result<NoiseKeyPair> NoiseKeyPair::generate() {
  auto secret = SecretBuffer::allocate(kNoiseKeySize);
  if (!secret.ok()) return secret.error();
  NoiseKeyPair pair;
  pair.private_key_ = std::move(secret).value();
  // crypto_box's key pair is an X25519 one: random private key, public = X25519(sk, base).
  if (crypto_box_keypair(pair.public_key_.data(), pair.private_key_.data()) != 0) {
    return Error{BaseErrc::kInternal, "crypto_box_keypair failed"};
  }
  return pair;
}

Result<NoiseKeyPair> NoiseKeyPair::from_private_key(std::span<const unsigned char> private_key) {
  if (private_key.size() != kNoiseKeySize) {
    return Error{BaseErrc::kInvalidArgument,
                 "an X25519 private key is 32 bytes, not " + std::to_string(private_key.size())};
  }
  auto secret = SecretBuffer::allocate(kNoiseKeySize);
  if (!secret.ok()) return secret.error();
  NoiseKeyPair pair;
  pair.private_key_ = std::move(secret).value();
  std::copy(private_key.begin(), private_key.end(), pair.private_key_.data());
  if (crypto_scalarmult_base(pair.public_key_.data(), pair.private_key_.data()) != 0) {
    return Error{BaseErrc::kInternal, "crypto_scalarmult_base failed"};
  }
  return pair;
}

Result<NoiseKeyPair> NoiseKeyPair::copy() const {
  if (private_key_.empty()) return Error{BaseErrc::kInternal, "copy of a moved-from key pair"};
  auto secret = SecretBuffer::allocate(kNoiseKeySize);
  if (!secret.ok()) return secret.error();
  NoiseKeyPair pair;
  pair.private_key_ = std::move(secret).value();
  std::copy_n(private_key_.data(), kNoiseKeySize, pair.private_key_.data());
  pair.public_key_ = public_key_;
  return pair;
}

}  // namespace troupe::net
