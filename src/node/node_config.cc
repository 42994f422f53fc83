#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "troupe/node/node.h"

namespace troupe {

Result<NodeConfig> NodeConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Errc::kNotFound, "cannot read config file " + path};
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<NodeConfig> NodeConfig::parse(std::string_view toml_text, const std::string& origin) {
  toml::table root;
  try {
    // Debian builds toml++ with exceptions: a syntax error arrives as parse_error.
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& err) {
    return Error{Errc::kInvalidArgument, origin + ":" + std::to_string(err.source().begin.line) +
                                             ": " + std::string(err.description())};
  }
  NodeConfig cfg;
  for (auto&& [key, value] : root) {
    if (key.str() != "node") {
      return Error{Errc::kInvalidArgument,
                   origin + ": unknown table [" + std::string(key.str()) + "]"};
    }
  }
  const toml::table* node = root["node"].as_table();
  if (!node) return cfg;
  auto bad = [&](std::string_view key, const char* want) {
    return Error{Errc::kInvalidArgument,
                 origin + ": node." + std::string(key) + " must be " + want};
  };
  for (auto&& [key, value] : *node) {
    std::string_view k = key.str();
    if (k == "data_dir") {
      auto v = value.value<std::string>();
      if (!v || v->empty()) return bad(k, "a non-empty string");
      cfg.data_dir = *v;
    } else if (k == "control_socket") {
      auto v = value.value<std::string>();
      if (!v) return bad(k, "a string");
      cfg.control_socket = *v;
    } else if (k == "workers") {
      auto v = value.value<std::int64_t>();
      if (!v || *v < 0 || *v > 1024) return bad(k, "an integer in 0..1024");
      cfg.workers = static_cast<unsigned>(*v);
    } else if (k == "node_id") {
      return Error{Errc::kInvalidArgument,
                   origin + ": node.node_id cannot be set: the node id derives from the node's "
                            "key (node.key in the data directory)"};
    } else if (k == "ask_timeout_ms") {
      auto v = value.value<std::int64_t>();
      if (!v || *v <= 0 || *v > 3600000) return bad(k, "an integer in 1..3600000");
      cfg.ask_timeout = std::chrono::milliseconds(*v);
    } else if (k == "max_guest_instances") {
      auto v = value.value<std::int64_t>();
      if (!v || *v < 0 || *v > 1000000) return bad(k, "an integer in 0..1000000");
      cfg.max_guest_instances = static_cast<std::uint32_t>(*v);
    } else if (k == "max_guest_memory_mb") {
      auto v = value.value<std::int64_t>();
      if (!v || *v < 0 || *v > (1LL << 30)) return bad(k, "an integer in 0..1073741824");
      cfg.max_guest_memory_mb = static_cast<std::uint64_t>(*v);
    } else {
      return Error{Errc::kInvalidArgument, origin + ": unknown key node." + std::string(k)};
    }
  }
  return cfg;
}

std::string NodeConfig::socket_path() const {
  return control_socket.empty() ? data_dir + "/control.sock" : control_socket;
}

}  // namespace troupe
