// Manifest: actr's fields read strictly, the [troupe] table, actor type components, and
// to_toml() reading back equal.
#include "troupe/platform/manifest.h"

#include <gtest/gtest.h>

#include "troupe/platform/actor_type.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

using platform::Manifest;
using platform::ManifestMode;

const std::string kHash(64, 'a');

std::string full_manifest() {
  return R"(manufacturer = "acme"
name = "billing"
version = "1.2.3+build.7"
signature_algorithm = "ed25519"
signing_key_id = "mfr-0123456789abcdef"

[binary]
path = "bin/actor.wasm"
target = "wasm32-wasip1"
hash = ")" +
         kHash + R"("
size = 1234
kind = "core-module"

[[resources]]
path = "res/a.txt"
hash = ")" +
         kHash + R"("

[[proto_files]]
name = "billing.proto"
path = "proto/billing.proto"
hash = ")" +
         kHash + R"("

[lock_file]
path = "manifest.lock.toml"
hash = ")" +
         kHash + R"("

[metadata]
description = "bills \"things\""
license = "MIT"

[troupe.capabilities]
signing = true
identity = true
storage = { quota_bytes = 1048576 }
clock = true
random = true
streams = true
call = ["acme:billing:*", "echo"]

[troupe.limits]
fuel = 5000000
timeout_ms = "unlimited"
)";
}

void expect_malformed(const std::string& text, const std::string& detail,
                      ManifestMode mode = ManifestMode::kSigned) {
  auto m = Manifest::parse(text, mode);
  ASSERT_FALSE(m.ok()) << "accepted: " << text;
  EXPECT_EQ(m.error().code, ErrorCode(PlatformErrc::kMalformed)) << m.error().to_string();
  EXPECT_NE(m.error().detail.find(detail), std::string::npos)
      << m.error().to_string() << " (expected '" << detail << "')";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("no '" + from + "' in the manifest");
  return text.replace(at, from.size(), to);
}

TEST(Manifest, ReadsEveryField) {
  auto m = Manifest::parse(full_manifest());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->type.to_string(), "acme:billing:1.2.3+build.7");
  EXPECT_EQ(m->signing_key_id, "mfr-0123456789abcdef");
  EXPECT_EQ(m->binary.target, "wasm32-wasip1");
  EXPECT_EQ(m->binary.size, 1234u);
  ASSERT_EQ(m->resources.size(), 1u);
  ASSERT_EQ(m->proto_files.size(), 1u);
  EXPECT_EQ(m->proto_files[0].name, "billing.proto");
  ASSERT_TRUE(m->lock_file);
  EXPECT_EQ(m->metadata.description, "bills \"things\"");
  const auto& caps = m->troupe.capabilities;
  EXPECT_TRUE(caps.signing && caps.identity && caps.clock && caps.random && caps.streams);
  EXPECT_EQ(caps.storage_quota_bytes, 1048576u);
  EXPECT_EQ(caps.call, (std::vector<std::string>{"acme:billing:*", "echo"}));
  const auto& fuel = m->troupe.limits[static_cast<std::size_t>(wasm::LimitKey::kFuel)];
  ASSERT_TRUE(fuel);
  EXPECT_EQ(fuel->number, 5000000u);
  EXPECT_TRUE(m->troupe.limits[static_cast<std::size_t>(wasm::LimitKey::kTimeoutMs)]->unlimited);
  EXPECT_EQ(m->listed_entries().size(), 4u);
}

TEST(Manifest, ToTomlReadsBackEqual) {
  auto m = Manifest::parse(full_manifest());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  auto again = Manifest::parse(m->to_toml());
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << m->to_toml();
  EXPECT_EQ(*again, *m);
}

TEST(Manifest, UnknownKeysAnywhereAreErrorsNamingTheKey) {
  expect_malformed(full_manifest() + "extra = 1\n", "troupe.limits.extra");
  expect_malformed(
      replaced(full_manifest(), "[troupe.capabilities]", "[troupe.capabilities]\nx = 1"),
      "troupe.capabilities.x");
  expect_malformed(
      replaced(full_manifest(), "[troupe.capabilities]", "[troupe.other]\n[troupe.capabilities]"),
      "troupe.other");
  expect_malformed(replaced(full_manifest(), "storage = { quota_bytes = 1048576 }",
                            "storage = { quota_bytes = 1, more = 2 }"),
                   "troupe.capabilities.storage.more");
  expect_malformed(replaced(full_manifest(), "kind = ", "color = \"red\"\nkind = "),
                   "binary.color");
  expect_malformed(replaced(full_manifest(), "license = ", "author = \"x\"\nlicense = "),
                   "metadata.author");
  expect_malformed("top = 1\n" + full_manifest(), "top is not a known key");
}

// A hostile key name never reaches an error line raw: no escape sequence, no line break that
// could forge a second `error:` line.
TEST(Manifest, AHostileKeyIsShownEscaped) {
  for (const std::string& key :
       {std::string("\"\\u001b]0;PWNED\\u0007\\nerror: all good\""), std::string("\"\\u202Ex\"")}) {
    auto in_table = Manifest::parse(full_manifest() + key + " = 1\n");
    auto at_top = Manifest::parse(key + " = 1\n" + full_manifest());
    auto in_caps = Manifest::parse(replaced(full_manifest(), "[troupe.capabilities]",
                                            "[troupe.capabilities]\n" + key + " = 1"));
    for (const auto* m : {&in_table, &at_top, &in_caps}) {
      ASSERT_FALSE(m->ok());
      const std::string line = m->error().to_string();
      for (const char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
      EXPECT_EQ(line.find("\xE2\x80\xAE"), std::string::npos) << line;
    }
  }
}

TEST(Manifest, RefusesWrongTypesAndValues) {
  expect_malformed(replaced(full_manifest(), "signing = true", "signing = \"yes\""),
                   "troupe.capabilities.signing");
  expect_malformed(replaced(full_manifest(), "fuel = 5000000", "fuel = 0"), "troupe.limits.fuel");
  expect_malformed(replaced(full_manifest(), "fuel = 5000000", "call_depth = \"unlimited\""),
                   "troupe.limits.call_depth");
  expect_malformed(replaced(full_manifest(), "size = 1234", "size = -1"), "binary.size");
  expect_malformed(replaced(full_manifest(), "size = 1234", "size = \"1234\""), "binary.size");
  expect_malformed(replaced(full_manifest(), "wasm32-wasip1", "x86_64-linux"), "binary.target");
  expect_malformed(replaced(full_manifest(), "core-module", "shared-object"), "binary.kind");
  expect_malformed(replaced(full_manifest(), "\"ed25519\"", "\"rsa\""), "signature_algorithm");
  expect_malformed(replaced(full_manifest(), "mfr-0123456789abcdef", "mfr-XYZ"), "signing_key_id");
  expect_malformed(replaced(full_manifest(), "hash = \"" + kHash, "hash = \"" + kHash + "0"),
                   "binary.hash");
  expect_malformed(
      replaced(full_manifest(), "hash = \"" + kHash, "hash = \"" + std::string(64, 'A')),
      "binary.hash");
  expect_malformed(replaced(full_manifest(), "\"echo\"]", "\"acme:*\"]"), "call");
  expect_malformed("manufacturer = ", "line 1");
}

TEST(Manifest, RefusesMissingFieldsOfASignedManifest) {
  expect_malformed(replaced(full_manifest(), "signing_key_id = \"mfr-0123456789abcdef\"", ""),
                   "signing_key_id is missing");
  expect_malformed(replaced(full_manifest(), "size = 1234", ""), "binary.size is missing");
  expect_malformed(replaced(full_manifest(), "manufacturer = \"acme\"", ""),
                   "manufacturer is missing");
  expect_malformed(replaced(full_manifest(), "[binary]", "[binary2]"), "binary2");
}

TEST(Manifest, TemplateModeLetsTheBuilderFillIn) {
  const std::string text = R"(manufacturer = "acme"
name = "echo"
version = "1.0.0"
[binary]
path = "bin/actor.wasm"
target = "wasm32-unknown-unknown"
[[resources]]
path = "res/a.txt"
)";
  EXPECT_TRUE(Manifest::parse(text, ManifestMode::kTemplate).ok());
  expect_malformed(text, "signing_key_id is missing");
}

TEST(Manifest, RefusesUnsafeOrDuplicatePaths) {
  for (const char* path : {"../x", "/abs", "a\\\\b", "a/./b", "dir/", "manifest.sig"}) {
    SCOPED_TRACE(path);
    expect_malformed(replaced(full_manifest(), "res/a.txt", path), "resources[0].path");
  }
  expect_malformed(replaced(full_manifest(), "res/a.txt", "bin/actor.wasm"), "listed twice");
}

TEST(Manifest, ComponentBinariesAreRefusedAsNotYetSupported) {
  auto m = Manifest::parse(replaced(full_manifest(), "core-module", "component"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode(PlatformErrc::kRefused));
  EXPECT_NE(m.error().detail.find("not yet supported"), std::string::npos);
  auto wasip2 = Manifest::parse(replaced(full_manifest(), "wasm32-wasip1", "wasm32-wasip2"));
  ASSERT_FALSE(wasip2.ok());
  EXPECT_EQ(wasip2.error().code, ErrorCode(PlatformErrc::kRefused));
  auto native = Manifest::parse(replaced(full_manifest(), "core-module", "native-cdylib"));
  ASSERT_FALSE(native.ok());
  EXPECT_EQ(native.error().code, ErrorCode(PlatformErrc::kRefused));
}

TEST(Manifest, AManifestWithoutKindIsACoreModuleAsInActr) {
  auto m = Manifest::parse(replaced(full_manifest(), "kind = \"core-module\"", ""));
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->binary.kind, "core-module");
}

TEST(Manifest, AProtoFileNeedsItsName) {
  expect_malformed(replaced(full_manifest(), "name = \"billing.proto\"", ""),
                   "proto_files[0].name is missing");
}

TEST(ActorType, ValidatesEachComponent) {
  auto t = platform::parse_actor_type("acme:echo:1.0.0");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->manufacturer, "acme");
  for (const char* bad :
       {"acme:echo", "acme:echo:1:2", ":echo:1", "acme::1", "acme:echo:", "ac/me:echo:1",
        "..:echo:1", "acme:.:1", "acme:e cho:1", "acme+x:echo:1"}) {
    SCOPED_TRACE(bad);
    auto r = platform::parse_actor_type(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode(PlatformErrc::kMalformed));
  }
  EXPECT_FALSE(platform::parse_actor_type("acme:echo:" + std::string(65, '1')).ok());
  EXPECT_TRUE(platform::parse_actor_type("acme:echo:" + std::string(64, '1')).ok());
  EXPECT_TRUE(platform::parse_actor_type("acme:echo:1.0.0+b1").ok());
}

// The shape actr-pack's to_toml() gives a package without resources: empty arrays, an empty
// [metadata], no binary.kind.
TEST(Manifest, ReadsTheShapeActrWrites) {
  const std::string text = R"(manufacturer = "acme"
name = "echo"
version = "0.1.0"
signature_algorithm = "ed25519"
signing_key_id = "mfr-0123456789abcdef"
resources = []
proto_files = []

[binary]
path = "bin/actor.wasm"
target = "wasm32-wasip1"
hash = ")" + kHash + R"("
size = 42

[metadata]
)";
  auto m = Manifest::parse(text);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->binary.kind, "core-module");
  EXPECT_TRUE(m->resources.empty());
  EXPECT_FALSE(m->metadata.description);
}

}  // namespace
}  // namespace troupe
