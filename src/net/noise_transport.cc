#include "troupe/net/noise_transport.h"

#include <string>

#include "troupe/net/net_error.h"

namespace troupe::net {

Result<void> NoiseTransport::encrypt_append(BytesView plaintext, Bytes& out) {
  if (plaintext.size() > kMaxPlaintextSize) {
    return Error{NetErrc::kFrameTooLarge,
                 "a Noise transport plaintext of " + std::to_string(plaintext.size()) +
                     " bytes (at most " + std::to_string(kMaxPlaintextSize) + ")"};
  }
  // Without a key the cipher would pass the plaintext through: never on a transport.
  if (!send_.has_key()) return Error{NetErrc::kClosed, "the Noise transport has no send key"};
  return send_.encrypt_with_ad_append({}, plaintext, out);
}

Result<void> NoiseTransport::decrypt_into(BytesView ciphertext, Bytes& out) {
  if (receive_failed_) {
    return Error{NetErrc::kDecryptFailed, "an earlier Noise transport message failed"};
  }
  if (!receive_.has_key()) {
    return Error{NetErrc::kClosed, "the Noise transport has no receive key"};
  }
  if (ciphertext.size() > kMaxMessageSize || ciphertext.size() < NoiseCipherState::kTagSize) {
    receive_failed_ = true;
    return Error{NetErrc::kMalformed, "a Noise transport message of " +
                                          std::to_string(ciphertext.size()) +
                                          " bytes (16 to 65535)"};
  }
  auto opened = receive_.decrypt_with_ad_into({}, ciphertext, out);
  if (!opened.ok()) receive_failed_ = true;
  return opened;
}

Result<Bytes> NoiseTransport::encrypt(BytesView plaintext) {
  Bytes out;
  auto sealed = encrypt_append(plaintext, out);
  if (!sealed.ok()) return sealed.error();
  return out;
}

Result<Bytes> NoiseTransport::decrypt(BytesView ciphertext) {
  Bytes out;
  auto opened = decrypt_into(ciphertext, out);
  if (!opened.ok()) return opened.error();
  return out;
}

}  // namespace troupe::net
