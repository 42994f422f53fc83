// inspect_package: what a package says, under the verifier's bounds, without verifying it.
#include "troupe/platform/package_inspector.h"

#include <gtest/gtest.h>

#include "platform/package_fixture.h"
#include "platform/zip_forge.h"
#include "troupe/platform/package_builder.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"

namespace troupe {
namespace {

TEST(PackageInspector, ShowsAnUnverifiedPackage) {
  testing::ScratchDir dir("inspect");
  platform::SigningKey key = platform::SigningKey::generate();
  auto built = platform::build_package(
      {testing::template_manifest(), testing::guest_wasm(), {{"res/a.txt", "a"}}}, key,
      dir / "p.actr");
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  // Nobody trusts the key: inspect does not ask.
  auto summary = platform::inspect_package(dir / "p.actr");
  ASSERT_TRUE(summary.ok()) << summary.error().to_string();
  EXPECT_EQ(summary->manifest, *built);
  EXPECT_EQ(summary->package_hash, platform::sha256_hex(built->to_toml()));
  EXPECT_EQ(summary->signature_bytes, 64u);
  ASSERT_EQ(summary->entries.size(), 4u);
  EXPECT_EQ(summary->entries[3].name, "res/a.txt");
}

// As the verifier does, an error shows a hostile file name on one line.
TEST(PackageInspector, ShowsAHostileFileNameOnOneLine) {
  testing::ScratchDir dir("inspect");
  auto r = platform::inspect_package(dir / "a\nerror: b\x1b[2J.actr");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode(BaseErrc::kIo));
  EXPECT_NE(r.error().detail.find("a\\x0Aerror: b\\x1B[2J.actr"), std::string::npos)
      << r.error().detail;
}

TEST(PackageInspector, KeepsTheVerifiersBounds) {
  testing::ScratchDir dir("inspect");
  std::vector<testing::ForgeEntry> many;
  many.reserve(2000);
  for (int i = 0; i < 2000; ++i) many.emplace_back("f" + std::to_string(i), "");
  testing::write_file(dir / "many.actr", testing::forge_zip(many));
  auto r = platform::inspect_package(dir / "many.actr");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode(PlatformErrc::kTooLarge));

  testing::write_file(dir / "none.actr", testing::forge_zip({{"res/a.txt", "a"}}));
  auto none = platform::inspect_package(dir / "none.actr");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode(PlatformErrc::kMalformed));

  testing::write_file(dir / "big.actr",
                      testing::forge_zip({{"manifest.toml", std::string((1 << 20) + 1, '#')}}));
  auto big = platform::inspect_package(dir / "big.actr");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode(PlatformErrc::kTooLarge));
}

}  // namespace
}  // namespace troupe
