#include "troupe/platform/ed25519_key.h"

#include <sodium.h>

namespace troupe {

std::string ed25519_key_id(const Ed25519PublicKey& public_key) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, public_key.data(), public_key.size());
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, digest, 8);
  return hex;
}

}  // namespace troupe
