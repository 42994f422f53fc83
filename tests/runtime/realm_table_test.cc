// RealmTable: the numbers guests name other nodes by.
#include "troupe/runtime/realm_table.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace troupe {
namespace {

TEST(RealmTable, NodesGetNumbersInOrderOfFirstSightAndKeepThem) {
  RealmTable t;
  EXPECT_EQ(t.realm_of(0xaaaa), 1u);
  EXPECT_EQ(t.realm_of(0xbbbb), 2u);
  EXPECT_EQ(t.realm_of(0xaaaa), 1u);
  EXPECT_EQ(t.node_of(1), NodeId{0xaaaa});
  EXPECT_EQ(t.node_of(2), NodeId{0xbbbb});
  // Realm 0 is this node, never in the table; numbers not given name nothing.
  EXPECT_EQ(t.node_of(0), std::nullopt);
  EXPECT_EQ(t.node_of(3), std::nullopt);
  EXPECT_EQ(t.node_of(RealmTable::kNoRealm), std::nullopt);
  EXPECT_EQ(t.realm_of(0), RealmTable::kNoRealm);
}

TEST(RealmTable, PastTheCapNoNumberIsGivenAndNoneIsReused) {
  RealmTable t;
  for (NodeId n = 1; n <= RealmTable::kMaxRealms; ++n) ASSERT_EQ(t.realm_of(n), n);
  EXPECT_EQ(t.realm_of(RealmTable::kMaxRealms + 1), RealmTable::kNoRealm);
  EXPECT_EQ(t.realm_of(7), 7u);  // the ones given stay
  EXPECT_EQ(t.node_of(RealmTable::kMaxRealms), NodeId{RealmTable::kMaxRealms});
}

TEST(RealmTable, ThreadsSeeingTheSameNodesAgreeOnTheirNumbers) {
  RealmTable t;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint32_t>> seen(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&t, &seen, i] {
      for (NodeId n = 100; n < 200; ++n) seen[i].push_back(t.realm_of(n));
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 1; i < 4; ++i) EXPECT_EQ(seen[i], seen[0]);
  for (NodeId n = 100; n < 200; ++n) EXPECT_EQ(t.node_of(t.realm_of(n)), n);
}

}  // namespace
}  // namespace troupe
