// Member: one node of the cluster as the membership protocol (SWIM) knows it — who it is (the
// node id and the Ed25519 public key it is derived from), where to reach it (an address the
// connection layer understands), which incarnation of it we know about and what we believe of
// it (alive, suspect, dead, left). A member record whose id is not the id of its key is refused
// everywhere: the id is what the allowlist and the actor references name.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "troupe/base/clock.h"
#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/platform/ed25519_key.h"

namespace troupe {

// The values are the wire values (docs/PROTOCOL.md, "Membership"): never renumber.
enum class MemberState : std::uint8_t {
  kAlive = 1,
  kSuspect = 2,
  kDead = 3,
  kLeft = 4,  // left on purpose: not probed, not reconnected to
};

std::string_view member_state_name(MemberState state);  // "alive", "suspect", "dead", "left"

// An address is 1..255 printable ASCII bytes (0x20..0x7e): "127.0.0.1:7400", "unix:/path".
inline constexpr std::size_t kMaxMemberAddressBytes = 255;

inline constexpr std::uint64_t kMaxIncarnation = ~std::uint64_t{0};

struct Member {
  NodeId id = 0;
  Ed25519PublicKey identity{};
  std::string address;
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::kAlive;
  Clock::TimePoint state_changed{};  // local time of the last state change; never on the wire

  friend bool operator==(const Member&, const Member&) = default;
};

// The node id of a public key: the first 8 bytes (big-endian) of BLAKE2b-256 over the key, 0
// mapped to 1 (0 means "no node"); the same function as NodeIdentity::node_id_of.
NodeId member_id_of(const Ed25519PublicKey& identity);

// kMalformed with a detail when the address is empty, too long or not printable.
Result<void> check_member_address(std::string_view address);
// kMalformed when the id is not the identity's id or the address is not acceptable.
Result<void> check_member(const Member& member);

}  // namespace troupe
