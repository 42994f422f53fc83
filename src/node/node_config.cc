#include <toml++/toml.h>

#include <optional>
#include <sstream>

#include "troupe/node/node.h"
#include "troupe/node/regular_file.h"

namespace troupe {
namespace {

// A [wasm] value that is an integer in `info`'s range or, where allowed, "unlimited".
Result<wasm::LimitValue> limit_value(const toml::node& value, const wasm::LimitInfo& info,
                                     const std::string& what) {
  if (auto word = value.value<std::string>()) {
    if (*word == "unlimited" && info.may_be_unlimited) return wasm::LimitValue{true, 0};
  } else if (auto n = value.value_exact<std::int64_t>(); n && *n > 0) {
    return wasm::limit_number(info, static_cast<std::uint64_t>(*n), what);
  }
  return Error{BaseErrc::kInvalidArgument, what + " must be " + wasm::limit_expectation(info)};
}

// The [wasm] table into `policy`. Each choosable limit has KEY (the default) and max_KEY;
// "unlimited" anywhere needs allow_unlimited = true; a default must not pass its maximum.
std::optional<Error> parse_wasm(const toml::table& table, const std::string& origin,
                                wasm::GuestPolicy& policy) {
  using wasm::LimitInfo;
  std::string unlimited_key;  // the first key set to "unlimited"
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    const std::string what = origin + ": wasm." + k;
    const LimitInfo* info = nullptr;
    bool is_max = false;
    for (const LimitInfo& i : wasm::limit_infos()) {
      if (k == i.name || k == std::string("max_") + i.name) {
        info = &i;
        is_max = k != i.name;
      }
    }
    // The other keys, as limits of their own ranges (none of them per spawn).
    static const LimitInfo kHostCallBytes{{}, "host_call_bytes", "", 65536, 1u << 30, false};
    static const LimitInfo kInstances{{}, "max_guest_instances", "", 1, 1'000'000, true};
    static const LimitInfo kMemoryMb{{}, "max_guest_memory_mb", "", 1, 1ULL << 30, true};
    static const LimitInfo kLogRecord{{}, "log_record_bytes", "", 1, 1u << 20, false};
    static const LimitInfo kLogRate{{}, "log_bytes_per_s", "", 1, 1u << 30, false};
    if (k == "allow_unlimited") {
      auto v = value.value_exact<bool>();
      if (!v) return Error{BaseErrc::kInvalidArgument, what + " must be true or false"};
      policy.allow_unlimited = *v;
      continue;
    }
    const LimitInfo* own = k == kHostCallBytes.name ? &kHostCallBytes
                           : k == kInstances.name   ? &kInstances
                           : k == kMemoryMb.name    ? &kMemoryMb
                           : k == kLogRecord.name   ? &kLogRecord
                           : k == kLogRate.name     ? &kLogRate
                                                    : nullptr;
    if (info == nullptr && own == nullptr) {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown key wasm." + k};
    }
    auto v = limit_value(value, info ? *info : *own, what);
    if (!v.ok()) return v.error();
    if (v->unlimited && unlimited_key.empty()) unlimited_key = k;
    if (info != nullptr) {
      wasm::set_limit(is_max ? policy.maxima : policy.defaults, info->key, *v);
    } else if (own == &kHostCallBytes) {
      policy.defaults.host_call_bytes = v->number;
    } else if (own == &kLogRecord) {
      policy.output.record_bytes = v->number;
    } else if (own == &kLogRate) {
      policy.output.bytes_per_second = v->number;
    } else if (own == &kInstances) {
      policy.caps.max_instances =
          v->unlimited ? wasm::kNoInstanceCap : static_cast<std::uint32_t>(v->number);
    } else {
      policy.caps.max_memory_bytes = v->unlimited ? wasm::kNoMemoryCap : v->number << 20;
    }
  }
  if (!unlimited_key.empty() && !policy.allow_unlimited) {
    return Error{
        BaseErrc::kInvalidArgument,
        origin + ": wasm." + unlimited_key + " = \"unlimited\" needs wasm.allow_unlimited = true"};
  }
  for (const LimitInfo& i : wasm::limit_infos()) {
    const wasm::LimitValue d = wasm::get_limit(policy.defaults, i.key);
    const wasm::LimitValue m = wasm::get_limit(policy.maxima, i.key);
    if (!m.unlimited && (d.unlimited || d.number > m.number)) {
      return Error{BaseErrc::kInvalidArgument, origin + ": wasm." + i.name + " (" + d.to_string() +
                                                   ") is above wasm.max_" + i.name + " (" +
                                                   m.to_string() + ")"};
    }
  }
  return std::nullopt;
}

}  // namespace

Result<NodeConfig> NodeConfig::load(const std::string& path) {
  // Read like any file a user names: a FIFO, a device or a directory is refused before any
  // read (an ifstream hangs on a FIFO, reads /dev/zero until memory runs out, and takes an
  // unreadable file for an empty one, i.e. silently for the defaults).
  auto text = read_regular_file(path, kMaxConfigFileBytes, "config file");
  if (!text.ok()) return text.error();
  return parse(*text, path);
}

Result<NodeConfig> NodeConfig::parse(std::string_view toml_text, const std::string& origin) {
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
  for (auto&& [key, value] : root) {
    if (key.str() != "node" && key.str() != "wasm") {
      return Error{BaseErrc::kInvalidArgument,
                   origin + ": unknown table [" + std::string(key.str()) + "]"};
    }
    if (!value.is_table()) {
      return Error{BaseErrc::kInvalidArgument, origin + ": " + std::string(key.str()) +
                                                   " must be a table ([" + std::string(key.str()) +
                                                   "])"};
    }
  }
  if (const toml::table* wasm = root["wasm"].as_table()) {
    if (auto e = parse_wasm(*wasm, origin, cfg.wasm)) return *e;
  }
  const toml::table* node = root["node"].as_table();
  if (!node) return cfg;
  auto bad = [&](std::string_view key, const char* want) {
    return Error{BaseErrc::kInvalidArgument,
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
      return Error{BaseErrc::kInvalidArgument,
                   origin +
                       ": node.node_id cannot be set: the node id derives from the node's "
                       "key (node.key in the data directory)"};
    } else if (k == "ask_timeout_ms") {
      auto v = value.value<std::int64_t>();
      if (!v || *v <= 0 || *v > 3600000) return bad(k, "an integer in 1..3600000");
      cfg.ask_timeout = std::chrono::milliseconds(*v);
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
