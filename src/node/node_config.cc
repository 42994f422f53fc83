#include <toml++/toml.h>

#include <filesystem>
#include <system_error>

#include "troupe/base/toml_key_depth.h"
#include "troupe/cluster/swim_config_table.h"
#include "troupe/net/mesh_config.h"
#include "troupe/node/boot_actor_table.h"
#include "troupe/node/control_options_table.h"
#include "troupe/node/node.h"
#include "troupe/node/regular_file.h"
#include "troupe/platform/platform_config.h"
#include "troupe/runtime/system_config_table.h"
#include "troupe/wasm/guest_policy_table.h"

namespace troupe {
namespace {

constexpr std::int64_t kMinHeldReplyBytes = std::int64_t{1} << 20;
constexpr std::int64_t kMaxHeldReplyBytes = std::int64_t{1} << 40;

}  // namespace

Result<NodeConfig> NodeConfig::load(const std::string& path) {
  // Read like any file a user names: a FIFO, a device or a directory is refused before any
  // read (an ifstream hangs on a FIFO, reads /dev/zero until memory runs out, and takes an
  // unreadable file for an empty one, i.e. silently for the defaults).
  auto text = read_regular_file(path, kMaxConfigFileBytes, "config file");
  if (!text.ok()) return text.error();
  // [[actor]] package paths are relative to the file: the config means the same wherever the
  // node is started from.
  std::error_code ec;
  const std::filesystem::path file = std::filesystem::absolute(path, ec);
  if (ec) return Error{BaseErrc::kIo, path + ": cannot resolve its directory: " + ec.message()};
  return parse(*text, path, file.parent_path().string());
}

Result<NodeConfig> NodeConfig::parse(std::string_view toml_text, const std::string& origin,
                                     const std::string& base_dir) {
  if (auto deep = check_toml_key_depth(toml_text); !deep.ok()) {
    return Error{BaseErrc::kInvalidArgument, origin + ": " + deep.error().detail};
  }
  toml::table root;
  try {
    // Debian builds toml++ with exceptions: a syntax error arrives as parse_error.
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& err) {
    return Error{BaseErrc::kInvalidArgument, origin + ":" +
                                                 std::to_string(err.source().begin.line) + ": " +
                                                 std::string(err.description())};
  }
  NodeConfig cfg;
  // One table per subsystem, each parsed by the subsystem that owns it.
  for (auto&& [key, value] : root) {
    const std::string name(key.str());
    if (name == "actor") continue;  // after [wasm], whose maxima its limits must keep within
    const toml::table* table = value.as_table();
    if (name != "node" && name != "runtime" && name != "control" && name != "wasm" &&
        name != "platform" && name != "mesh" && name != "cluster") {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown table [" + name + "]"};
    }
    if (!table) {
      return Error{BaseErrc::kInvalidArgument,
                   origin + ": " + name + " must be a table ([" + name + "])"};
    }
    Result<void> parsed;
    if (name == "runtime") parsed = parse_runtime_table(*table, origin, cfg.runtime);
    if (name == "control") parsed = parse_control_table(*table, origin, cfg.control);
    if (name == "wasm") parsed = wasm::parse_wasm_table(*table, origin, cfg.wasm);
    if (name == "platform") parsed = platform::parse_platform_table(*table, origin, cfg.platform);
    if (name == "mesh") parsed = net::parse_mesh_table(*table, origin, cfg.mesh);
    if (name == "cluster") parsed = parse_cluster_table(*table, origin, cfg.cluster);
    if (!parsed.ok()) return parsed.error();
  }
  if (const toml::node* actors = root.get("actor")) {
    auto parsed = parse_boot_actors(*actors, origin, base_dir, cfg.wasm);
    if (!parsed.ok()) return parsed.error();
    cfg.actors = std::move(parsed).value();
  }
  const toml::table* node = root["node"].as_table();
  if (!node) return cfg;
  auto bad = [&](std::string_view key, const std::string& want) {
    return Error{BaseErrc::kInvalidArgument,
                 origin + ": node." + std::string(key) + " must be " + want};
  };
  for (auto&& [key, value] : *node) {
    std::string_view k = key.str();
    if (k == "data_dir") {
      auto v = value.value_exact<std::string>();
      // A NUL would cut the path short: the node would use another directory than the one named.
      if (!v || v->empty() || v->find('\0') != std::string::npos) {
        return bad(k, "a non-empty string without NUL bytes");
      }
      cfg.data_dir = *v;
    } else if (k == "control_socket") {
      auto v = value.value_exact<std::string>();
      if (!v || v->find('\0') != std::string::npos) return bad(k, "a string without NUL bytes");
      cfg.control_socket = *v;
    } else if (k == "workers") {
      auto v = value.value_exact<std::int64_t>();  // not a bool or a float taken for one
      if (!v || *v < 0 || *v > 1024) return bad(k, "an integer in 0..1024");
      cfg.workers = static_cast<unsigned>(*v);
    } else if (k == "node_id") {
      return Error{BaseErrc::kInvalidArgument,
                   origin +
                       ": node.node_id cannot be set: the node id derives from the node's "
                       "key (node.key in the data directory)"};
    } else if (k == "ask_timeout_ms") {
      auto v = value.value_exact<std::int64_t>();
      if (!v || *v <= 0 || *v > 3600000) return bad(k, "an integer in 1..3600000");
      cfg.ask_timeout = std::chrono::milliseconds(*v);
    } else if (k == "max_held_reply_bytes") {
      auto v = value.value_exact<std::int64_t>();
      if (!v || *v < kMinHeldReplyBytes || *v > kMaxHeldReplyBytes) {
        return bad(k, ("an integer in " + std::to_string(kMinHeldReplyBytes) + ".." +
                       std::to_string(kMaxHeldReplyBytes))
                          .c_str());
      }
      cfg.max_held_reply_bytes = static_cast<std::size_t>(*v);
    } else if (k == "max_guest_instances" || k == "max_guest_memory_mb") {
      return Error{BaseErrc::kInvalidArgument,
                   origin + ": node." + std::string(k) + " has moved: set it in the [wasm] table"};
    } else {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown key node." + std::string(k)};
    }
  }
  return cfg;
}

std::string NodeConfig::socket_path() const {
  return control_socket.empty() ? data_dir + "/control.sock" : control_socket;
}

}  // namespace troupe
