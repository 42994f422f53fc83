// Platform benchmarks, each against a reference measured in the same process; prints RESULT
// lines scripts/bench.sh turns into ratios.
//   platform_bench pkg_verify   verify_package on a package whose binary is a guest module
//                               with an 8 MiB data segment, in MB/s of package bytes, against
//                               plain libsodium SHA-256 over the same bytes in memory
//                               (pkg_verify_ratio = verify / sha256). Context: the last
//                               step alone, GuestModule::load of the same binary, in MB/s of
//                               binary bytes (pkg_module_load_mb_s).
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench_common.h"
#include "troupe/platform/package_builder.h"
#include "troupe/platform/package_verifier.h"
#include "troupe/platform/trust_store.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/wat.h"

using namespace troupe;

namespace {

constexpr std::size_t kDataBytes = std::size_t{8} << 20;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "platform_bench: %s\n", what.c_str());
  std::exit(1);
}

// A contract guest (memory, cabi_realloc, dispatch) carrying kDataBytes in one data segment:
// a real module's bulk, which the verifier hashes and the loader parses.
std::string big_guest() {
  std::string data;
  data.reserve(kDataBytes);
  std::uint32_t x = 12345;
  for (std::size_t i = 0; i < kDataBytes; ++i) {
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  const std::string wat =
      "(module (memory (export \"memory\") 256)\n"
      "  (global $top (mut i32) (i32.const 4096))\n"
      "  (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)\n"
      "    (global.get $top))\n"
      "  (func (export \"actr:workload/workload@0.1.0#dispatch\")\n"
      "        (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))\n"
      "  (data (i32.const 65536) \"" +
      data + "\"))";
  auto bin = wasm::wat_to_wasm(wat);
  if (!bin.ok()) die(bin.error().to_string());
  return std::string(bin->begin(), bin->end());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void pkg_verify() {
  if (sodium_init() < 0) die("libsodium failed to initialise");
  const auto dir = std::filesystem::temp_directory_path() /
                   ("troupe-platform-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "big.actr";
  auto manifest = platform::Manifest::parse(R"(manufacturer = "bench"
name = "big"
version = "1.0.0"
[binary]
path = "bin/actor.wasm"
target = "wasm32-unknown-unknown"
)",
                                            platform::ManifestMode::kTemplate);
  if (!manifest.ok()) die(manifest.error().to_string());
  platform::SigningKey key = platform::SigningKey::generate();
  auto built = platform::build_package({std::move(manifest).value(), big_guest(), {}}, key, file);
  if (!built.ok()) die(built.error().to_string());
  std::ifstream in(file, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  platform::TrustStore trust = platform::TrustStore::in_memory();
  if (!trust.add_key(key.public_key()).ok()) die("cannot trust the key");

  const int rounds = bench::quick() ? 3 : 15;
  const double mb = static_cast<double>(bytes.size()) / 1e6;
  std::vector<double> verify_mb_s, sha_mb_s, load_mb_s;
  const std::vector<std::uint8_t> binary = [&] {
    auto v = platform::verify_package(file, trust);
    if (!v.ok()) die(v.error().to_string());
    return v->binary;
  }();
  unsigned char digest[crypto_hash_sha256_BYTES];
  for (int i = 0; i < rounds; ++i) {
    double t0 = bench::now_s();
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    sha_mb_s.push_back(mb / (bench::now_s() - t0));
    t0 = bench::now_s();
    auto v = platform::verify_package(file, trust);
    const double dt = bench::now_s() - t0;
    if (!v.ok()) die(v.error().to_string());
    verify_mb_s.push_back(mb / dt);
    t0 = bench::now_s();
    auto loaded = wasm::GuestModule::load(binary);
    const double load_dt = bench::now_s() - t0;
    if (!loaded.ok()) die(loaded.error().to_string());
    load_mb_s.push_back(static_cast<double>(binary.size()) / 1e6 / load_dt);
  }
  std::filesystem::remove_all(dir);
  bench::report("verify", "pkg_verify", "mb_s", median(verify_mb_s));
  bench::report("sha256", "pkg_verify", "mb_s", median(sha_mb_s));
  bench::report("load", "pkg_verify", "mb_s", median(load_mb_s));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string w = argc > 1 ? argv[1] : "";
  if (w == "pkg_verify") {
    pkg_verify();
    return 0;
  }
  std::fprintf(stderr, "usage: platform_bench pkg_verify\n");
  return 1;
}
