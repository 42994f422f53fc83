// NodeIdentity: who this node is, kept in its data directory across restarts.
// - An Ed25519 key pair made at the first start (`node.key`: libsodium's 64-byte secret key,
//   mode 0600, owned by this user; refused otherwise). The public key is the node's identity
//   (what other nodes' allowlists will name); the secret key lives in sodium_malloc memory.
// - The node id: the first 8 bytes (big-endian) of BLAKE2b-256 over the public key, so it is
//   the same at every start and derived from nothing else.
// - A boot counter (`node.boot`), one more at every start, written atomically before the node
//   serves anything. Actor serials are (boot << 40) + n: an id is never reused across restarts
//   of the same node, and one boot may spawn 2^40 - 1 actors.
// The data directory is created 0700 when missing; an existing one must belong to this user
// and not be writable by group or others. Starts racing on one directory each get a boot of
// their own; an `exclusive` identity (a running node's) also holds a lock on `node.key` until
// it and its copies are gone, so a second exclusive load of the directory is refused.
// The object is immutable after creation; its accessors are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/net/noise_key_pair.h"

namespace troupe {

class NodeIdentity {
 public:
  static constexpr int kSerialBits = 40;
  static constexpr std::uint64_t kMaxBoot = (std::uint64_t{1} << (64 - kSerialBits)) - 1;

  // kKeyOnly: the key (made if absent), without raising the boot counter (boot() is 0): what
  // `troupe node id` reads, even beside a running node.
  enum class IdentityUse { kRun, kKeyOnly };
  static Result<NodeIdentity> load_or_create(const std::string& data_dir, bool exclusive = false,
                                             IdentityUse mode = IdentityUse::kRun);

  NodeId node_id() const { return node_id_; }
  const std::array<std::uint8_t, 32>& public_key() const { return public_key_; }
  std::string public_key_base64() const;
  std::uint64_t boot() const { return boot_; }
  // The serials this boot may give out: [first_serial, last_serial].
  std::uint64_t first_serial() const { return (boot_ << kSerialBits) | 1; }
  std::uint64_t last_serial() const {
    return (boot_ << kSerialBits) | ((std::uint64_t{1} << kSerialBits) - 1);
  }
  // Signs `message` with the node's key (64-byte detached Ed25519 signature).
  std::array<std::uint8_t, 64> sign(std::string_view message) const;
  // The node's Noise static key: its Ed25519 key converted to X25519 (docs/PROTOCOL.md), so a
  // peer can check the key it meets in the handshake against the identity it was given.
  // Errors: internal (guarded memory).
  Result<net::NoiseKeyPair> noise_key_pair() const;

  static NodeId node_id_of(const std::array<std::uint8_t, 32>& public_key);

 private:
  struct SecretKey;
  NodeIdentity() = default;
  std::shared_ptr<SecretKey> secret_;
  std::array<std::uint8_t, 32> public_key_{};
  NodeId node_id_ = 0;
  std::uint64_t boot_ = 0;
  std::shared_ptr<void> run_lock_;  // closes the locked node.key descriptor (exclusive only)
};

}  // namespace troupe
