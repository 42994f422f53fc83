#include "troupe/net/noise_cipher_state.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "byte_span.h"
#include "troupe/net/net_error.h"

namespace troupe::net {

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == NoiseCipherState::kKeySize);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == NoiseCipherState::kTagSize);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);

namespace {

// ChaChaPoly's nonce: 32 bits of zeros, then n as a little-endian 64-bit integer.
std::array<unsigned char, 12> ietf_nonce(std::uint64_t n) {
  std::array<unsigned char, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<unsigned char>(n >> (8 * i));
  return nonce;
}

// Appends the ciphertext and tag of `plaintext` to `out`; `out` is unchanged on an error.
Result<void> seal_append(const unsigned char* key, std::uint64_t n, BytesView ad,
                         BytesView plaintext, Bytes& out) {
  const std::size_t at = out.size();
  const std::size_t size = plaintext.size() + NoiseCipherState::kTagSize;
  out.resize(at + size);
  const auto nonce = ietf_nonce(n);
  unsigned long long written = 0;
  const auto in = byte_span(plaintext);
  const auto data = byte_span(ad);
  if (crypto_aead_chacha20poly1305_ietf_encrypt(byte_data(out) + at, &written, in.data(), in.size(),
                                                data.data(), data.size(), nullptr, nonce.data(),
                                                key) != 0 ||
      written != size) {
    out.resize(at);
    return Error{BaseErrc::kInternal, "ChaCha20-Poly1305 encryption failed"};
  }
  return {};
}

Result<Bytes> seal(const unsigned char* key, std::uint64_t n, BytesView ad, BytesView plaintext) {
  Bytes out;
  auto sealed = seal_append(key, n, ad, plaintext, out);
  if (!sealed.ok()) return sealed.error();
  return out;
}

}  // namespace

Result<void> NoiseCipherState::initialize_key(std::span<const unsigned char, kKeySize> key) {
  if (key_.empty()) {
    auto buffer = SecretBuffer::allocate(kKeySize);
    if (!buffer.ok()) return buffer.error();
    key_ = std::move(buffer).value();
  }
  std::copy(key.begin(), key.end(), key_.data());
  n_ = 0;
  return {};
}

Result<Bytes> NoiseCipherState::encrypt_with_ad(BytesView ad, BytesView plaintext) {
  Bytes out;
  auto sealed = encrypt_with_ad_append(ad, plaintext, out);
  if (!sealed.ok()) return sealed.error();
  return out;
}

Result<Bytes> NoiseCipherState::decrypt_with_ad(BytesView ad, BytesView ciphertext) {
  Bytes out;
  auto opened = decrypt_with_ad_into(ad, ciphertext, out);
  if (!opened.ok()) return opened.error();
  return out;
}

Result<void> NoiseCipherState::encrypt_with_ad_append(BytesView ad, BytesView plaintext,
                                                      Bytes& out) {
  if (!has_key()) {
    out.append(plaintext);
    return {};
  }
  if (n_ == kReservedNonce) {
    return Error{NetErrc::kClosed, "the cipher's nonces are used up (2^64-1 messages)"};
  }
  auto sealed = seal_append(key_.data(), n_, ad, plaintext, out);
  if (sealed.ok()) ++n_;
  return sealed;
}

Result<void> NoiseCipherState::decrypt_with_ad_into(BytesView ad, BytesView ciphertext,
                                                    Bytes& out) {
  if (!has_key()) {
    out.assign(ciphertext);
    return {};
  }
  if (n_ == kReservedNonce) {
    return Error{NetErrc::kClosed, "the cipher's nonces are used up (2^64-1 messages)"};
  }
  if (ciphertext.size() < kTagSize) {
    return Error{NetErrc::kDecryptFailed, "a ciphertext shorter than its 16-byte tag"};
  }
  out.resize(ciphertext.size() - kTagSize);
  const auto nonce = ietf_nonce(n_);
  unsigned long long written = 0;
  const auto in = byte_span(ciphertext);
  const auto data = byte_span(ad);
  if (crypto_aead_chacha20poly1305_ietf_decrypt(byte_data(out), &written, nullptr, in.data(),
                                                in.size(), data.data(), data.size(), nonce.data(),
                                                key_.data()) != 0 ||
      written != out.size()) {
    return Error{NetErrc::kDecryptFailed, "message authentication failed"};
  }
  ++n_;
  return {};
}

Result<void> NoiseCipherState::rekey() {
  if (!has_key()) return Error{NetErrc::kClosed, "rekey of a cipher with no key"};
  static constexpr char kZeros[kKeySize] = {};
  auto sealed = seal(key_.data(), kReservedNonce, {}, BytesView(kZeros, kKeySize));
  if (!sealed.ok()) return sealed.error();
  std::copy_n(byte_data(*sealed), kKeySize, key_.data());
  sodium_memzero(sealed->data(), sealed->size());
  return {};
}

}  // namespace troupe::net
