#include "troupe/base/ids.h"

#include <charconv>
#include <cstdio>

namespace troupe {

std::string ActorId::to_string() const {
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%llx.%llu", static_cast<unsigned long long>(node),
                        static_cast<unsigned long long>(serial));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<NodeId> parse_node_id(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  NodeId node = 0;
  auto [p, e] = std::from_chars(text.data(), text.data() + text.size(), node, 16);
  if (e != std::errc{} || p != text.data() + text.size() || node == 0) return std::nullopt;
  return node;
}

std::optional<ActorId> ActorId::parse(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= text.size()) return std::nullopt;
  ActorId id;
  auto node_end = text.data() + dot;
  auto [p1, e1] = std::from_chars(text.data(), node_end, id.node, 16);
  if (e1 != std::errc{} || p1 != node_end) return std::nullopt;
  auto end = text.data() + text.size();
  auto [p2, e2] = std::from_chars(node_end + 1, end, id.serial, 10);
  if (e2 != std::errc{} || p2 != end || id.serial == 0) return std::nullopt;
  return id;
}

}  // namespace troupe
