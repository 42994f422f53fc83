#include "troupe/node/actor_name.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

TEST(ActorName, OneToMaxBytesOfPrintableUtf8) {
  EXPECT_TRUE(check_actor_name("echo", "actor name").ok());
  EXPECT_TRUE(check_actor_name("größe-€", "actor name").ok());
  EXPECT_TRUE(check_actor_name(std::string(kMaxActorNameBytes, 'x'), "actor name").ok());
  EXPECT_EQ(
      check_actor_name(std::string(kMaxActorNameBytes + 1, 'x'), "actor name").error().to_string(),
      "invalid-argument: actor name is 256 bytes (at most 255)");
  EXPECT_EQ(check_actor_name("", "type name").error().to_string(),
            "invalid-argument: type name is empty");
  for (std::string bad : {std::string("a\nb"), std::string("nul\0", 4), std::string("del\x7f"),
                          std::string("c1\xc2\x9b"), std::string("\x1b[31m")}) {
    EXPECT_EQ(check_actor_name(bad, "actor name").error().detail,
              "actor name contains a control character")
        << bad;
  }
  EXPECT_EQ(check_actor_name("\xff", "actor name").error().detail, "actor name is not valid UTF-8");
  EXPECT_TRUE(check_actor_name("\xc2\xa0nbsp", "actor name").ok());  // U+00A0 is no control
}

// A registered name must not read as an actor id, or a lookup by id could find a decoy.
TEST(ActorName, ASpawnNameMustNotReadAsAnActorId) {
  EXPECT_TRUE(check_spawn_name("echo", "actor name").ok());
  EXPECT_TRUE(check_spawn_name("1.2.3", "actor name").ok());
  EXPECT_EQ(check_spawn_name("1f.2", "name").error().to_string(),
            "invalid-argument: name '1f.2' reads as an actor id: names must not");
  EXPECT_EQ(check_spawn_name("", "name").error().detail, "name is empty");
  EXPECT_EQ(check_spawn_name("a\nb", "name").error().detail, "name contains a control character");
}

}  // namespace
}  // namespace troupe
