// PeerAllowlist: the node identities (Ed25519 public keys) this node accepts mesh connections
// from and makes them to. Empty means no peer at all: a node talks to a peer only once its key
// is listed ([mesh] allow in the config, or `troupe cluster allow KEY` at run time). Keys are
// written as `troupe node id` prints them: standard base64 of the 32 bytes (44 characters).
// Thread-safe: the I/O threads read it at every handshake while the control thread adds keys.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::net {

using NodeKey = std::array<std::uint8_t, 32>;

// Errors: base invalid-argument (not 44 characters of standard base64 for 32 bytes).
Result<NodeKey> parse_node_key(std::string_view text);
std::string node_key_text(const NodeKey& key);

class PeerAllowlist {
 public:
  // The number of keys a node holds at most (a bound, not a policy).
  static constexpr std::size_t kMaxKeys = 4096;

  // True when the key was not listed before. Errors: base too-large past kMaxKeys.
  Result<bool> add(const NodeKey& key);
  // True when the key was listed.
  bool remove(const NodeKey& key);
  bool contains(const NodeKey& key) const;
  std::vector<NodeKey> keys() const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::set<NodeKey> keys_;
};

}  // namespace troupe::net
