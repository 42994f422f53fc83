#include "troupe/node/boot_actor_table.h"

#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "troupe/node/actor_name.h"
#include "troupe/wasm/guest_policy_table.h"

namespace troupe {
namespace {

std::optional<RestartPolicy> parse_restart(std::string_view word) {
  if (word == "permanent") return RestartPolicy::kPermanent;
  if (word == "transient") return RestartPolicy::kTransient;
  if (word == "temporary") return RestartPolicy::kTemporary;
  return std::nullopt;
}

// A key as an error line shows it: TOML's quoted keys may hold any character, and a newline
// would start a second line that reads like another error.
std::string shown_key(std::string_view key) {
  if (check_actor_name(key, "key").ok()) return std::string(key);
  return "(a key that is empty, too long or not printable)";
}

// One entry; `at` is "ORIGIN: actor[N]", to which the name is added once it is read.
Result<BootActor> parse_entry(const toml::table& table, std::string at, const std::string& base_dir,
                              const wasm::GuestPolicy& policy) {
  BootActor entry;
  auto bad = [&](const std::string& what) {
    return Error{BaseErrc::kInvalidArgument, at + ": " + what};
  };
  // The name first: every later error names the entry by it.
  if (const toml::node* name = table.get("name")) {
    auto text = name->value_exact<std::string>();
    if (!text) return bad("name must be a string");
    if (auto ok = check_spawn_name(*text, "name"); !ok.ok()) return bad(ok.error().detail);
    entry.name = *text;
    at += " (" + entry.name + ")";
  }
  std::string module_key;  // the first key only a package takes
  for (auto&& [key, value] : table) {
    const std::string_view k = key.str();
    if (k == "name") continue;
    if (k == "package") {
      auto text = value.value_exact<std::string>();
      // A NUL would cut the path short: the node would read another file than the one named.
      if (!text || text->empty() || text->find('\0') != std::string::npos) {
        return bad("package must be a non-empty string without NUL bytes (a package file)");
      }
      std::filesystem::path path(*text);
      if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
      entry.package = path.string();
    } else if (k == "kind") {
      auto text = value.value_exact<std::string>();
      if (!text) return bad("kind must be a string (a native actor kind)");
      if (auto ok = check_actor_name(*text, "kind"); !ok.ok()) return bad(ok.error().detail);
      entry.kind = *text;
    } else if (k == "restart") {
      auto text = value.value_exact<std::string>();
      auto policy_word = text ? parse_restart(*text) : std::nullopt;
      if (!policy_word) return bad("restart must be \"permanent\", \"transient\" or \"temporary\"");
      entry.restart = *policy_word;
    } else if (k == "tier") {
      auto text = value.value_exact<std::string>();
      auto tier = text ? wasm::parse_tier(*text) : std::nullopt;
      if (!tier) return bad("tier must be \"auto\", \"aot\" or \"interp\"");
      entry.tier = *tier;
      if (module_key.empty()) module_key = k;
    } else {
      const wasm::LimitInfo* info = nullptr;
      for (const wasm::LimitInfo& i : wasm::limit_infos()) {
        if (k == i.name) info = &i;
      }
      if (info == nullptr) return bad("unknown key " + shown_key(k));
      auto limit = wasm::parse_limit_value(value, *info, at + ": " + std::string(k));
      if (!limit.ok()) return limit.error();
      entry.limits[static_cast<std::size_t>(info->key)] = *limit;
      if (module_key.empty()) module_key = k;
    }
  }
  if (entry.package.empty() == entry.kind.empty()) {
    return bad(entry.kind.empty() ? "give package (a package file) or kind (a native kind)"
                                  : "give package or kind, not both");
  }
  if (!entry.kind.empty() && !module_key.empty()) {
    return bad(module_key + " is a package's: a native kind takes no WebAssembly limits or tier");
  }
  if (!entry.package.empty()) {
    if (auto limits = policy.limits_for(entry.limits); !limits.ok()) {
      return bad(limits.error().detail);
    }
  }
  return entry;
}

}  // namespace

Result<std::vector<BootActor>> parse_boot_actors(const toml::node& actors,
                                                 const std::string& origin,
                                                 const std::string& base_dir,
                                                 const wasm::GuestPolicy& policy) {
  const toml::array* array = actors.as_array();
  if (array == nullptr) {
    return Error{BaseErrc::kInvalidArgument,
                 origin + ": actor must be an array of tables ([[actor]] entries)"};
  }
  if (array->size() > kMaxBootActors) {
    return Error{BaseErrc::kInvalidArgument, origin + ": " + std::to_string(array->size()) +
                                                 " [[actor]] entries (at most " +
                                                 std::to_string(kMaxBootActors) + ")"};
  }
  std::vector<BootActor> out;
  std::map<std::string, std::size_t> named;  // name -> the entry that has it
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string at = origin + ": actor[" + std::to_string(i) + "]";
    const toml::table* table = (*array)[i].as_table();
    if (table == nullptr) {
      return Error{BaseErrc::kInvalidArgument, at + " must be a table ([[actor]])"};
    }
    auto entry = parse_entry(*table, at, base_dir, policy);
    if (!entry.ok()) return entry.error();
    if (!entry->name.empty()) {
      auto [it, fresh] = named.emplace(entry->name, i);
      if (!fresh) {
        return Error{BaseErrc::kInvalidArgument, origin + ": " + entry->label(i) +
                                                     ": the name is taken by actor[" +
                                                     std::to_string(it->second) + "]"};
      }
    }
    out.push_back(std::move(entry).value());
  }
  return out;
}

}  // namespace troupe
