// Hostile bytes at every stage of the Noise handshake and at the transport: whatever arrives,
// the result is a typed error (or, for the unauthenticated first message, a payload), never a
// crash, and a failed handshake stays failed. Seeded, so a failure reproduces.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/noise_test_peers.h"
#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

constexpr int kIterationsPerStage = 1000;

Bytes random_bytes(std::mt19937& rng, std::size_t size) {
  Bytes out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// A valid message for the stage, changed at random: a few bytes changed, then maybe cut or
// extended.
Bytes mutated(std::mt19937& rng, Bytes message) {
  const int changes = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < changes && !message.empty(); ++i) {
    char& byte = message[rng() % message.size()];
    byte = static_cast<char>(static_cast<unsigned char>(byte) ^ (1 + rng() % 255));  // changed
  }
  switch (rng() % 3) {
    case 0:
      message.resize(rng() % (message.size() + 1));
      break;
    case 1:
      message += random_bytes(rng, 1 + rng() % 32);
      break;
    default:
      break;
  }
  return message;
}

bool is_expected_error(const Error& error) {
  return error.code == NetErrc::kMalformed || error.code == NetErrc::kHandshakeFailed;
}

// One handshake with fixed keys, recorded: every run with the same keys writes the same
// messages, so a receiver can be brought to any stage without a live peer (half the cost of
// running both sides for each of the thousands of inputs).
struct RecordedHandshake {
  NoiseKeyPair initiator_static = test::fresh_key_pair();
  NoiseKeyPair responder_static = test::fresh_key_pair();
  NoiseKeyPair initiator_ephemeral = test::fresh_key_pair();
  NoiseKeyPair responder_ephemeral = test::fresh_key_pair();
  std::vector<Bytes> messages;

  RecordedHandshake() {
    NoiseHandshake initiator = side(NoiseRole::kInitiator);
    NoiseHandshake responder = side(NoiseRole::kResponder);
    for (int m = 0; m < NoiseHandshake::kMessageCount; ++m) {
      NoiseHandshake& sender = m % 2 == 0 ? initiator : responder;
      NoiseHandshake& receiver = m % 2 == 0 ? responder : initiator;
      auto message = sender.write_message("payload");
      EXPECT_TRUE(message.ok() && receiver.read_message(*message).ok());
      messages.push_back(message.ok() ? *message : Bytes());
    }
  }

  NoiseHandshake side(NoiseRole role) const {
    const bool initiator = role == NoiseRole::kInitiator;
    auto handshake = NoiseHandshake::create_with_fixed_ephemeral_for_tests(
        role, initiator ? initiator_static : responder_static, "hostile",
        initiator ? initiator_ephemeral : responder_ephemeral);
    if (!handshake.ok()) throw std::runtime_error(handshake.error().to_string());
    return std::move(handshake).value();
  }

  // The side that reads message `stage`, having written and read the messages before it.
  NoiseHandshake receiver_at(int stage) const {
    NoiseHandshake receiver = side(stage % 2 == 0 ? NoiseRole::kResponder : NoiseRole::kInitiator);
    for (int m = 0; m < stage; ++m) {
      const bool ok = receiver.writes_next() ? receiver.write_message("payload").ok()
                                             : receiver.read_message(messages[m]).ok();
      if (!ok) throw std::runtime_error("replaying the recorded handshake failed");
    }
    return receiver;
  }
};

TEST(NoiseHostileInput, RandomAndMutatedHandshakeMessagesNeverCrash) {
  const auto start = std::chrono::steady_clock::now();
  std::mt19937 rng(20240601);
  const RecordedHandshake recorded;
  ASSERT_EQ(recorded.messages.size(), 3u);
  for (int stage = 0; stage < NoiseHandshake::kMessageCount; ++stage) {
    const Bytes& valid = recorded.messages[stage];
    // The recording is valid input at this stage: the hostile runs below start from a receiver
    // that would have accepted it.
    ASSERT_TRUE(recorded.receiver_at(stage).read_message(valid).ok());
    int accepted = 0;
    for (int i = 0; i < kIterationsPerStage; ++i) {
      NoiseHandshake receiver = recorded.receiver_at(stage);
      const bool random = i % 2 == 0;
      const Bytes input =
          random ? random_bytes(rng, rng() % (valid.size() * 2 + 1)) : mutated(rng, valid);
      auto read = receiver.read_message(input);
      if (read.ok()) {
        ++accepted;
        // Only the first message is unauthenticated; the handshake then goes on (or fails on
        // a low-order key) without crashing.
        ASSERT_EQ(stage, 0) << "message " << stage << " accepted hostile input";
        auto reply = receiver.write_message("reply");
        if (!reply.ok()) {
          EXPECT_TRUE(is_expected_error(reply.error())) << reply.error().to_string();
        }
        continue;
      }
      EXPECT_TRUE(is_expected_error(read.error())) << read.error().to_string();
      EXPECT_TRUE(receiver.failed());
      EXPECT_FALSE(receiver.read_message(valid).ok());
      EXPECT_FALSE(receiver.write_message("").ok());
      EXPECT_FALSE(receiver.split().ok());
    }
    if (stage > 0) {
      EXPECT_EQ(accepted, 0);
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::cout << "[ hostile  ] " << 3 * kIterationsPerStage << " handshake inputs in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
}

TEST(NoiseHostileInput, RandomTransportMessagesAreRefused) {
  std::mt19937 rng(7);
  test::NoisePeers peers;
  ASSERT_TRUE(peers.exchange(0, NoiseHandshake::kMessageCount));
  auto sender = peers.initiator.split();
  auto receiver = peers.responder.split();
  ASSERT_TRUE(sender.ok() && receiver.ok());
  for (int i = 0; i < 2000; ++i) {
    // A fresh receiving direction each time would need a handshake; one that failed stays
    // failed, which is what is checked after the first refusal.
    auto opened = receiver->decrypt(random_bytes(rng, rng() % 200));
    ASSERT_FALSE(opened.ok());
    EXPECT_TRUE(opened.error().code == NetErrc::kMalformed ||
                opened.error().code == NetErrc::kDecryptFailed);
  }
  auto genuine = sender->encrypt("genuine");
  ASSERT_TRUE(genuine.ok());
  EXPECT_FALSE(receiver->decrypt(*genuine).ok());
}

}  // namespace
}  // namespace troupe::net
