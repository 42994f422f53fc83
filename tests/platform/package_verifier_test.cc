// The hostile-package corpus: packages the tests build themselves, each breaking one rule the
// verifier enforces, each refused with the documented kind (docs/PLATFORM.md); a valid package
// passes, and build -> verify round-trips.
#include "troupe/platform/package_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "platform/package_fixture.h"
#include "platform/zip_forge.h"
#include "troupe/platform/package_builder.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"

namespace troupe {
namespace {

using platform::Manifest;
using platform::SigningKey;
using platform::TrustStore;
using platform::VerifiedPackage;
using platform::VerifyLimits;
using testing::ForgeEntry;

class PackageVerifier : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(trust_.add_key(key_.public_key()).ok()); }

  // The signed manifest of the good package, `edit`ed after its fields are filled in.
  std::string manifest_text(const std::function<void(Manifest&)>& edit = {}) {
    Manifest m = testing::template_manifest();
    m.binary.hash = platform::sha256_hex(binary_);
    m.binary.size = binary_.size();
    m.signing_key_id = key_.key_id();
    m.resources.push_back({"res/data.txt", platform::sha256_hex(resource_), ""});
    if (edit) edit(m);
    return m.to_toml();
  }
  std::string sign(const std::string& text, const SigningKey& signer) {
    auto sig = signer.sign(text);
    return std::string(reinterpret_cast<const char*>(sig.data()), sig.size());
  }
  // manifest.toml, manifest.sig, the binary and the resource, all valid.
  std::vector<ForgeEntry> good_entries(const std::function<void(Manifest&)>& edit = {}) {
    const std::string text = manifest_text(edit);
    return {{"manifest.toml", text},
            {"manifest.sig", sign(text, key_)},
            {"bin/actor.wasm", binary_},
            {"res/data.txt", resource_}};
  }
  Result<VerifiedPackage> verify_bytes(const std::string& zip, const VerifyLimits& limits = {}) {
    testing::write_file(dir_ / "p.actr", zip);
    return platform::verify_package(dir_ / "p.actr", trust_, limits);
  }
  Result<VerifiedPackage> verify_entries(const std::vector<ForgeEntry>& entries) {
    return verify_bytes(testing::forge_zip(entries));
  }
  static void expect_refused(const Result<VerifiedPackage>& r, PlatformErrc kind,
                             const std::string& detail) {
    ASSERT_FALSE(r.ok()) << "accepted";
    EXPECT_EQ(r.error().code, ErrorCode(kind)) << r.error().to_string();
    EXPECT_NE(r.error().detail.find(detail), std::string::npos)
        << r.error().to_string() << " (expected '" << detail << "')";
    EXPECT_EQ(r.error().detail.find('\n'), std::string::npos) << "not one line";
  }
  // A package built by build_package, as bytes.
  std::string built_package() {
    platform::PackageInputs in{
        testing::template_manifest(), binary_, {{"res/data.txt", resource_}}};
    auto m = platform::build_package(std::move(in), key_, dir_ / "built.actr");
    if (!m.ok()) throw std::runtime_error(m.error().to_string());
    return testing::read_file(dir_ / "built.actr");
  }

  testing::ScratchDir dir_{"verify"};
  SigningKey key_ = SigningKey::generate();
  TrustStore trust_ = TrustStore::in_memory();
  std::string binary_ = testing::guest_wasm();
  std::string resource_ = "resource bytes\n";
};

TEST_F(PackageVerifier, AcceptsAValidPackage) {
  auto r = verify_entries(good_entries());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->manifest.type.to_string(), "acme:echo:1.0.0");
  EXPECT_EQ(std::string(r->binary.begin(), r->binary.end()), binary_);
  EXPECT_EQ(r->package_hash, platform::sha256_hex(manifest_text()));
  EXPECT_EQ(r->manifest_text, manifest_text());
}

TEST_F(PackageVerifier, BuildThenVerifyRoundTrips) {
  const std::string bytes = built_package();
  auto r = verify_bytes(bytes);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->manifest.signing_key_id, key_.key_id());
  EXPECT_EQ(r->manifest.binary.size, binary_.size());
  ASSERT_EQ(r->manifest.resources.size(), 1u);
  EXPECT_EQ(r->manifest.resources[0].hash, platform::sha256_hex(resource_));
  // Reproducible: the same inputs give the same bytes.
  EXPECT_EQ(built_package(), bytes);
}

TEST_F(PackageVerifier, ChecksProtoAndLockFiles) {
  const std::string proto = "syntax = \"proto3\";\n", lock = "[[dependency]]\n";
  auto edit = [&](Manifest& m) {
    m.proto_files.push_back({"proto/echo.proto", platform::sha256_hex(proto), "echo.proto"});
    m.lock_file = platform::FileEntry{"manifest.lock.toml", platform::sha256_hex(lock), ""};
  };
  auto entries = good_entries(edit);
  entries.push_back({"proto/echo.proto", proto});
  entries.push_back({"manifest.lock.toml", lock});
  auto ok = verify_entries(entries);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  entries[4].data = "syntax = \"proto2\";\n";
  expect_refused(verify_entries(entries), PlatformErrc::kHashMismatch, "proto/echo.proto");
}

// 1. The file.
TEST_F(PackageVerifier, RefusesAFileOverTheCap) {
  VerifyLimits limits;
  limits.max_package_bytes = 1024;
  expect_refused(verify_bytes(testing::forge_zip(good_entries()), limits), PlatformErrc::kTooLarge,
                 "over the cap");
}

TEST_F(PackageVerifier, RefusesATruncatedFile) {
  const std::string zip = testing::forge_zip(good_entries());
  for (std::size_t cut : {std::size_t{1}, std::size_t{30}, zip.size() / 2, zip.size() - 10}) {
    SCOPED_TRACE(cut);
    expect_refused(verify_bytes(zip.substr(0, zip.size() - cut)), PlatformErrc::kMalformed, "");
  }
  expect_refused(verify_bytes(""), PlatformErrc::kMalformed, "not a ZIP file");
}

TEST_F(PackageVerifier, MissingFileIsAnIoError) {
  auto r = platform::verify_package(dir_ / "absent.actr", trust_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode(BaseErrc::kIo));
}

// An error names the file on one line: a newline or a terminal escape in its name (a config
// file's [[actor]] package, a `spawn --package` argument) is shown as \xNN.
TEST_F(PackageVerifier, AHostileFileNameIsShownOnOneLine) {
  const std::string name = "no\nerror: trusted\x1b[2J.actr";
  for (bool directory : {false, true}) {
    if (directory) std::filesystem::create_directory(dir_ / name);
    auto r = platform::verify_package(dir_ / name, trust_);
    ASSERT_FALSE(r.ok());
    const std::string line = r.error().to_string();
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    EXPECT_NE(line.find("no\\x0Aerror: trusted\\x1B[2J.actr"), std::string::npos) << line;
  }
}

// 2. The ZIP directory.
TEST_F(PackageVerifier, RefusesThousandsOfEntriesBeforeReadingThem) {
  std::vector<ForgeEntry> entries = good_entries();
  for (int i = 0; i < 5000; ++i) entries.push_back({"x/" + std::to_string(i), ""});
  expect_refused(verify_entries(entries), PlatformErrc::kTooLarge, "5004 entries");
}

TEST_F(PackageVerifier, RefusesUnsafeNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"../evil", "'..'"},   {"a/../../evil", "'..'"}, {"/etc/passwd", "absolute"},
      {"a\\b", "backslash"}, {"dir/", "directory"},    {"a//b", "empty component"},
      {"./a", "'.'"},        {"a\x01z", "control"},    {"\xff\xfe", "UTF-8"}};
  for (const auto& [name, why] : cases) {
    SCOPED_TRACE(name);
    auto entries = good_entries();
    entries.push_back({name, "x"});
    expect_refused(verify_entries(entries), PlatformErrc::kMalformed, why);
  }
}

TEST_F(PackageVerifier, RefusesANameWithANul) {
  auto entries = good_entries();
  entries.push_back({std::string("res/data.txt") + '\0' + ".evil", resource_});
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "NUL");
}

TEST_F(PackageVerifier, RefusesDuplicateEntries) {
  auto entries = good_entries();
  entries.push_back({"res/data.txt", "other bytes"});
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "");
  auto twice = good_entries();
  twice.push_back(twice[2]);  // the binary again, same bytes
  expect_refused(verify_entries(twice), PlatformErrc::kMalformed, "");
}

TEST_F(PackageVerifier, RefusesSymlinksAndDirectories) {
  auto link = good_entries();
  link[3].unix_mode = 0120777;  // S_IFLNK
  expect_refused(verify_entries(link), PlatformErrc::kMalformed, "not a regular file");
  auto dir = good_entries();
  dir[3].unix_mode = 040755;  // S_IFDIR
  expect_refused(verify_entries(dir), PlatformErrc::kMalformed, "not a regular file");
}

TEST_F(PackageVerifier, RefusesACompressedEntry) {
  auto entries = good_entries();
  entries[2].method = 8;
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "compressed");
}

TEST_F(PackageVerifier, RefusesLocalHeadersThatDisagree) {
  auto name = good_entries();
  name[3].local_name = "res/dat4.txt";
  expect_refused(verify_entries(name), PlatformErrc::kMalformed, "consistent");
  auto size = good_entries();
  size[3].local_size = static_cast<std::uint32_t>(resource_.size() - 1);
  expect_refused(verify_entries(size), PlatformErrc::kMalformed, "consistent");
}

TEST_F(PackageVerifier, RefusesCentralSizesThatLie) {
  auto entries = good_entries();
  entries[2].central_size = static_cast<std::uint32_t>(binary_.size() + 1000);
  entries[2].local_size = entries[2].central_size;
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "");
}

TEST_F(PackageVerifier, RefusesEntriesWhoseBytesOverlap) {
  // The resource's local record lies inside another entry's bytes: with such entries the
  // verifier would read the same bytes more than once.
  auto entries = good_entries();
  const std::string inner =
      testing::local_record("res/data.txt", resource_, 0, testing::crc32_of(resource_),
                            static_cast<std::uint32_t>(resource_.size()));
  ForgeEntry wrapper{"res/wrapper.bin", inner};
  std::size_t before = 0;
  for (std::size_t i = 0; i < 3; ++i)
    before += 30 + entries[i].name.size() + entries[i].data.size();
  // The wrapper's bytes start after its own 30-byte header and name.
  entries[3].central_offset = static_cast<std::uint32_t>(before + 30 + wrapper.name.size());
  entries.insert(entries.begin() + 3, wrapper);
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "overlap");
}

// 3. The manifest.
TEST_F(PackageVerifier, RefusesAManifestOverTheCap) {
  const std::string padded = manifest_text() + "# " + std::string(std::size_t{1} << 20, 'x');
  auto entries = good_entries();
  entries[0].data = padded;
  entries[1].data = sign(padded, key_);
  expect_refused(verify_entries(entries), PlatformErrc::kTooLarge, "manifest.toml");
}

TEST_F(PackageVerifier, RefusesAManifestThatIsNotStrictTomlOrUtf8) {
  const std::string texts[] = {manifest_text() + "\xff\n", manifest_text() + "oops = [\n",
                               manifest_text() + "unknown_key = 1\n",
                               manifest_text() + "\n[troupe]\nfoo = 1\n"};
  for (const std::string& text : texts) {
    auto entries = good_entries();
    entries[0].data = text;
    entries[1].data = sign(text, key_);
    expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "");
  }
}

TEST_F(PackageVerifier, RefusesAMissingManifestOrSignature) {
  auto no_manifest = good_entries();
  no_manifest.erase(no_manifest.begin());
  expect_refused(verify_entries(no_manifest), PlatformErrc::kMalformed, "no manifest.toml");
  auto no_sig = good_entries();
  no_sig.erase(no_sig.begin() + 1);
  expect_refused(verify_entries(no_sig), PlatformErrc::kMalformed, "no manifest.sig");
}

TEST_F(PackageVerifier, RefusesAComponentAsNotYetSupported) {
  auto entries = good_entries([](Manifest& m) { m.binary.kind = "component"; });
  expect_refused(verify_entries(entries), PlatformErrc::kRefused, "not yet supported");
}

// 4. The signature's size.
TEST_F(PackageVerifier, RefusesASignatureOf63Or65Bytes) {
  auto short_sig = good_entries();
  short_sig[1].data.pop_back();
  expect_refused(verify_entries(short_sig), PlatformErrc::kBadSignature, "63 bytes");
  auto long_sig = good_entries();
  long_sig[1].data.push_back('\0');
  expect_refused(verify_entries(long_sig), PlatformErrc::kBadSignature, "65 bytes");
}

// 5. Trust.
TEST_F(PackageVerifier, RefusesAnUntrustedKey) {
  SigningKey stranger = SigningKey::generate();
  const std::string text =
      manifest_text([&](Manifest& m) { m.signing_key_id = stranger.key_id(); });
  auto entries = good_entries();
  entries[0].data = text;
  entries[1].data = sign(text, stranger);
  expect_refused(verify_entries(entries), PlatformErrc::kUntrusted, stranger.key_id());
}

TEST_F(PackageVerifier, RefusesARevokedKey) {
  ASSERT_TRUE(trust_.revoke_key(key_.key_id()).ok());
  expect_refused(verify_entries(good_entries()), PlatformErrc::kRevoked, key_.key_id());
}

TEST_F(PackageVerifier, RefusesARevokedPackageHash) {
  ASSERT_TRUE(trust_.revoke_package(platform::sha256_hex(manifest_text())).ok());
  expect_refused(verify_entries(good_entries()), PlatformErrc::kRevoked, "package");
  // Re-zipping the same signed entries (another order) does not escape the revocation.
  auto entries = good_entries();
  std::swap(entries[2], entries[3]);
  expect_refused(verify_entries(entries), PlatformErrc::kRevoked, "package");
}

// 6. Ed25519.
TEST_F(PackageVerifier, RefusesASignatureByAnotherKey) {
  // The manifest names the trusted key, but someone else signed it.
  SigningKey forger = SigningKey::generate();
  auto entries = good_entries();
  entries[1].data = sign(entries[0].data, forger);
  expect_refused(verify_entries(entries), PlatformErrc::kBadSignature, "does not verify");
}

// 7. Entries.
TEST_F(PackageVerifier, RefusesAFlippedBitInEachEntry) {
  const std::string good = built_package();
  ASSERT_TRUE(verify_bytes(good).ok());
  auto m = platform::Manifest::parse(manifest_text(), platform::ManifestMode::kSigned);
  ASSERT_TRUE(m.ok());
  // Where each entry's bytes sit in the built file, and what a flip there must give.
  const std::string manifest_bytes = [&] {
    auto r = verify_bytes(good);
    return r.ok() ? r->manifest_text : std::string();
  }();
  ASSERT_FALSE(manifest_bytes.empty());
  struct Case {
    std::string needle;  // bytes of the entry, found in the file
    std::size_t at;      // offset of the flipped bit within them
    PlatformErrc kind;
  };
  const std::size_t sig_at =
      good.find(manifest_bytes) + manifest_bytes.size() + 30 + std::string("manifest.sig").size();
  const Case cases[] = {
      // In the description's text: still valid TOML, so the signature is what catches it.
      {manifest_bytes, manifest_bytes.find("an echo actor") + 3, PlatformErrc::kBadSignature},
      {good.substr(sig_at, 64), 10, PlatformErrc::kBadSignature},
      {binary_, binary_.size() / 2, PlatformErrc::kHashMismatch},
      {resource_, 2, PlatformErrc::kHashMismatch},
  };
  for (const Case& c : cases) {
    const std::size_t base = good.find(c.needle);
    ASSERT_NE(base, std::string::npos);
    std::string bad = good;
    bad[base + c.at] = static_cast<char>(bad[base + c.at] ^ 0x04);
    SCOPED_TRACE(base + c.at);
    expect_refused(verify_bytes(bad), c.kind, "");
  }
}

// Every single-byte change anywhere in a valid package: verification either fails with one of
// the documented kinds, or (a byte no hash covers: a timestamp, a CRC, an attribute bit)
// succeeds with exactly the original content. It never crashes or accepts altered content.
TEST_F(PackageVerifier, NoByteChangeIsAcceptedWithAlteredContent) {
  const std::string good = built_package();
  auto original = verify_bytes(good);
  ASSERT_TRUE(original.ok()) << original.error().to_string();
  const ErrorCode kinds[] = {PlatformErrc::kMalformed,    PlatformErrc::kTooLarge,
                             PlatformErrc::kUntrusted,    PlatformErrc::kRevoked,
                             PlatformErrc::kBadSignature, PlatformErrc::kHashMismatch,
                             PlatformErrc::kRefused};
  int refused = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x41);
    auto r = verify_bytes(bad);
    if (r.ok()) {
      EXPECT_EQ(r->manifest_text, original->manifest_text) << "byte " << i;
      EXPECT_EQ(r->binary, original->binary) << "byte " << i;
      continue;
    }
    ++refused;
    EXPECT_NE(std::find(std::begin(kinds), std::end(kinds), r.error().code), std::end(kinds))
        << "byte " << i << ": " << r.error().to_string();
  }
  // Most bytes are covered by a hash, the signature or a header check.
  EXPECT_GT(refused, static_cast<int>(good.size() * 9 / 10));
}

// Random corruptions (a fixed seed, so a failure reproduces): several bytes overwritten, a
// range cut out or duplicated. Same property as above: a documented kind, or the original.
TEST_F(PackageVerifier, RandomCorruptionsAreRefusedOrHarmless) {
  const std::string good = built_package();
  auto original = verify_bytes(good);
  ASSERT_TRUE(original.ok()) << original.error().to_string();
  std::mt19937 rng(20261207);
  auto below = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  for (int round = 0; round < 1500; ++round) {
    std::string bad = good;
    switch (round % 3) {
      case 0:
        for (int k = 0; k < 4; ++k) bad[below(bad.size())] = static_cast<char>(below(256));
        break;
      case 1: {
        const std::size_t at = below(bad.size());
        bad.erase(at, below(64) + 1);
        break;
      }
      default: {
        const std::size_t at = below(bad.size());
        bad.insert(at, bad.substr(at, below(64) + 1));
        break;
      }
    }
    auto r = verify_bytes(bad);
    if (r.ok()) {
      EXPECT_EQ(r->manifest_text, original->manifest_text) << "round " << round;
      EXPECT_EQ(r->binary, original->binary) << "round " << round;
    } else {
      EXPECT_TRUE(r.error().code.is<PlatformErrc>())
          << "round " << round << ": " << r.error().to_string();
    }
  }
}

TEST_F(PackageVerifier, RefusesADeclaredBinarySizeThatLies) {
  auto bigger = good_entries([](Manifest& m) { m.binary.size += 1; });
  expect_refused(verify_entries(bigger), PlatformErrc::kHashMismatch, "binary.size");
  auto smaller = good_entries([](Manifest& m) { m.binary.size -= 1; });
  expect_refused(verify_entries(smaller), PlatformErrc::kHashMismatch, "binary.size");
}

TEST_F(PackageVerifier, RefusesAHashThatDoesNotMatch) {
  auto entries = good_entries([](Manifest& m) { m.resources[0].hash = std::string(64, 'a'); });
  expect_refused(verify_entries(entries), PlatformErrc::kHashMismatch, "res/data.txt");
}

TEST_F(PackageVerifier, RefusesAMissingListedEntry) {
  auto entries = good_entries();
  entries.pop_back();
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "is missing");
}

TEST_F(PackageVerifier, RefusesAnUnlistedEntry) {
  auto entries = good_entries();
  entries.push_back({"res/extra.txt", "smuggled"});
  expect_refused(verify_entries(entries), PlatformErrc::kMalformed, "not listed");
}

// 8. The binary.
TEST_F(PackageVerifier, RefusesABinaryThatIsNotAModule) {
  // The magic and version of a module, then bytes that are no section.
  binary_ = std::string{'\0', 'a', 's', 'm', 1, 0, 0, 0} + "not really a module";
  expect_refused(verify_entries(good_entries()), PlatformErrc::kRefused, "loadable module");
}

}  // namespace
}  // namespace troupe
