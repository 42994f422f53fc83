#include "troupe/platform/manifest.h"

#include <toml++/toml.h>

#include <set>

#include "printable.h"
#include "toml_text.h"
#include "troupe/base/encoding.h"
#include "troupe/base/toml_key_depth.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"
#include "troupe/platform/signing_key.h"

namespace troupe::platform {
namespace {

// More listed files than this is not a package but an attack on the verifier's memory.
constexpr std::size_t kMaxListedFiles = 1000;
constexpr std::size_t kMaxMetadataText = 4096;

Error malformed(const std::string& detail) { return Error{PlatformErrc::kMalformed, detail}; }

// Rejects any key of `table` outside `known`, naming it as PREFIX.KEY.
Result<void> only_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                       const std::string& prefix) {
  for (const auto& [k, node] : table) {
    bool found = false;
    for (auto name : known) found = found || k.str() == name;
    if (!found) return malformed(prefix + shown(k.str()) + " is not a known key");
  }
  return {};
}

// The string at `key`: nullopt when absent and not required; kMalformed when required and
// absent, or when present with another type.
Result<std::optional<std::string>> get_string(const toml::table& table, std::string_view key,
                                              const std::string& what, bool required) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (required) return malformed(what + " is missing");
    return std::optional<std::string>();
  }
  const auto* s = node->as_string();
  if (s == nullptr) return malformed(what + " must be a string");
  return std::optional<std::string>(s->get());
}

Result<std::string> get_hash(const toml::table& table, const std::string& what, bool required) {
  auto h = get_string(table, "hash", what, required);
  if (!h.ok()) return h.error();
  if (!*h) return std::string();
  if (!is_sha256_hex(**h)) return malformed(what + " must be 64 lowercase hex digits (SHA-256)");
  return **h;
}

Result<BinaryEntry> parse_binary(const toml::table& root, ManifestMode mode) {
  const toml::node* node = root.get("binary");
  if (node == nullptr) return malformed("binary is missing");
  const toml::table* t = node->as_table();
  if (t == nullptr) return malformed("binary must be a table");
  if (auto r = only_keys(*t, {"path", "target", "hash", "size", "kind"}, "binary."); !r) {
    return r.error();
  }
  const bool signed_mode = mode == ManifestMode::kSigned;
  BinaryEntry b;
  auto path = get_string(*t, "path", "binary.path", true);
  if (!path.ok()) return path.error();
  b.path = **path;
  if (auto r = check_entry_path("binary.path", b.path); !r) return r.error();
  auto target = get_string(*t, "target", "binary.target", true);
  if (!target.ok()) return target.error();
  b.target = **target;
  if (b.target == "wasm32-wasip2") {
    return Error{PlatformErrc::kRefused,
                 "binary.target wasm32-wasip2 (a component) is not yet supported"};
  }
  if (b.target != "wasm32-wasip1" && b.target != "wasm32-unknown-unknown") {
    return malformed("binary.target " + printable(b.target) +
                     " is not supported (wasm32-wasip1, wasm32-unknown-unknown)");
  }
  auto hash = get_hash(*t, "binary.hash", signed_mode);
  if (!hash.ok()) return hash.error();
  b.hash = *hash;
  if (const toml::node* size = t->get("size"); size != nullptr) {
    auto n = size->value<std::int64_t>();
    if (!size->is_integer() || !n || *n < 0) {
      return malformed("binary.size must be a non-negative integer");
    }
    b.size = static_cast<std::uint64_t>(*n);
  } else if (signed_mode) {
    return malformed("binary.size is missing");
  }
  auto kind = get_string(*t, "kind", "binary.kind", false);
  if (!kind.ok()) return kind.error();
  if (*kind) b.kind = **kind;
  // actr's other kinds: a component (not yet), a native shared library (never: no native code
  // from a package runs in a node).
  if (b.kind == "component") {
    return Error{PlatformErrc::kRefused,
                 "binary.kind \"component\" is not yet supported (only core-module)"};
  }
  if (b.kind == "native-cdylib") {
    return Error{PlatformErrc::kRefused,
                 "binary.kind \"native-cdylib\" is not supported (only core-module)"};
  }
  if (b.kind != "core-module")
    return malformed("binary.kind " + printable(b.kind) + " is not known");
  return b;
}

Result<FileEntry> parse_file(const toml::node& node, const std::string& what, bool proto,
                             ManifestMode mode) {
  const toml::table* t = node.as_table();
  if (t == nullptr) return malformed(what + " must be a table");
  auto keys = proto ? only_keys(*t, {"name", "path", "hash"}, what + ".")
                    : only_keys(*t, {"path", "hash"}, what + ".");
  if (!keys) return keys.error();
  FileEntry f;
  auto path = get_string(*t, "path", what + ".path", true);
  if (!path.ok()) return path.error();
  f.path = **path;
  if (auto r = check_entry_path(what + ".path", f.path); !r) return r.error();
  auto hash = get_hash(*t, what + ".hash", mode == ManifestMode::kSigned);
  if (!hash.ok()) return hash.error();
  f.hash = *hash;
  if (proto) {
    // actr requires the name (the proto's file name) beside its path.
    auto name = get_string(*t, "name", what + ".name", true);
    if (!name.ok()) return name.error();
    if ((*name)->empty() || (*name)->size() > kMaxEntryPath) {
      return malformed(what + ".name must hold 1.." + std::to_string(kMaxEntryPath) + " bytes");
    }
    f.name = **name;
  }
  return f;
}

Result<std::vector<FileEntry>> parse_file_array(const toml::table& root, std::string_view key,
                                                bool proto, ManifestMode mode) {
  std::vector<FileEntry> out;
  const toml::node* node = root.get(key);
  if (node == nullptr) return out;
  const toml::array* a = node->as_array();
  if (a == nullptr) return malformed(std::string(key) + " must be an array of tables");
  if (a->size() > kMaxListedFiles) {
    return Error{PlatformErrc::kTooLarge,
                 std::string(key) + " lists more than " + std::to_string(kMaxListedFiles)};
  }
  for (std::size_t i = 0; i < a->size(); ++i) {
    auto f = parse_file(*a->get(i), std::string(key) + "[" + std::to_string(i) + "]", proto, mode);
    if (!f.ok()) return f.error();
    out.push_back(std::move(f).value());
  }
  return out;
}

Result<ManifestMetadata> parse_metadata(const toml::table& root) {
  ManifestMetadata m;
  const toml::node* node = root.get("metadata");
  if (node == nullptr) return m;
  const toml::table* t = node->as_table();
  if (t == nullptr) return malformed("metadata must be a table");
  if (auto r = only_keys(*t, {"description", "license"}, "metadata."); !r) return r.error();
  for (auto [key, slot] :
       {std::pair{"description", &m.description}, std::pair{"license", &m.license}}) {
    auto v = get_string(*t, key, std::string("metadata.") + key, false);
    if (!v.ok()) return v.error();
    if (*v && (*v)->size() > kMaxMetadataText) {
      return malformed(std::string("metadata.") + key + " is longer than " +
                       std::to_string(kMaxMetadataText) + " bytes");
    }
    *slot = *v;
  }
  return m;
}

Result<wasm::LimitRequest> parse_limits(const toml::table& table) {
  wasm::LimitRequest out;
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    const wasm::LimitInfo* info = nullptr;
    for (const auto& candidate : wasm::limit_infos()) {
      if (key == candidate.name) info = &candidate;
    }
    const std::string what = "troupe.limits." + shown(key);
    if (info == nullptr) return malformed(what + " is not a known key");
    Result<wasm::LimitValue> value = Error{BaseErrc::kInternal};
    if (const auto* s = node.as_string()) {
      value = wasm::parse_limit(*info, s->get(), what);
      if (value.ok() && !value->unlimited) {
        return malformed(what + " must be " + wasm::limit_expectation(*info));
      }
    } else if (auto n = node.value<std::int64_t>(); node.is_integer() && n) {
      if (*n <= 0) return malformed(what + " must be " + wasm::limit_expectation(*info));
      value = wasm::limit_number(*info, static_cast<std::uint64_t>(*n), what);
    } else {
      return malformed(what + " must be " + wasm::limit_expectation(*info));
    }
    if (!value.ok()) return malformed(value.error().detail);
    out[static_cast<std::size_t>(info->key)] = *value;
  }
  return out;
}

Result<TroupeSettings> parse_troupe(const toml::table& root) {
  TroupeSettings s;
  const toml::node* node = root.get("troupe");
  if (node == nullptr) return s;
  const toml::table* t = node->as_table();
  if (t == nullptr) return malformed("troupe must be a table");
  if (auto r = only_keys(*t, {"capabilities", "limits"}, "troupe."); !r) return r.error();
  if (const toml::node* caps = t->get("capabilities")) {
    if (!caps->is_table()) return malformed("troupe.capabilities must be a table");
    auto c = parse_capability_request(*caps->as_table());
    if (!c.ok()) return c.error();
    s.capabilities = std::move(c).value();
  }
  if (const toml::node* limits = t->get("limits")) {
    if (!limits->is_table()) return malformed("troupe.limits must be a table");
    auto l = parse_limits(*limits->as_table());
    if (!l.ok()) return l.error();
    s.limits = *l;
  }
  return s;
}

}  // namespace

Result<void> check_entry_path(std::string_view what, std::string_view path) {
  const std::string w(what);
  if (path.empty()) return malformed(w + " is empty");
  if (path.size() > kMaxEntryPath) {
    return malformed(w + " is longer than " + std::to_string(kMaxEntryPath) + " bytes");
  }
  if (!is_valid_utf8(path)) return malformed(w + " is not valid UTF-8");
  if (path.find('\\') != std::string_view::npos) return malformed(w + " holds a backslash");
  if (path.front() == '/') return malformed(w + " is absolute");
  if (path.back() == '/') return malformed(w + " names a directory");
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return malformed(w + " holds a control character");
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto part = path.substr(start, end - start);
    if (part.empty()) return malformed(w + " has an empty component");
    if (part == "." || part == "..") return malformed(w + " has a '" + std::string(part) + "'");
    start = end + 1;
  }
  if (path == kManifestEntry || path == kSignatureEntry) {
    return malformed(w + " is a reserved name (" + std::string(path) + ")");
  }
  return {};
}

Result<Manifest> Manifest::parse(std::string_view text, ManifestMode mode) {
  if (!is_valid_utf8(text)) return malformed("manifest.toml is not valid UTF-8");
  if (auto deep = check_toml_key_depth(text); !deep.ok()) {
    return malformed("manifest.toml " + deep.error().detail);
  }
  toml::table root;
  try {
    // Debian builds toml++ with exceptions: a syntax error arrives as parse_error.
    root = toml::parse(text, std::string_view("manifest.toml"));
  } catch (const toml::parse_error& err) {
    return malformed("manifest.toml line " + std::to_string(err.source().begin.line) + ": " +
                     printable(err.description()));
  }
  if (auto r =
          only_keys(root,
                    {"manufacturer", "name", "version", "signature_algorithm", "signing_key_id",
                     "binary", "resources", "proto_files", "lock_file", "metadata", "troupe"},
                    "");
      !r) {
    return r.error();
  }
  Manifest m;
  for (auto [key, slot] :
       {std::pair{"manufacturer", &m.type.manufacturer}, std::pair{"name", &m.type.name},
        std::pair{"version", &m.type.version}}) {
    auto v = get_string(root, key, key, true);
    if (!v.ok()) return v.error();
    *slot = **v;
    if (auto r = check_type_component(key, *slot); !r) return r.error();
  }
  auto alg = get_string(root, "signature_algorithm", "signature_algorithm", false);
  if (!alg.ok()) return alg.error();
  if (*alg && **alg != "ed25519") {
    return malformed("signature_algorithm " + printable(**alg) + " is not supported (ed25519)");
  }
  auto key_id = get_string(root, "signing_key_id", "signing_key_id", mode == ManifestMode::kSigned);
  if (!key_id.ok()) return key_id.error();
  if (*key_id) {
    if (!is_key_id(**key_id)) return malformed("signing_key_id must be mfr- and 16 hex digits");
    m.signing_key_id = **key_id;
  }
  auto binary = parse_binary(root, mode);
  if (!binary.ok()) return binary.error();
  m.binary = std::move(binary).value();
  auto resources = parse_file_array(root, "resources", false, mode);
  if (!resources.ok()) return resources.error();
  m.resources = std::move(resources).value();
  auto protos = parse_file_array(root, "proto_files", true, mode);
  if (!protos.ok()) return protos.error();
  m.proto_files = std::move(protos).value();
  if (const toml::node* lock = root.get("lock_file")) {
    auto f = parse_file(*lock, "lock_file", false, mode);
    if (!f.ok()) return f.error();
    m.lock_file = std::move(f).value();
  }
  auto metadata = parse_metadata(root);
  if (!metadata.ok()) return metadata.error();
  m.metadata = std::move(metadata).value();
  auto troupe = parse_troupe(root);
  if (!troupe.ok()) return troupe.error();
  m.troupe = std::move(troupe).value();

  std::set<std::string> paths;
  for (const Listed& e : m.listed_entries()) {
    if (!paths.insert(e.path).second) return malformed("'" + e.path + "' is listed twice");
  }
  return m;
}

std::vector<Manifest::Listed> Manifest::listed_entries() const {
  std::vector<Listed> out;
  out.push_back({binary.path, binary.hash});
  for (const auto& f : resources) out.push_back({f.path, f.hash});
  for (const auto& f : proto_files) out.push_back({f.path, f.hash});
  if (lock_file) out.push_back({lock_file->path, lock_file->hash});
  return out;
}

std::string Manifest::to_toml() const {
  std::string out;
  auto line = [&out](const char* key, const std::string& value) {
    out += std::string(key) + " = " + toml_quote(value) + "\n";
  };
  line("manufacturer", type.manufacturer);
  line("name", type.name);
  line("version", type.version);
  line("signature_algorithm", signature_algorithm);
  if (!signing_key_id.empty()) line("signing_key_id", signing_key_id);
  out += "\n[binary]\n";
  line("path", binary.path);
  line("target", binary.target);
  line("hash", binary.hash);
  out += "size = " + std::to_string(binary.size) + "\n";
  line("kind", binary.kind);
  for (const auto& f : resources) {
    out += "\n[[resources]]\n";
    line("path", f.path);
    line("hash", f.hash);
  }
  for (const auto& f : proto_files) {
    out += "\n[[proto_files]]\n";
    if (!f.name.empty()) line("name", f.name);
    line("path", f.path);
    line("hash", f.hash);
  }
  if (lock_file) {
    out += "\n[lock_file]\n";
    line("path", lock_file->path);
    line("hash", lock_file->hash);
  }
  if (metadata.description || metadata.license) {
    out += "\n[metadata]\n";
    if (metadata.description) line("description", *metadata.description);
    if (metadata.license) line("license", *metadata.license);
  }
  const std::string caps = capability_request_toml(troupe.capabilities);
  if (!caps.empty()) out += "\n[troupe.capabilities]\n" + caps;
  std::string limits;
  for (const auto& info : wasm::limit_infos()) {
    const auto& v = troupe.limits[static_cast<std::size_t>(info.key)];
    if (!v) continue;
    limits += std::string(info.name) + " = " +
              (v->unlimited ? std::string("\"unlimited\"") : std::to_string(v->number)) + "\n";
  }
  if (!limits.empty()) out += "\n[troupe.limits]\n" + limits;
  return out;
}

}  // namespace troupe::platform
