// NoiseCipherState: Noise's CipherState (spec rev 34, section 5.1) for ChaChaPoly — a 32-byte
// key k and a 64-bit nonce n. ENCRYPT is libsodium's ChaCha20-Poly1305 (IETF) with the 96-bit
// nonce 4 zero bytes || n as 64-bit little-endian; every successful call advances n by one, and
// the nonce 2^64-1 is reserved (Rekey), so a state that reaches it refuses to go on. A failed
// decryption leaves n unchanged. With no key (before the handshake's first MixKey) the state
// passes bytes through unchanged, as the spec says: callers that need secrecy check has_key().
// The key lives in a SecretBuffer. Move-only (a moved-from state has no key); not
// synchronised: one owner at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/platform/secret_buffer.h"

namespace troupe::net {

class NoiseCipherState {
 public:
  static constexpr std::size_t kKeySize = 32;  // ChaChaPoly's key
  static constexpr std::size_t kTagSize = 16;  // Poly1305's tag, added to every ciphertext
  static constexpr std::uint64_t kReservedNonce = ~std::uint64_t{0};

  // No key yet.
  NoiseCipherState() = default;

  // InitializeKey: the key (kKeySize bytes) and n = 0. Errors: internal (guarded memory).
  Result<void> initialize_key(std::span<const unsigned char, kKeySize> key);
  bool has_key() const { return !key_.empty(); }

  // SetNonce, for tests and for transports that carry explicit nonces.
  void set_nonce(std::uint64_t nonce) { n_ = nonce; }
  std::uint64_t nonce() const { return n_; }

  // EncryptWithAd: plaintext + 16-byte tag (the plaintext itself with no key).
  // Errors: closed (n reached the reserved nonce).
  Result<Bytes> encrypt_with_ad(BytesView ad, BytesView plaintext);
  // DecryptWithAd. Errors: decrypt-failed (authentication failed or shorter than a tag: n is
  // unchanged), closed (n reached the reserved nonce).
  Result<Bytes> decrypt_with_ad(BytesView ad, BytesView ciphertext);
  // The same without a buffer of their own (the connection's hot path): encrypt appends the
  // ciphertext and tag to `out`; decrypt replaces `out`'s contents with the plaintext, reusing
  // its capacity. `out` must not overlap the input. On an error `out` is unchanged (encrypt)
  // or unspecified (decrypt).
  Result<void> encrypt_with_ad_append(BytesView ad, BytesView plaintext, Bytes& out);
  Result<void> decrypt_with_ad_into(BytesView ad, BytesView ciphertext, Bytes& out);
  // Rekey: k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes); n unchanged.
  // Errors: closed (no key), internal.
  Result<void> rekey();

 private:
  SecretBuffer key_;
  std::uint64_t n_ = 0;
};

}  // namespace troupe::net
