#include "troupe/net/mesh_config.h"

#include <cstdint>

#include "troupe/base/error.h"
#include "troupe/base/toml_integer.h"

namespace troupe::net {
namespace {

// A string, or a list of strings (at most `max`).
Result<std::vector<std::string>> strings(const toml::node& value, const std::string& what,
                                         std::size_t max) {
  std::vector<std::string> out;
  auto bad = [&] {
    return Error{BaseErrc::kInvalidArgument, what + " must be a string or a list of at most " +
                                                 std::to_string(max) + " strings"};
  };
  if (auto s = value.value_exact<std::string>()) {
    out.push_back(*s);
    return out;
  }
  const toml::array* list = value.as_array();
  if (!list || list->size() > max) return bad();
  for (const toml::node& item : *list) {
    auto s = item.value_exact<std::string>();
    if (!s) return bad();
    out.push_back(*s);
  }
  return out;
}

Result<std::vector<MeshAddress>> addresses(const toml::node& value, const std::string& what,
                                           bool allow_port_zero) {
  auto texts = strings(value, what, 64);
  if (!texts.ok()) return texts.error();
  std::vector<MeshAddress> out;
  for (const std::string& text : *texts) {
    auto a = MeshAddress::parse(text, allow_port_zero);
    if (!a.ok()) return Error{BaseErrc::kInvalidArgument, what + ": " + a.error().detail};
    out.push_back(std::move(a).value());
  }
  return out;
}

}  // namespace

Result<void> parse_mesh_table(const toml::table& table, const std::string& origin,
                              MeshConfig& config) {
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    const std::string what = origin + ": mesh." + k;
    if (k == "listen") {
      auto a = addresses(value, what, /*allow_port_zero=*/true);
      if (!a.ok()) return a.error();
      // An empty list would turn the mesh off without a word: leave the key out for that.
      if (a->empty()) return Error{BaseErrc::kInvalidArgument, what + " is an empty list"};
      config.listen = std::move(a).value();
    } else if (k == "join") {
      auto a = addresses(value, what, /*allow_port_zero=*/false);
      if (!a.ok()) return a.error();
      config.join = std::move(a).value();
    } else if (k == "advertise") {
      auto s = value.value_exact<std::string>();
      if (!s) return Error{BaseErrc::kInvalidArgument, what + " must be a string"};
      auto a = MeshAddress::parse(*s);
      if (!a.ok()) return Error{BaseErrc::kInvalidArgument, what + ": " + a.error().detail};
      config.advertise = a->to_string();
    } else if (k == "allow") {
      auto texts = strings(value, what, PeerAllowlist::kMaxKeys);
      if (!texts.ok()) return texts.error();
      config.allow.clear();
      for (const std::string& text : *texts) {
        auto parsed = parse_node_key(text);
        if (!parsed.ok())
          return Error{BaseErrc::kInvalidArgument, what + ": " + parsed.error().detail};
        config.allow.push_back(*parsed);
      }
    } else if (k == "handshake_timeout_ms") {
      auto n = toml_integer_in(value, what, 100, 600'000);
      if (!n.ok()) return n.error();
      config.handshake_timeout = std::chrono::milliseconds(*n);
    } else if (k == "max_hold_ms") {
      auto n = toml_integer_in(value, what, 1, 600'000);
      if (!n.ok()) return n.error();
      config.max_hold = std::chrono::milliseconds(*n);
    } else if (k == "tcp_user_timeout_ms") {
      auto n = toml_integer_in(value, what, 1000, 600'000);
      if (!n.ok()) return n.error();
      config.tcp_user_timeout = std::chrono::milliseconds(*n);
    } else if (k == "io_threads") {
      auto n = toml_integer_in(value, what, 1, 64);
      if (!n.ok()) return n.error();
      config.io_threads = static_cast<unsigned>(*n);
    } else if (k == "max_peers") {
      auto n = toml_integer_in(value, what, 1, 65536);
      if (!n.ok()) return n.error();
      config.max_peers = static_cast<std::size_t>(*n);
    } else if (k == "remote_spawn") {
      auto s = value.value_exact<std::string>();
      if (!s || (*s != "refuse" && *s != "signed-packages")) {
        return Error{BaseErrc::kInvalidArgument,
                     what + " must be \"refuse\" or \"signed-packages\""};
      }
      config.accept_remote_spawn = *s == "signed-packages";
    } else {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown key mesh." + k};
    }
  }
  return {};
}

}  // namespace troupe::net
