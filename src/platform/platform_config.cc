#include "troupe/platform/platform_config.h"

#include <algorithm>
#include <array>
#include <utility>

namespace troupe::platform {

namespace {

constexpr std::array<std::pair<std::string_view, Capability>, 7> kNames{{
    {"signing", Capability::kSigning},
    {"identity", Capability::kIdentity},
    {"storage", Capability::kStorage},
    {"clock", Capability::kClock},
    {"random", Capability::kRandom},
    {"streams", Capability::kStreams},
    {"call", Capability::kCall},
}};

bool is_key_id(std::string_view text) {
  if (text.size() != 20 || text.substr(0, 4) != "mfr-") return false;
  return std::all_of(text.begin() + 4, text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The key names in an error: printable ASCII only, so a hostile key stays on one line.
std::string shown(std::string_view key) {
  std::string out;
  for (char c : key.substr(0, 64)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (key.size() > 64) out += "...";
  return out;
}

}  // namespace

std::optional<Capability> capability_from_name(std::string_view name) {
  for (const auto& [n, c] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

std::string_view capability_name(Capability capability) {
  for (const auto& [n, c] : kNames) {
    if (c == capability) return n;
  }
  return "unknown";
}

GrantPolicy PlatformConfig::policy_for(const std::string& key_id) const {
  auto it = keys.find(key_id);
  GrantPolicy p = it != keys.end() ? it->second : GrantPolicy{grant, max_storage_quota_bytes};
  p.max_storage_quota_bytes = std::min(p.max_storage_quota_bytes, max_storage_quota_bytes);
  return p;
}

Result<void> parse_platform_table(const toml::table& table, const std::string& origin,
                                  PlatformConfig& config) {
  auto bad = [&](const std::string& key, const std::string& want) {
    return Error{BaseErrc::kInvalidArgument, origin + ": platform." + key + " must be " + want};
  };
  auto quota = [&](const std::string& key, const toml::node& value) -> Result<std::uint64_t> {
    auto v = value.value_exact<std::int64_t>();  // not a bool or a float taken for one
    if (!v || *v < 1 || static_cast<std::uint64_t>(*v) > PlatformConfig::kMaxStorageQuotaBytes) {
      return bad(key, "an integer in 1.." + std::to_string(PlatformConfig::kMaxStorageQuotaBytes));
    }
    return static_cast<std::uint64_t>(*v);
  };
  auto grants = [&](const std::string& key, const toml::node& value) -> Result<unsigned> {
    const toml::array* list = value.as_array();
    const std::string want = "a list of capability names (signing, identity, storage, clock, "
                             "random, streams, call)";
    if (list == nullptr) return bad(key, want);
    if (list->size() > kNames.size()) {
      return bad(key, want + ", each at most once: " + std::to_string(list->size()) +
                          " entries is more than there are capabilities");
    }
    unsigned bits = 0;
    for (const toml::node& item : *list) {
      auto name = item.value_exact<std::string>();
      auto c = name ? capability_from_name(*name) : std::nullopt;
      if (!c) return bad(key, want + ", not " + (name ? "'" + shown(*name) + "'" : "that"));
      if ((bits & static_cast<unsigned>(*c)) != 0) {
        return bad(key, want + ", each at most once: '" + *name + "' is repeated");
      }
      bits |= static_cast<unsigned>(*c);
    }
    return bits;
  };

  // The per-key tables after the node-wide keys, whatever their order in the file: a key's
  // quota defaults to (and is capped by) the node-wide one.
  const toml::table* per_key = nullptr;
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    if (k == "allow_unsigned") {
      auto v = value.value_exact<bool>();
      if (!v) return bad(k, "true or false");
      config.allow_unsigned = *v;
    } else if (k == "max_storage_quota_bytes") {
      auto q = quota(k, value);
      if (!q.ok()) return q.error();
      config.max_storage_quota_bytes = *q;
    } else if (k == "credential_ttl_seconds") {
      auto v = value.value_exact<std::int64_t>();
      if (!v || *v < PlatformConfig::kMinCredentialTtlSeconds ||
          *v > PlatformConfig::kMaxCredentialTtlSeconds) {
        return bad(k, "an integer in " + std::to_string(PlatformConfig::kMinCredentialTtlSeconds) +
                          ".." + std::to_string(PlatformConfig::kMaxCredentialTtlSeconds) +
                          " (seconds)");
      }
      config.credential_ttl_seconds = *v;
    } else if (k == "grant") {
      auto g = grants(k, value);
      if (!g.ok()) return g.error();
      config.grant = *g;
    } else if (k == "keys") {
      per_key = value.as_table();
      if (per_key == nullptr) return bad(k, "a table of signing key ids");
    } else {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown key platform." + shown(k)};
    }
  }
  if (per_key == nullptr) return {};
  if (per_key->size() > PlatformConfig::kMaxKeyPolicies) {
    return bad("keys", "at most " + std::to_string(PlatformConfig::kMaxKeyPolicies) + " entries");
  }
  for (auto&& [key_id, entry] : *per_key) {
    const std::string id(key_id.str());
    const std::string at = "keys." + shown(id);
    if (!is_key_id(id)) return bad(at, "named by a signing key id (mfr- and 16 hex digits)");
    const toml::table* t = entry.as_table();
    if (t == nullptr) return bad(at, "a table");
    GrantPolicy p{config.grant, config.max_storage_quota_bytes};
    for (auto&& [k2, v2] : *t) {
      const std::string k(k2.str());
      if (k == "grant") {
        auto g = grants(at + ".grant", v2);
        if (!g.ok()) return g.error();
        p.grant = *g;
      } else if (k == "max_storage_quota_bytes") {
        auto q = quota(at + "." + k, v2);
        if (!q.ok()) return q.error();
        p.max_storage_quota_bytes = *q;
      } else {
        return Error{BaseErrc::kInvalidArgument,
                     origin + ": unknown key platform." + at + "." + shown(k)};
      }
    }
    config.keys[id] = p;
  }
  return {};
}

}  // namespace troupe::platform
