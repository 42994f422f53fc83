#include "troupe/cluster/member.h"

#include <gtest/gtest.h>

#include <string>

#include "troupe/cluster/cluster_error.h"

namespace troupe {
namespace {

Ed25519PublicKey counting_key() {
  Ed25519PublicKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  return key;
}

// Expected values from Python's hashlib.blake2b(key, digest_size=32), an independent
// implementation: the id is the first 8 bytes, big-endian.
TEST(Member, IdIsTheFirstEightBytesOfBlake2b256OfTheKey) {
  EXPECT_EQ(member_id_of(Ed25519PublicKey{}), 0x89eb0d6a8a691daeULL);
  EXPECT_EQ(member_id_of(counting_key()), 0xcb2f5160fc1f7e05ULL);
}

TEST(Member, RecordWhoseIdIsNotItsKeysIdIsRefused) {
  Member m;
  m.identity = counting_key();
  m.id = member_id_of(m.identity);
  m.address = "127.0.0.1:7400";
  EXPECT_TRUE(check_member(m).ok());
  m.id ^= 1;
  auto checked = check_member(m);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, ClusterErrc::kMalformed);
}

TEST(Member, AddressIsOneTo255PrintableBytes) {
  EXPECT_TRUE(check_member_address("127.0.0.1:7400").ok());
  EXPECT_TRUE(check_member_address("unix:/run/troupe/node 1.sock").ok());
  EXPECT_TRUE(check_member_address(std::string(255, 'a')).ok());
  EXPECT_FALSE(check_member_address("").ok());
  EXPECT_FALSE(check_member_address(std::string(256, 'a')).ok());
  EXPECT_FALSE(check_member_address("host\n:1").ok());
  EXPECT_FALSE(check_member_address(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(check_member_address("caf\xc3\xa9:1").ok());
  EXPECT_FALSE(check_member_address("a\x7f").ok());
}

TEST(Member, StateNamesAreStable) {
  EXPECT_EQ(member_state_name(MemberState::kAlive), "alive");
  EXPECT_EQ(member_state_name(MemberState::kSuspect), "suspect");
  EXPECT_EQ(member_state_name(MemberState::kDead), "dead");
  EXPECT_EQ(member_state_name(MemberState::kLeft), "left");
}

}  // namespace
}  // namespace troupe
