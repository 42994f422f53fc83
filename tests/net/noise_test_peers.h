// Helpers for the Noise tests: key pairs and handshakes that must not fail to be made, and a
// driver that runs an XX handshake between two sides. Not thread-safe; tests only.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "troupe/net/noise_handshake.h"

namespace troupe::net::test {

inline NoiseKeyPair fresh_key_pair() {
  auto pair = NoiseKeyPair::generate();
  if (!pair.ok()) throw std::runtime_error(pair.error().to_string());
  return std::move(pair).value();
}

inline NoiseHandshake make_handshake(NoiseRole role, const NoiseKeyPair& local,
                                     BytesView prologue = "troupe test") {
  auto handshake = NoiseHandshake::create(role, local, prologue);
  if (!handshake.ok()) throw std::runtime_error(handshake.error().to_string());
  return std::move(handshake).value();
}

// Two sides with fresh static keys, ready to start.
struct NoisePeers {
  NoiseKeyPair initiator_key = fresh_key_pair();
  NoiseKeyPair responder_key = fresh_key_pair();
  NoiseHandshake initiator;
  NoiseHandshake responder;

  explicit NoisePeers(BytesView initiator_prologue = "troupe test",
                      BytesView responder_prologue = "troupe test")
      : initiator(make_handshake(NoiseRole::kInitiator, initiator_key, initiator_prologue)),
        responder(make_handshake(NoiseRole::kResponder, responder_key, responder_prologue)) {}

  NoiseHandshake& sender_of(int message) { return message % 2 == 0 ? initiator : responder; }
  NoiseHandshake& receiver_of(int message) { return message % 2 == 0 ? responder : initiator; }

  // Sends the messages [from, to) with `payload`; true when every write and read succeeded.
  bool exchange(int from, int to, BytesView payload = "payload") {
    for (int m = from; m < to; ++m) {
      auto message = sender_of(m).write_message(payload);
      if (!message.ok()) return false;
      auto read = receiver_of(m).read_message(*message);
      if (!read.ok() || *read != payload) return false;
    }
    return true;
  }
};

}  // namespace troupe::net::test
