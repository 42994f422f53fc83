#include "troupe/net/noise_static_key.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>

#include "troupe/net/net_error.h"
#include "troupe/net/noise_handshake.h"

namespace troupe::net {
namespace {

struct Ed25519Pair {
  Ed25519PublicKey public_key{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key{};
  Ed25519Pair() {
    EXPECT_EQ(sodium_init() >= 0, true);
    crypto_sign_keypair(public_key.data(), secret_key.data());
  }
  ~Ed25519Pair() { sodium_memzero(secret_key.data(), secret_key.size()); }
};

TEST(NoiseStaticKey, TheConvertedPublicKeyIsTheConvertedSecretsPublicKey) {
  for (int i = 0; i < 8; ++i) {
    Ed25519Pair identity;
    auto pair = noise_key_pair_of(identity.secret_key);
    ASSERT_TRUE(pair.ok()) << pair.error().to_string();
    auto public_key = noise_public_key_of(identity.public_key);
    ASSERT_TRUE(public_key.ok());
    NoisePublicKey derived{};
    ASSERT_EQ(crypto_scalarmult_base(derived.data(), pair->private_key()), 0);
    EXPECT_EQ(derived, *public_key);
    EXPECT_EQ(pair->public_key(), *public_key);
    EXPECT_TRUE(check_noise_identity(*public_key, identity.public_key).ok());
  }
}

TEST(NoiseStaticKey, RefusesBadKeys) {
  Ed25519Pair identity;
  auto short_key = noise_key_pair_of(std::span(identity.secret_key).first(32));
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.error().code, BaseErrc::kInvalidArgument);

  // A secret key whose public half is someone else's.
  Ed25519Pair other;
  std::array<unsigned char, 64> mixed = identity.secret_key;
  std::copy(other.public_key.begin(), other.public_key.end(), mixed.begin() + 32);
  EXPECT_FALSE(noise_key_pair_of(mixed).ok());
  sodium_memzero(mixed.data(), mixed.size());

  // Small-order points: the neutral element (y = 1) and the point of order 4 at y = 0.
  Ed25519PublicKey neutral{};
  neutral[0] = 1;
  Ed25519PublicKey zero{};
  for (const auto& bad : {neutral, zero}) {
    auto converted = noise_public_key_of(bad);
    ASSERT_FALSE(converted.ok());
    EXPECT_EQ(converted.error().code, NetErrc::kMalformed);
  }
}

// Two nodes whose Noise static keys come from their identities: each can check that the peer's
// proven static key belongs to the identity it announced, and a third identity does not match.
TEST(NoiseStaticKey, AHandshakeProvesTheAnnouncedIdentity) {
  Ed25519Pair alice;
  Ed25519Pair bob;
  Ed25519Pair mallory;
  auto alice_key = noise_key_pair_of(alice.secret_key);
  auto bob_key = noise_key_pair_of(bob.secret_key);
  ASSERT_TRUE(alice_key.ok() && bob_key.ok());
  auto initiator = NoiseHandshake::create(NoiseRole::kInitiator, *alice_key, "prologue");
  auto responder = NoiseHandshake::create(NoiseRole::kResponder, *bob_key, "prologue");
  ASSERT_TRUE(initiator.ok() && responder.ok());
  auto m1 = initiator->write_message({});
  ASSERT_TRUE(m1.ok() && responder->read_message(*m1).ok());
  auto m2 = responder->write_message({});
  ASSERT_TRUE(m2.ok() && initiator->read_message(*m2).ok());
  auto m3 = initiator->write_message({});
  ASSERT_TRUE(m3.ok() && responder->read_message(*m3).ok());

  EXPECT_TRUE(check_noise_identity(*initiator->remote_static(), bob.public_key).ok());
  EXPECT_TRUE(check_noise_identity(*responder->remote_static(), alice.public_key).ok());
  auto wrong = check_noise_identity(*responder->remote_static(), mallory.public_key);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, NetErrc::kIdentityMismatch);
}

}  // namespace
}  // namespace troupe::net
