// NoiseTransport: the two ciphers a finished Noise handshake splits into — one for the
// messages this side sends, one for those it receives — used with empty associated data.
// Each message is at most Noise's 65535 bytes, so a plaintext is at most 65535 - 16. Messages
// must be decrypted in the order they were encrypted, each once: a replayed, reordered,
// dropped or altered message fails authentication, and the receiving direction then stays
// failed (every later decrypt errors), because a stream that lost its place cannot be trusted
// again — the connection is to be closed. encrypt() and decrypt() touch disjoint state, so one
// thread may send while another receives; neither may be called from two threads at once.
// Move-only.
#pragma once

#include <cstddef>
#include <utility>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/net/noise_cipher_state.h"

namespace troupe::net {

class NoiseTransport {
 public:
  static constexpr std::size_t kMaxMessageSize = 65535;
  static constexpr std::size_t kMaxPlaintextSize = kMaxMessageSize - NoiseCipherState::kTagSize;

  NoiseTransport(NoiseCipherState send, NoiseCipherState receive)
      : send_(std::move(send)), receive_(std::move(receive)) {}

  // Errors: frame-too-large (plaintext over kMaxPlaintextSize), closed (no key — a moved-from
  // transport — or the nonces are used up).
  Result<Bytes> encrypt(BytesView plaintext);
  // Errors: malformed (shorter than a tag or over kMaxMessageSize), decrypt-failed
  // (authentication failed, now or at an earlier message), closed (as for encrypt).
  Result<Bytes> decrypt(BytesView ciphertext);
  // The same without a buffer of their own (NoiseCipherState's *_append / *_into): encrypt
  // appends to `out`, decrypt replaces `out`'s contents reusing its capacity. `out` must not
  // overlap the input.
  Result<void> encrypt_append(BytesView plaintext, Bytes& out);
  Result<void> decrypt_into(BytesView ciphertext, Bytes& out);

  // Rekey of one direction (Noise section 11.3); both sides must rekey at the same message.
  // Errors: closed (no key), internal.
  Result<void> rekey_send() { return send_.rekey(); }
  Result<void> rekey_receive() { return receive_.rekey(); }

 private:
  NoiseCipherState send_;
  NoiseCipherState receive_;
  bool receive_failed_ = false;
};

}  // namespace troupe::net
