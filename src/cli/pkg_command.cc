#include "pkg_command.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "troupe/base/encoding.h"
#include "troupe/node/regular_file.h"
#include "troupe/platform/package_builder.h"
#include "troupe/platform/package_inspector.h"
#include "troupe/platform/package_verifier.h"
#include "troupe/platform/signing_key.h"
#include "troupe/platform/trust_store.h"

namespace troupe::cli {
namespace {

using nlohmann::json;

int fail(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.to_string().c_str());
  return 1;
}

// Files a package holds are read under the verifier's own cap on a whole package.
const std::size_t kMaxInputBytes = platform::VerifyLimits{}.max_package_bytes;

int keygen(const PkgOptions& o) {
  auto id = platform::write_key_files(o.out_dir, platform::SigningKey::generate());
  if (!id.ok()) return fail(id.error());
  std::printf("%s\n", id->c_str());
  return 0;
}

int build(const PkgOptions& o) {
  auto text =
      read_regular_file(o.manifest, platform::VerifyLimits{}.max_manifest_bytes, "manifest");
  if (!text.ok()) return fail(text.error());
  auto manifest = platform::Manifest::parse(*text, platform::ManifestMode::kTemplate);
  if (!manifest.ok()) return fail(manifest.error());
  auto binary = read_regular_file(o.binary, kMaxInputBytes, "binary");
  if (!binary.ok()) return fail(binary.error());
  auto key = platform::load_signing_key(o.key);
  if (!key.ok()) return fail(key.error());

  platform::PackageInputs inputs{std::move(manifest).value(), std::move(binary).value(), {}};
  // --resource PATH: the file at PATH, stored under the entry name PATH.
  for (const std::string& path : o.resources) {
    if (auto r = platform::check_entry_path("--resource " + path, path); !r) return fail(r.error());
    auto bytes = read_regular_file(path, kMaxInputBytes, "resource");
    if (!bytes.ok()) return fail(bytes.error());
    inputs.files.push_back({path, std::move(bytes).value()});
  }
  // Files the manifest lists and no --resource gave: beside the manifest, at their entry path.
  const std::filesystem::path base = std::filesystem::path(o.manifest).parent_path();
  auto given = [&inputs](const std::string& path) {
    for (const auto& f : inputs.files) {
      if (f.path == path) return true;
    }
    return false;
  };
  for (const auto& listed : inputs.manifest.listed_entries()) {
    if (listed.path == inputs.manifest.binary.path || given(listed.path)) continue;
    auto bytes = read_regular_file((base / listed.path).string(), kMaxInputBytes, "listed file");
    if (!bytes.ok()) return fail(bytes.error());
    inputs.files.push_back({listed.path, std::move(bytes).value()});
  }
  auto built = platform::build_package(std::move(inputs), *key, o.output);
  if (!built.ok()) return fail(built.error());
  std::printf("built %s: %s signed by %s\n", o.output.c_str(), built->type.to_string().c_str(),
              built->signing_key_id.c_str());
  return 0;
}

int verify(const PkgOptions& o) {
  platform::TrustStore trust = platform::TrustStore::in_memory();
  for (const std::string& file : o.trust_keys) {
    auto key = platform::load_public_key(file);
    if (!key.ok()) return fail(key.error());
    if (auto added = trust.add_key(*key); !added) return fail(added.error());
  }
  auto verified = platform::verify_package(o.file, trust);
  if (!verified.ok()) return fail(verified.error());
  std::printf("ok: %s signed by %s, package %s\n", verified->manifest.type.to_string().c_str(),
              verified->manifest.signing_key_id.c_str(), verified->package_hash.c_str());
  return 0;
}

// An entry name as inspect shows it: inspect does not check names, so a hostile one must not
// reach the terminal raw (control characters become \xNN).
// `text` for a terminal: control characters (C0, DEL, C1), the invisible and bidirectional
// formatting characters (which reorder what a reader sees) and bytes of invalid UTF-8 are
// escaped, so a package cannot retitle, recolour or rewrite the terminal it is inspected in.
std::string shown_name(const std::string& text) {
  const bool utf8 = is_valid_utf8(text);
  std::string out;
  char buf[16];
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80 || !utf8) {
      if (c < 0x20 || c == 0x7F || c == '\\' || c >= 0x80) {
        std::snprintf(buf, sizeof buf, "\\x%02X", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;  // valid UTF-8: whole sequences
    std::uint32_t cp = c & (n == 2 ? 0x1Fu : n == 3 ? 0x0Fu : 0x07u);
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    const bool hidden = (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
                        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
                        cp == 0xFEFF || cp == 0x061C;
    if (hidden) {
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(text, i, n);
    }
    i += n;
  }
  return out;
}

json capabilities_json(const platform::CapabilityRequest& c) {
  json out = json::object();
  for (auto [name, on] : {std::pair{"signing", c.signing}, std::pair{"identity", c.identity},
                          std::pair{"clock", c.clock}, std::pair{"random", c.random},
                          std::pair{"streams", c.streams}}) {
    if (on) out[name] = true;
  }
  if (c.storage_quota_bytes) out["storage"] = {{"quota_bytes", *c.storage_quota_bytes}};
  if (!c.call.empty()) out["call"] = c.call;
  return out;
}

int inspect(const PkgOptions& o) {
  auto summary = platform::inspect_package(o.file);
  if (!summary.ok()) return fail(summary.error());
  const platform::Manifest& m = summary->manifest;
  if (o.json) {
    json entries = json::array();
    for (const auto& e : summary->entries) entries.push_back({{"name", e.name}, {"size", e.size}});
    json files = json::array();
    for (const auto& l : m.listed_entries()) files.push_back({{"path", l.path}, {"hash", l.hash}});
    json limits = json::object();
    for (const auto& info : wasm::limit_infos()) {
      const auto& v = m.troupe.limits[static_cast<std::size_t>(info.key)];
      if (v) limits[info.name] = v->unlimited ? json("unlimited") : json(v->number);
    }
    json doc{{"verified", false},
             {"type", m.type.to_string()},
             {"manufacturer", m.type.manufacturer},
             {"name", m.type.name},
             {"version", m.type.version},
             {"signing_key_id", m.signing_key_id},
             {"package_hash", summary->package_hash},
             {"binary",
              {{"path", m.binary.path},
               {"target", m.binary.target},
               {"hash", m.binary.hash},
               {"size", m.binary.size},
               {"kind", m.binary.kind}}},
             {"listed", files},
             {"entries", entries},
             {"capabilities", capabilities_json(m.troupe.capabilities)},
             {"limits", limits}};
    if (m.metadata.description) doc["description"] = *m.metadata.description;
    if (m.metadata.license) doc["license"] = *m.metadata.license;
    // Entry names are not checked by inspect: bytes that are not UTF-8 become U+FFFD.
    std::printf("%s\n", doc.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("type         %s\n", m.type.to_string().c_str());
  std::printf("signed by    %s (not verified: use `troupe pkg verify`)\n",
              m.signing_key_id.c_str());
  std::printf("package      %s\n", summary->package_hash.c_str());
  std::printf("binary       %s  %s  %s  %llu bytes\n", m.binary.path.c_str(),
              m.binary.target.c_str(), m.binary.kind.c_str(),
              static_cast<unsigned long long>(m.binary.size));
  if (m.metadata.description) {
    std::printf("description  %s\n", shown_name(*m.metadata.description).c_str());
  }
  if (m.metadata.license) std::printf("license      %s\n", shown_name(*m.metadata.license).c_str());
  const std::string caps = capabilities_json(m.troupe.capabilities).dump();
  std::printf("capabilities %s\n", caps.c_str());
  std::printf("entries:\n");
  for (const auto& e : summary->entries) {
    std::printf("  %10llu  %s\n", static_cast<unsigned long long>(e.size),
                shown_name(e.name).c_str());
  }
  return 0;
}

}  // namespace

CLI::App* add_pkg_command(CLI::App& app, PkgOptions& o) {
  auto* pkg = app.add_subcommand("pkg", "signed packages (.actr): keys, build, verify, inspect");
  pkg->require_subcommand(1);
  o.keygen = pkg->add_subcommand("keygen", "make a manufacturer signing key pair");
  o.keygen->add_option("--out", o.out_dir, "directory for signing.key and signing.pub")->required();
  o.build = pkg->add_subcommand("build", "pack and sign a package");
  o.build->add_option("--manifest", o.manifest, "manifest template (TOML)")->required();
  o.build->add_option("--binary", o.binary, "the WebAssembly module")->required();
  o.build->add_option("--resource", o.resources, "a file to include (relative path)");
  o.build->add_option("--key", o.key, "secret key file (pkg keygen)")->required();
  o.build->add_option("-o,--output", o.output, "the .actr file to write")->required();
  o.verify = pkg->add_subcommand("verify", "verify a package (exit 0 when valid)");
  o.verify->add_option("file", o.file, "the .actr file")->required();
  o.verify->add_option("--trust-key", o.trust_keys, "a public key file to trust");
  o.inspect = pkg->add_subcommand("inspect", "show what a package says (not verified)");
  o.inspect->add_option("file", o.file, "the .actr file")->required();
  o.inspect->add_flag("--json", o.json, "JSON output");
  return pkg;
}

int run_pkg(const PkgOptions& o) {
  if (*o.keygen) return keygen(o);
  if (*o.build) return build(o);
  if (*o.verify) return verify(o);
  if (*o.inspect) return inspect(o);
  return fail(Error{BaseErrc::kInvalidArgument, "pkg needs a subcommand (see troupe pkg --help)"});
}

}  // namespace troupe::cli
