// build_package: fills in what the template leaves out, refuses inputs that do not match the
// template, and leaves nothing but its output behind.
#include "troupe/platform/package_builder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "platform/package_fixture.h"
#include "troupe/platform/sha256.h"

namespace troupe {
namespace {

using platform::PackageInputs;
using platform::SigningKey;

class PackageBuilder : public ::testing::Test {
 protected:
  testing::ScratchDir dir_{"build"};
  SigningKey key_ = SigningKey::generate();
  std::string binary_ = testing::guest_wasm();
};

TEST_F(PackageBuilder, FillsInHashesSizeAndKeyId) {
  platform::Manifest m = testing::template_manifest();
  m.resources.push_back({"res/listed.txt", "", ""});
  PackageInputs in{m, binary_, {{"res/listed.txt", "listed"}, {"res/added.txt", "added"}}};
  auto built = platform::build_package(std::move(in), key_, dir_ / "p.actr");
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_EQ(built->signing_key_id, key_.key_id());
  EXPECT_EQ(built->binary.hash, platform::sha256_hex(binary_));
  EXPECT_EQ(built->binary.size, binary_.size());
  ASSERT_EQ(built->resources.size(), 2u);
  EXPECT_EQ(built->resources[0].hash, platform::sha256_hex("listed"));
  EXPECT_EQ(built->resources[1].path, "res/added.txt");
  // Only the output is left in the directory (no temp file).
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(PackageBuilder, RefusesInputsThatDoNotMatchTheTemplate) {
  platform::Manifest listed = testing::template_manifest();
  listed.resources.push_back({"res/listed.txt", "", ""});
  auto missing = platform::build_package({listed, binary_, {}}, key_, dir_ / "a.actr");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("no file was given"), std::string::npos);

  auto twice = platform::build_package(
      {testing::template_manifest(), binary_, {{"res/a", "1"}, {"res/a", "2"}}}, key_,
      dir_ / "b.actr");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().detail.find("given twice"), std::string::npos);

  auto binary_path = platform::build_package(
      {testing::template_manifest(), binary_, {{"bin/actor.wasm", "x"}}}, key_, dir_ / "c.actr");
  ASSERT_FALSE(binary_path.ok());
  EXPECT_NE(binary_path.error().detail.find("binary's path"), std::string::npos);

  auto unsafe = platform::build_package(
      {testing::template_manifest(), binary_, {{"../escape", "x"}}}, key_, dir_ / "d.actr");
  ASSERT_FALSE(unsafe.ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "d.actr"));
}

TEST_F(PackageBuilder, ReplacesAnExistingOutput) {
  testing::write_file(dir_ / "p.actr", "old contents");
  ASSERT_TRUE(
      platform::build_package({testing::template_manifest(), binary_, {}}, key_, dir_ / "p.actr")
          .ok());
  EXPECT_NE(testing::read_file(dir_ / "p.actr"), "old contents");
}

// A file already at the builder's temporary name is not the builder's: it is neither removed
// nor replaced, and the build fails saying where.
TEST_F(PackageBuilder, NeverRemovesAFileItDidNotCreate) {
  const std::string temp = (dir_ / "p.actr").string() + ".tmp-" + std::to_string(::getpid());
  testing::write_file(temp, "precious");
  auto built =
      platform::build_package({testing::template_manifest(), binary_, {}}, key_, dir_ / "p.actr");
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().detail.find("cannot create"), std::string::npos)
      << built.error().to_string();
  EXPECT_EQ(testing::read_file(temp), "precious");
}

}  // namespace
}  // namespace troupe
