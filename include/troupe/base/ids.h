// Identity of an actor: the node it lives on plus a serial that is unique on that node for
// the node's lifetime (never reused). The type name is carried separately by the cell.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

using NodeId = std::uint64_t;  // derived from the node's public key (NodeIdentity)

// A node id in text form: its hex digits (1 to 16, as `troupe cluster members` prints them);
// nullopt for anything else, and for 0.
std::optional<NodeId> parse_node_id(std::string_view text);

struct ActorId {
  NodeId node = 0;
  std::uint64_t serial = 0;  // 0 = no actor

  bool valid() const { return serial != 0; }
  // Text form "NODE.SERIAL" (node in hex), e.g. "1a2b3c4d.42".
  std::string to_string() const;
  static std::optional<ActorId> parse(std::string_view text);

  friend auto operator<=>(const ActorId&, const ActorId&) = default;
};

}  // namespace troupe

template <>
struct std::hash<troupe::ActorId> {
  std::size_t operator()(const troupe::ActorId& id) const noexcept {
    return std::hash<std::uint64_t>{}(id.serial * 0x9E3779B97F4A7C15ULL ^ id.node);
  }
};
