#include "troupe/platform/capability_request.h"

#include "printable.h"
#include "toml_text.h"
#include "troupe/base/encoding.h"
#include "troupe/platform/actor_type.h"
#include "troupe/platform/platform_error.h"

namespace troupe::platform {
namespace {

constexpr std::size_t kMaxCallPattern = 256;

Error bad(const std::string& key, const std::string& why) {
  return Error{PlatformErrc::kMalformed, "troupe.capabilities." + shown(key) + " " + why};
}

// A call pattern: an actor type whose components may each be '*', or an actor name.
Result<void> check_call_pattern(const std::string& pattern) {
  if (pattern.empty() || pattern.size() > kMaxCallPattern || !is_valid_utf8(pattern)) {
    return bad("call", "holds an empty, over-long or non-UTF-8 entry");
  }
  if (pattern.find(':') == std::string::npos) {
    for (unsigned char c : pattern) {
      if (c < 0x20 || c == 0x7F) return bad("call", "holds a control character");
    }
    return {};
  }
  const auto first = pattern.find(':');
  const auto second = pattern.find(':', first + 1);
  if (second == std::string::npos || pattern.find(':', second + 1) != std::string::npos) {
    return bad("call", "entry " + printable(pattern) + " is not manufacturer:name:version");
  }
  const std::string parts[3] = {pattern.substr(0, first),
                                pattern.substr(first + 1, second - first - 1),
                                pattern.substr(second + 1)};
  const char* fields[3] = {"manufacturer", "name", "version"};
  for (int i = 0; i < 3; ++i) {
    if (parts[i] == "*") continue;
    if (auto r = check_type_component(fields[i], parts[i]); !r) {
      return bad("call", "entry " + printable(pattern) + ": " + r.error().detail);
    }
  }
  return {};
}

}  // namespace

Result<CapabilityRequest> parse_capability_request(const toml::table& table) {
  CapabilityRequest out;
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    bool* flag = key == "signing"    ? &out.signing
                 : key == "identity" ? &out.identity
                 : key == "clock"    ? &out.clock
                 : key == "random"   ? &out.random
                 : key == "streams"  ? &out.streams
                                     : nullptr;
    if (flag != nullptr) {
      auto v = node.value<bool>();
      if (!node.is_boolean() || !v) return bad(key, "must be true or false");
      *flag = *v;
    } else if (key == "storage") {
      const toml::table* t = node.as_table();
      if (t == nullptr) return bad(key, "must be a table: storage = { quota_bytes = N }");
      for (const auto& [sk, sn] : *t) {
        if (sk.str() != "quota_bytes") {
          return bad("storage." + std::string(sk.str()), "is not a known key");
        }
        auto n = sn.value<std::int64_t>();
        if (!sn.is_integer() || !n || *n <= 0) {
          return bad("storage.quota_bytes", "must be a positive integer");
        }
        out.storage_quota_bytes = static_cast<std::uint64_t>(*n);
      }
      if (!out.storage_quota_bytes) return bad("storage.quota_bytes", "is missing");
    } else if (key == "call") {
      const toml::array* a = node.as_array();
      if (a == nullptr) return bad(key, "must be an array of strings");
      if (a->size() > kMaxCallPatterns) {
        return bad(key, "has more than " + std::to_string(kMaxCallPatterns) + " entries");
      }
      for (const auto& item : *a) {
        const auto* s = item.as_string();
        if (s == nullptr) return bad(key, "must be an array of strings");
        if (auto r = check_call_pattern(s->get()); !r) return r.error();
        out.call.push_back(s->get());
      }
    } else {
      return bad(key, "is not a known capability");
    }
  }
  return out;
}

std::string capability_request_toml(const CapabilityRequest& request) {
  std::string out;
  auto flag = [&out](const char* key, bool v) {
    if (v) out += std::string(key) + " = true\n";
  };
  flag("signing", request.signing);
  flag("identity", request.identity);
  if (request.storage_quota_bytes) {
    out += "storage = { quota_bytes = " + std::to_string(*request.storage_quota_bytes) + " }\n";
  }
  flag("clock", request.clock);
  flag("random", request.random);
  flag("streams", request.streams);
  if (!request.call.empty()) {
    out += "call = [";
    for (std::size_t i = 0; i < request.call.size(); ++i) {
      if (i > 0) out += ", ";
      out += toml_quote(request.call[i]);
    }
    out += "]\n";
  }
  return out;
}

}  // namespace troupe::platform
