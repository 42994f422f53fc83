#include "troupe/net/noise_handshake.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/noise_test_peers.h"
#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

using test::NoisePeers;

TEST(NoiseHandshake, RoundTripWithFreshKeys) {
  NoisePeers peers;
  EXPECT_TRUE(peers.initiator.writes_next());
  EXPECT_FALSE(peers.responder.writes_next());

  auto m1 = peers.initiator.write_message("hello");
  ASSERT_TRUE(m1.ok());
  EXPECT_EQ(m1->size(), 32u + 5u);
  EXPECT_EQ(*peers.responder.read_message(*m1), "hello");
  EXPECT_FALSE(peers.responder.remote_static().has_value());

  auto m2 = peers.responder.write_message("from responder");
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->size(), 32u + 48u + 14u + 16u);
  EXPECT_EQ(*peers.initiator.read_message(*m2), "from responder");
  // The initiator has the responder's static key after the second message ...
  ASSERT_TRUE(peers.initiator.remote_static().has_value());
  EXPECT_EQ(*peers.initiator.remote_static(), peers.responder_key.public_key());
  EXPECT_FALSE(peers.initiator.finished());
  EXPECT_FALSE(peers.initiator.handshake_hash().ok());

  auto m3 = peers.initiator.write_message("");
  ASSERT_TRUE(m3.ok());
  EXPECT_EQ(m3->size(), 48u + 16u);
  EXPECT_EQ(*peers.responder.read_message(*m3), "");
  // ... the responder the initiator's after the third.
  ASSERT_TRUE(peers.responder.remote_static().has_value());
  EXPECT_EQ(*peers.responder.remote_static(), peers.initiator_key.public_key());

  ASSERT_TRUE(peers.initiator.finished() && peers.responder.finished());
  EXPECT_FALSE(peers.initiator.writes_next() || peers.responder.writes_next());
  auto initiator_hash = peers.initiator.handshake_hash();
  auto responder_hash = peers.responder.handshake_hash();
  ASSERT_TRUE(initiator_hash.ok() && responder_hash.ok());
  EXPECT_EQ(*initiator_hash, *responder_hash);

  auto initiator = peers.initiator.split();
  auto responder = peers.responder.split();
  ASSERT_TRUE(initiator.ok() && responder.ok());
  for (int i = 0; i < 5; ++i) {
    const std::string there = "to responder " + std::to_string(i);
    const std::string back = "to initiator " + std::to_string(i);
    EXPECT_EQ(*responder->decrypt(*initiator->encrypt(there)), there);
    EXPECT_EQ(*initiator->decrypt(*responder->encrypt(back)), back);
  }
  // The hash and the peer's key outlive the split.
  EXPECT_EQ(*peers.initiator.handshake_hash(), *initiator_hash);
  EXPECT_EQ(*peers.responder.remote_static(), peers.initiator_key.public_key());
}

TEST(NoiseHandshake, EphemeralsAreFreshEachTime) {
  NoisePeers a;
  auto second = test::make_handshake(NoiseRole::kInitiator, a.initiator_key);
  auto first_message = a.initiator.write_message("");
  auto second_message = second.write_message("");
  ASSERT_TRUE(first_message.ok() && second_message.ok());
  EXPECT_NE(*first_message, *second_message);
}

TEST(NoiseHandshake, ADifferentPrologueFailsTheHandshake) {
  NoisePeers peers("troupe v1", "troupe v2");
  auto m1 = peers.initiator.write_message("");
  ASSERT_TRUE(m1.ok());
  ASSERT_TRUE(peers.responder.read_message(*m1).ok());
  auto m2 = peers.responder.write_message("");
  ASSERT_TRUE(m2.ok());
  auto read = peers.initiator.read_message(*m2);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, NetErrc::kHandshakeFailed);
  EXPECT_TRUE(peers.initiator.failed());
  EXPECT_FALSE(peers.initiator.remote_static().has_value());
  EXPECT_FALSE(peers.initiator.write_message("").ok());
  EXPECT_FALSE(peers.initiator.split().ok());
}

// Runs a handshake in which `mutate` changes message `target` in flight; returns the index of
// the message whose read failed, or -1 when all three went through.
template <class Mutate>
int first_failed_read(int target, Mutate mutate) {
  NoisePeers peers;
  for (int m = 0; m < NoiseHandshake::kMessageCount; ++m) {
    auto message = peers.sender_of(m).write_message("payload " + std::to_string(m));
    if (!message.ok()) {
      // Only a low-order ephemeral planted by the mutation can make the responder's write
      // fail: that counts as the failure of the message it read.
      EXPECT_EQ(message.error().code, NetErrc::kHandshakeFailed);
      return m - 1;
    }
    Bytes wire = std::move(message).value();
    if (m == target) mutate(wire);
    auto read = peers.receiver_of(m).read_message(wire);
    if (!read.ok()) {
      EXPECT_TRUE(read.error().code == NetErrc::kHandshakeFailed ||
                  read.error().code == NetErrc::kMalformed)
          << read.error().to_string();
      EXPECT_TRUE(peers.receiver_of(m).failed());
      // Failed for good: even the untouched message is refused now.
      EXPECT_FALSE(peers.receiver_of(m).read_message(wire).ok());
      return m;
    }
  }
  return -1;
}

// The first message is not authenticated (no key exists yet), but it is in the transcript:
// a change to it fails the next message the initiator reads. The others fail at once.
TEST(NoiseHandshake, AFlippedBitInAnyHandshakeMessageFailsIt) {
  const std::size_t sizes[] = {32 + 9, 32 + 48 + 9 + 16, 48 + 9 + 16};
  for (int target = 0; target < NoiseHandshake::kMessageCount; ++target) {
    for (std::size_t byte = 0; byte < sizes[target]; ++byte) {
      SCOPED_TRACE("message " + std::to_string(target) + " byte " + std::to_string(byte));
      const int failed = first_failed_read(target, [&](Bytes& wire) {
        ASSERT_EQ(wire.size(), sizes[target]);
        wire[byte] = static_cast<char>(wire[byte] ^ (1 << (byte % 8)));
      });
      if (target == 0) {
        EXPECT_TRUE(failed == 0 || failed == 1) << failed;
      } else {
        EXPECT_EQ(failed, target);
      }
    }
  }
}

TEST(NoiseHandshake, TruncatedOrExtendedMessagesFail) {
  for (int target = 0; target < NoiseHandshake::kMessageCount; ++target) {
    for (std::size_t cut : {std::size_t{1}, std::size_t{8}, std::size_t{16}, std::size_t{40}}) {
      SCOPED_TRACE("message " + std::to_string(target) + " cut " + std::to_string(cut));
      const int failed =
          first_failed_read(target, [&](Bytes& wire) { wire.resize(wire.size() - cut); });
      if (target == 0) {
        EXPECT_TRUE(failed == 0 || failed == 1) << failed;
      } else {
        EXPECT_EQ(failed, target);
      }
    }
    SCOPED_TRACE("message " + std::to_string(target) + " extended");
    const int failed = first_failed_read(target, [](Bytes& wire) { wire.push_back('x'); });
    EXPECT_EQ(failed, target == 0 ? 1 : target);
  }
  // Shorter than the keys the message must carry: malformed at once.
  const std::size_t minimum[] = {32, 32 + 48 + 16, 48 + 16};
  for (int target = 0; target < NoiseHandshake::kMessageCount; ++target) {
    NoisePeers peers;
    ASSERT_TRUE(peers.exchange(0, target));
    auto read = peers.receiver_of(target).read_message(Bytes(minimum[target] - 1, '\0'));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, NetErrc::kMalformed);
  }
}

TEST(NoiseHandshake, CallsOutOfTurnFailAndTheHandshakeStaysFailed) {
  {
    NoisePeers peers;
    auto early = peers.responder.write_message("");
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, NetErrc::kHandshakeFailed);
    auto m1 = peers.initiator.write_message("");
    ASSERT_TRUE(m1.ok());
    EXPECT_FALSE(peers.responder.read_message(*m1).ok());  // failed for good
  }
  {
    NoisePeers peers;
    auto early = peers.initiator.read_message(Bytes(96, '\0'));
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, NetErrc::kHandshakeFailed);
    EXPECT_FALSE(peers.initiator.write_message("").ok());
  }
  {
    NoisePeers peers;
    ASSERT_TRUE(peers.exchange(0, 1));
    EXPECT_FALSE(peers.initiator.write_message("").ok());  // twice in a row
    EXPECT_TRUE(peers.initiator.failed());
  }
  {
    NoisePeers peers;
    ASSERT_TRUE(peers.exchange(0, 2));
    auto early = peers.initiator.split();
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, NetErrc::kHandshakeFailed);
    EXPECT_FALSE(peers.initiator.write_message("").ok());
  }
  {
    NoisePeers peers;
    ASSERT_TRUE(peers.exchange(0, 3));
    EXPECT_FALSE(peers.responder.write_message("").ok());  // nothing more to write
    EXPECT_FALSE(peers.responder.split().ok());
    ASSERT_TRUE(peers.initiator.split().ok());
    EXPECT_FALSE(peers.initiator.split().ok());  // once only
    EXPECT_FALSE(peers.initiator.read_message(Bytes(64, '\0')).ok());
  }
}

TEST(NoiseHandshake, MessagesOverTheNoiseLimitAreRefused) {
  // The largest first message carries 65535 - 32 payload bytes.
  {
    NoisePeers peers;
    auto largest = peers.initiator.write_message(Bytes(65535 - 32, 'p'));
    ASSERT_TRUE(largest.ok());
    EXPECT_EQ(largest->size(), 65535u);
    ASSERT_TRUE(peers.responder.read_message(*largest).ok());
  }
  const std::size_t overhead[] = {32, 32 + 48 + 16, 48 + 16};
  for (int target = 0; target < NoiseHandshake::kMessageCount; ++target) {
    NoisePeers peers;
    ASSERT_TRUE(peers.exchange(0, target));
    auto too_large = peers.sender_of(target).write_message(Bytes(65536 - overhead[target], 'p'));
    ASSERT_FALSE(too_large.ok());
    EXPECT_EQ(too_large.error().code, NetErrc::kFrameTooLarge);
    EXPECT_TRUE(peers.sender_of(target).failed());

    NoisePeers readers;
    ASSERT_TRUE(readers.exchange(0, target));
    auto overlong = readers.receiver_of(target).read_message(Bytes(65536, '\0'));
    ASSERT_FALSE(overlong.ok());
    EXPECT_EQ(overlong.error().code, NetErrc::kMalformed);
  }
}

// An all-zero ephemeral key is a low-order point: the DH with it is refused, on either side.
TEST(NoiseHandshake, LowOrderEphemeralKeysAreRefused) {
  {
    NoisePeers peers;
    ASSERT_TRUE(peers.responder.read_message(Bytes(32, '\0')).ok());
    auto reply = peers.responder.write_message("");
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, NetErrc::kHandshakeFailed);
  }
  {
    NoisePeers peers;
    ASSERT_TRUE(peers.exchange(0, 1));
    auto read = peers.initiator.read_message(Bytes(96, '\0'));
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, NetErrc::kHandshakeFailed);
  }
}

// The responder's static key and payload are encrypted: a second initiator, which did not send
// the first message, cannot read the responder's reply.
TEST(NoiseHandshake, OnlyTheInitiatorThatStartedCanReadTheReply) {
  NoisePeers peers;
  auto m1 = peers.initiator.write_message("");
  ASSERT_TRUE(m1.ok() && peers.responder.read_message(*m1).ok());
  auto m2 = peers.responder.write_message("secret");
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->find("secret"), Bytes::npos);
  auto other = test::make_handshake(NoiseRole::kInitiator, peers.initiator_key);
  ASSERT_TRUE(other.write_message("").ok());
  EXPECT_FALSE(other.read_message(*m2).ok());
}

}  // namespace
}  // namespace troupe::net
