// `troupe pkg ...`: signed packages without a node.
//   pkg keygen --out DIR        writes DIR/signing.key (0600, never overwriting) and
//                               DIR/signing.pub; prints the key id
//   pkg build --manifest M.toml --binary FILE [--resource PATH]... --key KEYFILE -o OUT.actr
//                               fills in hashes, sizes and key id, signs, writes OUT
//   pkg verify FILE [--trust-key PUBFILE]...
//                               exit 0 when valid; else `error: KIND: detail`, exit 1
//   pkg inspect FILE [--json]   what the package says (NOT verified)
// Every failure is one `error: KIND: detail` line on stderr and exit status 1.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace troupe::cli {

struct PkgOptions {
  CLI::App* keygen = nullptr;
  CLI::App* build = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* inspect = nullptr;
  std::string out_dir;
  std::string manifest, binary, key, output;
  std::vector<std::string> resources;
  std::string file;
  std::vector<std::string> trust_keys;
  bool json = false;
};

// Adds `pkg` and its subcommands to `app`; returns `pkg`.
CLI::App* add_pkg_command(CLI::App& app, PkgOptions& options);
int run_pkg(const PkgOptions& options);

}  // namespace troupe::cli
