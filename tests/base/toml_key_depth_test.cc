#include "troupe/base/toml_key_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

std::string dotted(std::size_t parts) {
  std::string key = "a";
  for (std::size_t i = 1; i < parts; ++i) key += ".a";
  return key;
}

TEST(TomlKeyDepth, KeysUpToTheLimitPassAndLongerOnesAreRefusedWithTheirLine) {
  EXPECT_TRUE(check_toml_key_depth("[troupe.capabilities]\nstorage = { quota_bytes = 1 }\n").ok());
  EXPECT_TRUE(check_toml_key_depth(dotted(kMaxTomlKeyParts) + " = 1\n").ok());
  auto r = check_toml_key_depth("x = 1\n" + dotted(kMaxTomlKeyParts + 1) + " = 1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "line 2: a key with more than 16 dotted parts");
  EXPECT_FALSE(check_toml_key_depth("[" + dotted(300000) + "]\nx = 1\n").ok());
  EXPECT_FALSE(check_toml_key_depth("t = { " + dotted(40) + " = 1 }\n").ok());
  EXPECT_FALSE(check_toml_key_depth(dotted(8) + " . " + dotted(10) + " = 1\n").ok());
}

// Dots inside strings, comments and numbers are not key parts.
TEST(TomlKeyDepth, DotsInStringsCommentsAndNumbersDoNotCount) {
  const std::string many(100, '.');
  EXPECT_TRUE(check_toml_key_depth("v = \"" + many + "\"\n").ok());
  EXPECT_TRUE(check_toml_key_depth("v = '" + many + "'\n").ok());
  EXPECT_TRUE(check_toml_key_depth("v = \"\"\"\n" + many + "\n\"\"\"\n").ok());
  EXPECT_TRUE(check_toml_key_depth("v = '''" + many + "'''\n").ok());
  EXPECT_TRUE(check_toml_key_depth("v = \"a\\\"" + many + "\"\n").ok());  // an escaped quote
  EXPECT_TRUE(check_toml_key_depth("# " + many + "\nv = 1\n").ok());
  EXPECT_TRUE(check_toml_key_depth("v = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, "
                                   "12.5, 13.5, 14.5, 15.5, 16.5, 17.5]\n")
                  .ok());
  EXPECT_TRUE(check_toml_key_depth("\"" + many + "\" = 1\n").ok());      // one quoted part
  EXPECT_TRUE(check_toml_key_depth("v = \"unterminated " + many).ok());  // toml++ says why
}

}  // namespace
}  // namespace troupe
