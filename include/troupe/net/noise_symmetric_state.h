// NoiseSymmetricState: Noise's SymmetricState (spec rev 34, section 5.2) for
// *_ChaChaPoly_BLAKE2b — the chaining key ck, the handshake hash h and a NoiseCipherState.
// It is the handshake's transcript and key schedule: NoiseHandshake drives it token by token,
// and split() hands out the two transport ciphers. The chaining key lives in a SecretBuffer and
// every derived temporary is wiped; h is no secret (it is the channel-binding value). Move-only;
// not synchronised: one owner at a time.
#pragma once

#include <span>
#include <string_view>
#include <utility>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/net/noise_cipher_state.h"
#include "troupe/net/noise_hash.h"
#include "troupe/platform/secret_buffer.h"

namespace troupe::net {

class NoiseSymmetricState {
 public:
  // InitializeSymmetric(protocol_name). Errors: internal (guarded memory).
  static Result<NoiseSymmetricState> create(std::string_view protocol_name);

  // MixKey: (ck, k) = HKDF(ck, input_key_material), with k cut to 32 bytes. Errors: internal.
  Result<void> mix_key(std::span<const unsigned char> input_key_material);
  // MixHash: h = HASH(h || data).
  void mix_hash(BytesView data);
  // EncryptAndHash / DecryptAndHash: through the cipher with h as associated data, then the
  // ciphertext is mixed into h. Errors: the cipher's (decrypt-failed, closed); a failed
  // decryption leaves h unchanged.
  Result<Bytes> encrypt_and_hash(BytesView plaintext);
  Result<Bytes> decrypt_and_hash(BytesView ciphertext);
  // Split: the cipher for initiator-to-responder messages, then responder-to-initiator.
  // Errors: internal.
  Result<std::pair<NoiseCipherState, NoiseCipherState>> split() const;

  bool has_key() const { return cipher_.has_key(); }
  const NoiseHash& handshake_hash() const { return h_; }

 private:
  NoiseSymmetricState() = default;
  SecretBuffer ck_;  // kNoiseHashSize bytes
  NoiseHash h_{};
  NoiseCipherState cipher_;
};

}  // namespace troupe::net
