#include "troupe/net/noise_symmetric_state.h"

#include <sodium.h>

#include <algorithm>

#include "byte_span.h"

namespace troupe::net {

namespace {

std::span<unsigned char, kNoiseHashSize> hash_span(SecretBuffer& buffer) {
  return std::span<unsigned char, kNoiseHashSize>(buffer.data(), kNoiseHashSize);
}

// Wipes a stack temporary of derived key material when it goes out of scope.
struct WipedBlock {
  unsigned char bytes[kNoiseHashSize] = {};
  WipedBlock() = default;
  WipedBlock(const WipedBlock&) = delete;
  WipedBlock& operator=(const WipedBlock&) = delete;
  ~WipedBlock() { sodium_memzero(bytes, sizeof bytes); }
  std::span<const unsigned char, NoiseCipherState::kKeySize> cipher_key() const {
    return std::span<const unsigned char, NoiseCipherState::kKeySize>(bytes,
                                                                      NoiseCipherState::kKeySize);
  }
};

}  // namespace

Result<NoiseSymmetricState> NoiseSymmetricState::create(std::string_view protocol_name) {
  auto ck = SecretBuffer::allocate(kNoiseHashSize);
  if (!ck.ok()) return ck.error();
  NoiseSymmetricState state;
  state.ck_ = std::move(ck).value();
  // h = the name zero-padded to HASHLEN when it fits, else HASH(name); ck = h.
  if (protocol_name.size() <= kNoiseHashSize) {
    std::copy(protocol_name.begin(), protocol_name.end(), state.h_.begin());
  } else {
    noise_hash({byte_span(protocol_name)}, state.h_);
  }
  std::copy(state.h_.begin(), state.h_.end(), state.ck_.data());
  return state;
}

Result<void> NoiseSymmetricState::mix_key(std::span<const unsigned char> input_key_material) {
  WipedBlock next_ck;
  WipedBlock temp_k;
  noise_hkdf(hash_span(ck_), input_key_material, next_ck.bytes, temp_k.bytes);
  std::copy(std::begin(next_ck.bytes), std::end(next_ck.bytes), ck_.data());
  return cipher_.initialize_key(temp_k.cipher_key());
}

void NoiseSymmetricState::mix_hash(BytesView data) {
  NoiseHash next;
  noise_hash({h_, byte_span(data)}, next);
  h_ = next;
}

Result<Bytes> NoiseSymmetricState::encrypt_and_hash(BytesView plaintext) {
  auto ciphertext = cipher_.encrypt_with_ad(
      BytesView(reinterpret_cast<const char*>(h_.data()), h_.size()), plaintext);
  if (ciphertext.ok()) mix_hash(*ciphertext);
  return ciphertext;
}

Result<Bytes> NoiseSymmetricState::decrypt_and_hash(BytesView ciphertext) {
  auto plaintext = cipher_.decrypt_with_ad(
      BytesView(reinterpret_cast<const char*>(h_.data()), h_.size()), ciphertext);
  if (plaintext.ok()) mix_hash(ciphertext);
  return plaintext;
}

Result<std::pair<NoiseCipherState, NoiseCipherState>> NoiseSymmetricState::split() const {
  WipedBlock temp_k1;
  WipedBlock temp_k2;
  noise_hkdf(std::span<const unsigned char, kNoiseHashSize>(ck_.data(), kNoiseHashSize), {},
             temp_k1.bytes, temp_k2.bytes);
  std::pair<NoiseCipherState, NoiseCipherState> ciphers;
  if (auto ok = ciphers.first.initialize_key(temp_k1.cipher_key()); !ok.ok()) return ok.error();
  if (auto ok = ciphers.second.initialize_key(temp_k2.cipher_key()); !ok.ok()) return ok.error();
  return ciphers;
}

}  // namespace troupe::net
