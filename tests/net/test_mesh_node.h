// Test helpers for the mesh transport: a node's keys as a troupe node has them, and a
// MeshTransport with handlers that record what they saw (TestNode). Header-only; one test
// binary's threads share a TestNode under its mutex.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "probe.h"
#include "troupe/net/mesh_transport.h"

namespace troupe::net::testing_mesh {

using troupe::testing::Probe;

// A node's keys as a troupe node has them: an Ed25519 identity and the X25519 Noise static key
// converted from it.
struct NodeKeys {
  NodeKey identity{};
  std::array<unsigned char, 64> ed_secret{};
  NoiseKeyPair noise() const {
    std::array<unsigned char, 32> x{};
    crypto_sign_ed25519_sk_to_curve25519(x.data(), ed_secret.data());
    auto pair = NoiseKeyPair::from_private_key(x);
    sodium_memzero(x.data(), x.size());
    return std::move(pair).value();
  }
  static NodeKeys make() {
    NodeKeys k;
    crypto_sign_keypair(k.identity.data(), k.ed_secret.data());
    return k;
  }
};

// One transport and what its handlers saw.
struct TestNode {
  NodeKeys keys = NodeKeys::make();
  PeerAllowlist allow;
  Probe ups, downs, frames;
  std::vector<Frame> received;
  std::mutex mutex;
  // When set, decides first whether a frame is held (FrameHold); set before start().
  std::function<FrameVerdict(Frame&, const FrameHold&)> hold_policy;
  std::unique_ptr<MeshTransport> transport;

  Result<void> start(std::vector<std::string> listen = {"127.0.0.1:0"},
                     MeshTransport::Options options = {}) {
    return start_with(keys.noise(), std::move(listen), std::move(options));
  }
  Result<void> start_with(NoiseKeyPair static_key, std::vector<std::string> listen,
                          MeshTransport::Options options) {
    for (const auto& text : listen)
      options.listen.push_back(MeshAddress::parse(text, true).value());
    MeshTransport::Handlers handlers;
    handlers.peer_up = [this](const PeerInfo& p) { ups.push(node_key_text(p.identity)); };
    handlers.peer_down = [this](const PeerInfo& p, const Error& e) {
      downs.push(node_key_text(p.identity) + " " + std::string(e.code.name()));
    };
    handlers.frame = [this](const PeerInfo&, Frame& f, const FrameHold& hold) {
      if (hold_policy && hold_policy(f, hold) == FrameVerdict::kHeld) return FrameVerdict::kHeld;
      std::string body = f.body.size() > 64 ? "big:" + std::to_string(f.body.size()) : f.body;
      {
        std::lock_guard lock(mutex);
        received.push_back(std::move(f));
      }
      frames.push(body);
      return FrameVerdict::kTaken;
    };
    auto t = MeshTransport::start(keys.identity, std::move(static_key), allow, std::move(options),
                                  std::move(handlers));
    if (!t.ok()) return t.error();
    transport = std::move(t).value();
    return {};
  }
  NodeId id() const { return node_id_of_identity(keys.identity); }
  MeshAddress address() const { return transport->listening().front(); }
  void allow_peer(const TestNode& other) { ASSERT_TRUE(allow.add(other.keys.identity).ok()); }
};

inline void allow_each_other(TestNode& a, TestNode& b) {
  a.allow_peer(b);
  b.allow_peer(a);
}

}  // namespace troupe::net::testing_mesh
