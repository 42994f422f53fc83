#include "troupe/net/noise_cipher_state.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>

#include "net/hex.h"
#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

using test::byte_span;

std::array<unsigned char, 32> test_key(unsigned char fill) {
  std::array<unsigned char, 32> key{};
  key.fill(fill);
  return key;
}

NoiseCipherState keyed(unsigned char fill) {
  NoiseCipherState cipher;
  EXPECT_TRUE(cipher.initialize_key(test_key(fill)).ok());
  return cipher;
}

TEST(NoiseCipherState, WithoutAKeyBytesPassThrough) {
  NoiseCipherState cipher;
  EXPECT_FALSE(cipher.has_key());
  auto out = cipher.encrypt_with_ad("ad", "plain");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "plain");
  EXPECT_EQ(cipher.nonce(), 0u);
}

// The nonce is 4 zero bytes, then n little-endian: checked against libsodium called directly.
TEST(NoiseCipherState, UsesTheIetfNonceWithNLittleEndian) {
  NoiseCipherState cipher = keyed(7);
  cipher.set_nonce(0x0102030405060708ull);
  auto sealed = cipher.encrypt_with_ad("ad", "hello");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(cipher.nonce(), 0x0102030405060709ull);

  const auto key = test_key(7);
  const std::array<unsigned char, 12> nonce = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
  std::array<unsigned char, 5 + 16> expected{};
  unsigned long long written = 0;
  ASSERT_EQ(crypto_aead_chacha20poly1305_ietf_encrypt(
                expected.data(), &written, byte_span("hello").data(), 5, byte_span("ad").data(), 2,
                nullptr, nonce.data(), key.data()),
            0);
  EXPECT_EQ(test::to_hex(*sealed), test::to_hex(expected));
}

TEST(NoiseCipherState, RoundTripsAndRefusesTamperingWithoutAdvancing) {
  NoiseCipherState sender = keyed(1);
  NoiseCipherState receiver = keyed(1);
  auto first = sender.encrypt_with_ad("ad", "one");
  auto second = sender.encrypt_with_ad("ad", "two");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->size(), 3 + NoiseCipherState::kTagSize);
  EXPECT_NE(*first, *second);  // n advanced

  Bytes tampered = *first;
  tampered[0] ^= 1;
  auto refused = receiver.decrypt_with_ad("ad", tampered);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, NetErrc::kDecryptFailed);
  EXPECT_FALSE(receiver.decrypt_with_ad("other ad", *first).ok());
  EXPECT_FALSE(receiver.decrypt_with_ad("ad", first->substr(0, 15)).ok());
  EXPECT_EQ(receiver.nonce(), 0u);

  auto opened = receiver.decrypt_with_ad("ad", *first);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "one");
  EXPECT_EQ(receiver.nonce(), 1u);
  // A replay is decrypted under the next nonce and fails.
  EXPECT_FALSE(receiver.decrypt_with_ad("ad", *first).ok());
  EXPECT_EQ(*receiver.decrypt_with_ad("ad", *second), "two");
}

TEST(NoiseCipherState, TheLastNonceIsReserved) {
  NoiseCipherState sender = keyed(2);
  NoiseCipherState receiver = keyed(2);
  sender.set_nonce(NoiseCipherState::kReservedNonce - 1);
  receiver.set_nonce(NoiseCipherState::kReservedNonce - 1);
  auto last = sender.encrypt_with_ad({}, "last");
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(receiver.decrypt_with_ad({}, *last).ok());

  auto refused = sender.encrypt_with_ad({}, "one too many");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, NetErrc::kClosed);
  EXPECT_EQ(sender.nonce(), NoiseCipherState::kReservedNonce);
  auto refused_read = receiver.decrypt_with_ad({}, *last);
  ASSERT_FALSE(refused_read.ok());
  EXPECT_EQ(refused_read.error().code, NetErrc::kClosed);
}

TEST(NoiseCipherState, RekeyChangesTheKeyOnBothSidesAlike) {
  NoiseCipherState sender = keyed(3);
  NoiseCipherState receiver = keyed(3);
  NoiseCipherState stale = keyed(3);
  ASSERT_TRUE(sender.rekey().ok());
  ASSERT_TRUE(receiver.rekey().ok());
  auto sealed = sender.encrypt_with_ad({}, "after rekey");
  ASSERT_TRUE(sealed.ok());
  EXPECT_FALSE(stale.decrypt_with_ad({}, *sealed).ok());
  auto opened = receiver.decrypt_with_ad({}, *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "after rekey");

  // Rekey is k = ENCRYPT(k, 2^64-1, "", zeros)[0..32].
  const auto key = test_key(3);
  std::array<unsigned char, 12> nonce{};
  std::fill(nonce.begin() + 4, nonce.end(), 0xff);
  const std::array<unsigned char, 32> zeros{};
  std::array<unsigned char, 48> rekeyed{};
  ASSERT_EQ(
      crypto_aead_chacha20poly1305_ietf_encrypt(rekeyed.data(), nullptr, zeros.data(), 32, nullptr,
                                                0, nullptr, nonce.data(), key.data()),
      0);
  NoiseCipherState expected;
  ASSERT_TRUE(expected.initialize_key(std::span<const unsigned char, 32>(rekeyed.data(), 32)).ok());
  EXPECT_EQ(*expected.decrypt_with_ad({}, *sealed), "after rekey");

  NoiseCipherState empty;
  EXPECT_FALSE(empty.rekey().ok());
}

}  // namespace
}  // namespace troupe::net
