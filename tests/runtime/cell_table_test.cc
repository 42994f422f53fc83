#include "troupe/runtime/cell_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

namespace troupe {
namespace {

ActorCell* fake(std::uint64_t serial) { return reinterpret_cast<ActorCell*>(serial * 64); }

TEST(CellTable, InsertFindErase) {
  CellTable t;
  EXPECT_EQ(t.find(7), nullptr);
  EXPECT_FALSE(t.erase(7));
  EXPECT_TRUE(t.insert(7, fake(7)));
  EXPECT_FALSE(t.insert(7, fake(8)));  // present already: unchanged
  EXPECT_EQ(t.find(7), fake(7));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.erase(7));
  EXPECT_FALSE(t.erase(7));
  EXPECT_EQ(t.find(7), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

// Against std::map under random operations, with serials as one registry shard sees them
// (all alike modulo 64) and runs of consecutive ones, through many growths; every deletion
// (backward shift included) must leave every other entry findable.
TEST(CellTable, AgreesWithAReferenceMapUnderRandomOperations) {
  std::mt19937_64 rng(42);
  CellTable t;
  std::map<std::uint64_t, ActorCell*> ref;
  std::uint64_t next = 1;
  for (int op = 0; op < 200000; ++op) {
    const auto roll = rng() % 10;
    if (roll < 5) {
      const std::uint64_t serial = 3 + 64 * next++;
      ASSERT_TRUE(t.insert(serial, fake(serial)));
      ref[serial] = fake(serial);
    } else if (roll < 9 && !ref.empty()) {
      auto it = ref.lower_bound(3 + 64 * (rng() % next));
      if (it == ref.end()) it = ref.begin();
      ASSERT_TRUE(t.erase(it->first));
      ref.erase(it);
    } else {
      const std::uint64_t serial = 3 + 64 * (rng() % (next + 10));
      auto it = ref.find(serial);
      ASSERT_EQ(t.find(serial), it == ref.end() ? nullptr : it->second) << serial;
    }
    ASSERT_EQ(t.size(), ref.size());
  }
  for (const auto& [serial, cell] : ref) ASSERT_EQ(t.find(serial), cell) << serial;
  std::size_t seen = 0;
  t.for_each([&](std::uint64_t serial, ActorCell* cell) {
    ++seen;
    EXPECT_EQ(ref.at(serial), cell);
  });
  EXPECT_EQ(seen, ref.size());
}

}  // namespace
}  // namespace troupe
