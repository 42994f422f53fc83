#include "troupe/cluster/member.h"

#include <sodium.h>

#include <string>

#include "troupe/cluster/cluster_error.h"

namespace troupe {

std::string_view member_state_name(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
    case MemberState::kLeft:
      return "left";
  }
  return "unknown";
}

NodeId member_id_of(const Ed25519PublicKey& identity) {
  static const bool ready = sodium_init() >= 0;
  (void)ready;  // libsodium asks for sodium_init before any other call; it cannot fail here
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, identity.data(), identity.size(), nullptr, 0);
  NodeId id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | hash[i];
  return id == 0 ? 1 : id;
}

Result<void> check_member_address(std::string_view address) {
  if (address.empty()) return Error{ClusterErrc::kMalformed, "empty member address"};
  if (address.size() > kMaxMemberAddressBytes) {
    return Error{ClusterErrc::kMalformed,
                 "member address of " + std::to_string(address.size()) + " bytes (max 255)"};
  }
  for (char c : address) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b > 0x7e) {
      return Error{ClusterErrc::kMalformed, "member address with a non-printable byte"};
    }
  }
  return {};
}

Result<void> check_member(const Member& member) {
  if (member.id != member_id_of(member.identity)) {
    return Error{ClusterErrc::kMalformed, "member id is not the id of its identity key"};
  }
  return check_member_address(member.address);
}

}  // namespace troupe
