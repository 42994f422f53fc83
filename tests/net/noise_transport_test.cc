#include "troupe/net/noise_transport.h"

#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "net/noise_test_peers.h"
#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

struct Transports {
  std::optional<NoiseTransport> initiator;
  std::optional<NoiseTransport> responder;
  Transports() {
    test::NoisePeers peers;
    EXPECT_TRUE(peers.exchange(0, NoiseHandshake::kMessageCount));
    auto a = peers.initiator.split();
    auto b = peers.responder.split();
    EXPECT_TRUE(a.ok() && b.ok());
    if (a.ok()) initiator.emplace(std::move(a).value());
    if (b.ok()) responder.emplace(std::move(b).value());
  }
};

TEST(NoiseTransport, AReplayedMessageFailsAndTheDirectionStaysFailed) {
  Transports t;
  ASSERT_TRUE(t.initiator && t.responder);
  auto first = t.initiator->encrypt("first");
  auto second = t.initiator->encrypt("second");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*t.responder->decrypt(*first), "first");
  auto replay = t.responder->decrypt(*first);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, NetErrc::kDecryptFailed);
  // The stream lost its place: the genuine next message is refused too.
  auto next = t.responder->decrypt(*second);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, NetErrc::kDecryptFailed);
  // The other direction is unaffected.
  EXPECT_EQ(*t.initiator->decrypt(*t.responder->encrypt("back")), "back");
}

TEST(NoiseTransport, AppendingAndIntoBuffersCarryTheSameMessagesAsOwnedBuffers) {
  Transports t;
  ASSERT_TRUE(t.initiator && t.responder);
  // encrypt_append keeps what the buffer held and adds exactly one ciphertext.
  Bytes wire = "prefix";
  ASSERT_TRUE(t.initiator->encrypt_append("one", wire).ok());
  ASSERT_EQ(wire.size(), 6 + 3 + NoiseCipherState::kTagSize);
  EXPECT_EQ(wire.substr(0, 6), "prefix");
  auto two = t.initiator->encrypt("two");  // the nonces go on across both forms
  ASSERT_TRUE(two.ok());
  // decrypt_into replaces the buffer's contents, whatever it held.
  Bytes plain = "left over from an earlier, longer message";
  ASSERT_TRUE(t.responder->decrypt_into(BytesView(wire).substr(6), plain).ok());
  EXPECT_EQ(plain, "one");
  ASSERT_TRUE(t.responder->decrypt_into(*two, plain).ok());
  EXPECT_EQ(plain, "two");
  // The checks are the same: an oversized plaintext is refused and the buffer is untouched;
  // a replay fails and the direction stays failed.
  Bytes big(NoiseTransport::kMaxPlaintextSize + 1, 'x');
  Bytes kept = "kept";
  auto refused = t.initiator->encrypt_append(big, kept);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, NetErrc::kFrameTooLarge);
  EXPECT_EQ(kept, "kept");
  auto replay = t.responder->decrypt_into(*two, plain);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, NetErrc::kDecryptFailed);
  auto after = t.initiator->encrypt("three");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(t.responder->decrypt_into(*after, plain).ok());
}

TEST(NoiseTransport, ReorderedReflectedOrAlteredMessagesFail) {
  {
    Transports t;
    auto first = t.initiator->encrypt("first");
    auto second = t.initiator->encrypt("second");
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_FALSE(t.responder->decrypt(*second).ok());
  }
  {
    Transports t;
    auto mine = t.initiator->encrypt("mine");
    ASSERT_TRUE(mine.ok());
    EXPECT_FALSE(t.initiator->decrypt(*mine).ok());  // reflected back at its sender
  }
  {
    Transports t;
    auto sealed = t.initiator->encrypt("altered");
    ASSERT_TRUE(sealed.ok());
    (*sealed)[3] ^= 0x40;
    EXPECT_FALSE(t.responder->decrypt(*sealed).ok());
  }
}

TEST(NoiseTransport, SizesAreBoundedByTheNoiseMessageLimit) {
  Transports t;
  auto largest = t.initiator->encrypt(Bytes(NoiseTransport::kMaxPlaintextSize, 'x'));
  ASSERT_TRUE(largest.ok());
  EXPECT_EQ(largest->size(), 65535u);
  EXPECT_EQ(t.responder->decrypt(*largest)->size(), NoiseTransport::kMaxPlaintextSize);

  auto too_large = t.initiator->encrypt(Bytes(NoiseTransport::kMaxPlaintextSize + 1, 'x'));
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().code, NetErrc::kFrameTooLarge);
  // Refusing it used no nonce: the next message still decrypts.
  EXPECT_EQ(*t.responder->decrypt(*t.initiator->encrypt("after")), "after");

  auto overlong = t.initiator->decrypt(Bytes(65536, '\0'));
  ASSERT_FALSE(overlong.ok());
  EXPECT_EQ(overlong.error().code, NetErrc::kMalformed);
  Transports u;
  auto short_message = u.initiator->decrypt(Bytes(15, '\0'));
  ASSERT_FALSE(short_message.ok());
  EXPECT_EQ(short_message.error().code, NetErrc::kMalformed);
  EXPECT_EQ(*u.responder->decrypt(*u.initiator->encrypt("")), "");
}

// A moved-from transport has no keys: it must refuse rather than pass plaintext through.
TEST(NoiseTransport, AMovedFromTransportRefuses) {
  Transports t;
  NoiseTransport moved = std::move(*t.initiator);
  auto sealed = t.initiator->encrypt("plain");  // NOLINT(bugprone-use-after-move): on purpose
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().code, NetErrc::kClosed);
  EXPECT_FALSE(t.initiator->decrypt(Bytes(32, '\0')).ok());
  EXPECT_EQ(*t.responder->decrypt(*moved.encrypt("still works")), "still works");
}

TEST(NoiseTransport, RekeyingBothEndsKeepsThemInStep) {
  Transports t;
  ASSERT_TRUE(t.initiator->rekey_send().ok());
  auto sealed = t.initiator->encrypt("rekeyed");
  ASSERT_TRUE(sealed.ok());
  ASSERT_TRUE(t.responder->rekey_receive().ok());
  EXPECT_EQ(*t.responder->decrypt(*sealed), "rekeyed");
}

}  // namespace
}  // namespace troupe::net
