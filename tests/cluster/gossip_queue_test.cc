#include "troupe/cluster/gossip_queue.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

MemberUpdate update(std::uint8_t key_byte, MemberState state, std::uint64_t incarnation,
                    std::size_t address_bytes = 10) {
  Member m;
  m.identity.fill(key_byte);
  m.id = member_id_of(m.identity);
  m.address = std::string(address_bytes, 'a');
  m.incarnation = incarnation;
  m.state = state;
  return MemberUpdate{m, m.id};
}

constexpr std::size_t kBig = 1 << 20;

TEST(GossipQueue, ANewerUpdateAboutAMemberReplacesTheOlder) {
  GossipQueue q;
  q.enqueue(update(1, MemberState::kAlive, 1));
  q.enqueue(update(1, MemberState::kSuspect, 1));
  ASSERT_EQ(q.size(), 1u);
  auto taken = q.take(kBig, 10, 4);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].member.state, MemberState::kSuspect);
}

TEST(GossipQueue, EachUpdateIsSentAtMostLimitTimes) {
  GossipQueue q;
  q.enqueue(update(1, MemberState::kAlive, 1));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.take(kBig, 10, 3).size(), 1u);
  EXPECT_TRUE(q.take(kBig, 10, 3).empty());
  EXPECT_TRUE(q.empty());
}

TEST(GossipQueue, LeastSentGoesFirstAndNewestAmongEquals) {
  GossipQueue q;
  q.enqueue(update(1, MemberState::kAlive, 1));
  q.take(kBig, 10, 10);  // member 1 sent once
  q.enqueue(update(2, MemberState::kAlive, 1));
  q.enqueue(update(3, MemberState::kAlive, 1));
  auto taken = q.take(kBig, 2, 10);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].member.id, update(3, MemberState::kAlive, 1).member.id);
  EXPECT_EQ(taken[1].member.id, update(2, MemberState::kAlive, 1).member.id);
}

TEST(GossipQueue, TakesOnlyWhatFitsTheByteBudget) {
  GossipQueue q;
  const auto big = update(1, MemberState::kAlive, 1, 200);
  const auto small = update(2, MemberState::kAlive, 1, 5);
  q.enqueue(small);
  q.enqueue(big);  // newest: tried first, does not fit
  auto taken = q.take(encoded_update_size(small), 10, 4);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].member.id, small.member.id);
  EXPECT_TRUE(q.take(10, 10, 4).empty());
  EXPECT_EQ(q.size(), 2u);
}

}  // namespace
}  // namespace troupe
