#include "linear_memory_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "troupe/wasm/instance.h"
#include "troupe/wasm/wat.h"
#include "wasm/null_host.h"
#include "wasm/tiers.h"
#include "wat_guests.h"

namespace troupe::wasm {
namespace {

constexpr std::uint64_t kPage = kWasmPageBytes;

// The protection of the mapping holding `addr`, as /proc/self/maps spells it ("rw-p", "---p").
std::string protection(const void* addr) {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) == 3 && a >= lo && a < hi) {
      return perms;
    }
  }
  return "unmapped";
}

bool all_zero(const std::uint8_t* p, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

TEST(LinearMemoryPool, AReusedSlotReadsZerosNotThePreviousBytes) {
  LinearMemoryPool pool({.max_slots = 4, .max_retained_bytes = 16 * kPage});
  std::uint8_t* a = pool.acquire(2 * kPage);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(all_zero(a, 2 * kPage));
  std::memset(a, 0xA5, 2 * kPage);  // the secret
  pool.release(a, 2 * kPage, true);
  EXPECT_EQ(pool.stats().free_slots, 1u);
  EXPECT_EQ(pool.stats().retained_bytes, 2 * kPage);

  std::uint8_t* b = pool.acquire(2 * kPage);
  ASSERT_EQ(b, a);  // the same slot, reused
  EXPECT_TRUE(all_zero(b, 2 * kPage));
  EXPECT_EQ(pool.stats().reused, 1u);
  EXPECT_EQ(pool.stats().mapped, 1u);
  pool.release(b, 2 * kPage, true);
}

// A guest that touched a few pages: they are zeroed in place (no madvise), and only they needed
// it. Written pages scattered across the memory, with bytes at each page's first and last byte.
TEST(LinearMemoryPool, AFewTouchedPagesAreZeroedInPlace) {
  LinearMemoryPool pool({.max_slots = 4, .max_retained_bytes = 64 * kPage});
  std::uint8_t* a = pool.acquire(8 * kPage);
  ASSERT_NE(a, nullptr);
  const long os_page = sysconf(_SC_PAGESIZE);
  for (const std::uint64_t at : {std::uint64_t{0}, 3 * kPage + 4096, 8 * kPage - 1}) {
    a[at] = 0xA5;
    a[at - at % os_page] = 0x5A;
    a[at - at % os_page + os_page - 1] = 0x5A;
  }
  (void)a[5 * kPage];  // read only: the zero page, present or not, reads zero either way
  pool.release(a, 8 * kPage, true);
  EXPECT_EQ(pool.stats().resets_in_place, 1u);
  std::uint8_t* b = pool.acquire(8 * kPage);
  ASSERT_EQ(b, a);
  EXPECT_TRUE(all_zero(b, 8 * kPage));
  pool.release(b, 8 * kPage, true);
}

// Past kMostZeroedPages touched pages the slot is dropped with madvise instead: still zeros.
TEST(LinearMemoryPool, ManyTouchedPagesAreDroppedNotZeroed) {
  LinearMemoryPool pool({.max_slots = 4, .max_retained_bytes = 64 * kPage});
  std::uint8_t* a = pool.acquire(8 * kPage);
  ASSERT_NE(a, nullptr);
  const auto os_page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  const std::uint64_t touched = LinearMemoryPool::kMostZeroedPages + 1;
  ASSERT_LE(touched * os_page, 8 * kPage);
  for (std::uint64_t i = 0; i < touched; ++i) a[i * os_page + 7] = 0xA5;
  pool.release(a, 8 * kPage, true);
  EXPECT_EQ(pool.stats().resets_in_place, 0u);
  EXPECT_EQ(pool.stats().free_slots, 1u);
  std::uint8_t* b = pool.acquire(8 * kPage);
  ASSERT_EQ(b, a);
  EXPECT_TRUE(all_zero(b, 8 * kPage));
  pool.release(b, 8 * kPage, true);
}

TEST(LinearMemoryPool, AReusedSlotIsGuardedPastTheNewSizeAndGrowsBack) {
  LinearMemoryPool pool({.max_slots = 4, .max_retained_bytes = 16 * kPage});
  std::uint8_t* a = pool.acquire(4 * kPage);
  ASSERT_NE(a, nullptr);
  std::memset(a, 0x5A, 4 * kPage);
  pool.release(a, 4 * kPage, true);

  // A smaller memory in the same slot: what the last one could reach past it is PROT_NONE again.
  std::uint8_t* b = pool.acquire(kPage);
  ASSERT_EQ(b, a);
  EXPECT_EQ(protection(b), "rw-p");
  EXPECT_EQ(protection(b + kPage), "---p");
  EXPECT_EQ(protection(b + 3 * kPage), "---p");
  std::memset(b, 1, kPage);
  pool.release(b, kPage, true);

  // A larger one: made accessible, and zero, both the part that was accessible and the rest.
  std::uint8_t* c = pool.acquire(6 * kPage);
  ASSERT_EQ(c, a);
  EXPECT_EQ(protection(c + 5 * kPage), "rw-p");
  EXPECT_EQ(protection(c + 6 * kPage), "---p");
  EXPECT_TRUE(all_zero(c, 6 * kPage));
  pool.release(c, 6 * kPage, true);
}

TEST(LinearMemoryPool, KeepsNoMoreSlotsOrBytesThanItsBounds) {
  LinearMemoryPool pool({.max_slots = 2, .max_retained_bytes = 5 * kPage});
  std::vector<std::uint8_t*> slots;
  slots.reserve(4);
  for (int i = 0; i < 4; ++i) slots.push_back(pool.acquire(2 * kPage));
  for (std::uint8_t* s : slots) pool.release(s, 2 * kPage, true);
  auto st = pool.stats();
  EXPECT_EQ(st.free_slots, 2u);
  EXPECT_EQ(st.retained_bytes, 4 * kPage);
  EXPECT_EQ(st.unmapped, 2u);
  EXPECT_EQ(protection(slots[2]), "unmapped");  // past the bound: unmapped, not kept

  // Bytes: a third slot of two pages would pass 5 pages even with a free count to spare.
  pool.set_bounds({.max_slots = 8, .max_retained_bytes = 5 * kPage});
  std::uint8_t* extra = pool.acquire(0);  // both free slots taken: none retained
  ASSERT_NE(extra, nullptr);
  std::uint8_t* another = pool.acquire(2 * kPage);
  ASSERT_NE(another, nullptr);
  EXPECT_EQ(pool.stats().free_slots, 0u);
  pool.release(another, 3 * kPage, true);
  pool.release(extra, 3 * kPage, true);
  EXPECT_EQ(pool.stats().free_slots, 1u);
  EXPECT_EQ(pool.stats().retained_bytes, 3 * kPage);

  // Lowering the bounds lets go of what no longer fits, at once.
  pool.set_bounds({.max_slots = 0, .max_retained_bytes = 0});
  EXPECT_EQ(pool.stats().free_slots, 0u);
  EXPECT_EQ(pool.stats().retained_bytes, 0u);
}

TEST(LinearMemoryPool, FallsBackToMmapWhenEmptyAndToMunmapWhenDisabled) {
  LinearMemoryPool pool({.max_slots = 0, .max_retained_bytes = 0});
  std::uint8_t* a = pool.acquire(kPage);
  std::uint8_t* b = pool.acquire(kPage);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.stats().mapped, 2u);
  pool.release(a, kPage, true);
  pool.release(b, kPage, true);
  EXPECT_EQ(pool.stats().free_slots, 0u);
  EXPECT_EQ(pool.stats().unmapped, 2u);
}

class FailingResetPool final : public LinearMemoryPool {
 public:
  using LinearMemoryPool::LinearMemoryPool;

 protected:
  bool reset(std::uint8_t*, std::uint64_t) override { return false; }
};

TEST(LinearMemoryPool, ASlotThatCannotBeResetOrIsUncleanIsUnmappedNeverReused) {
  FailingResetPool failing({.max_slots = 4, .max_retained_bytes = 16 * kPage});
  std::uint8_t* a = failing.acquire(kPage);
  std::memset(a, 0xEE, kPage);
  failing.release(a, kPage, true);
  EXPECT_EQ(failing.stats().free_slots, 0u);
  EXPECT_EQ(failing.stats().reset_failures, 1u);
  EXPECT_EQ(failing.stats().unmapped, 1u);
  failing.acquire(kPage);  // never reused: a new mapping (the address may repeat)
  EXPECT_EQ(failing.stats().reused, 0u);
  EXPECT_EQ(failing.stats().mapped, 2u);

  LinearMemoryPool pool({.max_slots = 4, .max_retained_bytes = 16 * kPage});
  std::uint8_t* b = pool.acquire(kPage);
  pool.release(b, kPage, false);  // e.g. a grow whose mprotect failed
  EXPECT_EQ(pool.stats().free_slots, 0u);
  EXPECT_EQ(pool.stats().unmapped, 1u);
}

TEST(LinearMemoryPool, ThreadsAcquireAndReleaseConcurrentlyAndNeverSeeAnothersBytes) {
  LinearMemoryPool pool({.max_slots = 3, .max_retained_bytes = 64 * kPage});
  std::atomic<int> dirty{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, &dirty, t] {
      for (int i = 0; i < 100; ++i) {
        const std::uint64_t bytes = static_cast<std::uint64_t>(1 + (i + t) % 3) * kPage;
        std::uint8_t* m = pool.acquire(bytes);
        if (m == nullptr || !all_zero(m, bytes)) dirty.fetch_add(1);
        if (m == nullptr) continue;
        std::memset(m, 0x10 + t, bytes);
        pool.release(m, bytes, true);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(dirty.load(), 0);
  const auto st = pool.stats();
  EXPECT_LE(st.free_slots, 3u);
  EXPECT_GT(st.reused, 0u);
  EXPECT_EQ(st.reused + st.mapped, 400u);
}

TEST(LinearMemoryPool, BoundsFollowTheNodeCaps) {
  auto b = LinearMemoryPool::bounds_for({.max_instances = 10, .max_memory_bytes = 3 * kPage});
  EXPECT_EQ(b.max_slots, 10u);
  EXPECT_EQ(b.max_retained_bytes, 3 * kPage);
  b = LinearMemoryPool::bounds_for(
      {.max_instances = kNoInstanceCap, .max_memory_bytes = kNoMemoryCap});
  EXPECT_LT(b.max_slots, kNoInstanceCap);  // "unlimited" guests never mean an unbounded pool
  EXPECT_LT(b.max_retained_bytes, kNoMemoryCap);

  const GuestCaps saved = GuestBudget::node().caps();
  GuestBudget::node().set_caps({.max_instances = 7, .max_memory_bytes = 5 * kPage});
  EXPECT_EQ(LinearMemoryPool::node().bounds().max_slots, 7u);
  EXPECT_EQ(LinearMemoryPool::node().bounds().max_retained_bytes, 5 * kPage);
  GuestBudget::node().set_caps(saved);
}

// --- AOT instances drawing from the node's pool ---

// Payload's first byte: 'w' grows by a page and writes a secret on both pages; 'r' grows by a
// page and copies what is on page 2 next to page 1's; 'o' reads page 2 without growing (past
// the memory: must trap); 'g' grows until refused and stores the page count. Every reply is
// the 20 bytes at 0x2000: [page 1 word][page 2 word or count]["seg!" from the data segment].
const std::string kSecretGuest = std::string(R"((module
  (memory (export "memory") 1 4)
  (data (i32.const 0x2010) "seg!")
  (global $top (mut i32) (i32.const 4096)))") +
                                 ::troupe::testing::kWatRealloc + R"(
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (local $op i32)
    (local.set $op (i32.load8_u (local.get 4)))
    (if (i32.eq (local.get $op) (i32.const 119))
      (then
        (drop (memory.grow (i32.const 1)))
        (i64.store (i32.const 0x2000) (i64.const 0x5345435245543121))
        (i64.store (i32.const 0x10100) (i64.const 0x5345435245543221))))
    (if (i32.eq (local.get $op) (i32.const 114))
      (then
        (drop (memory.grow (i32.const 1)))
        (i64.store (i32.const 0x2008) (i64.load (i32.const 0x10100)))))
    (if (i32.eq (local.get $op) (i32.const 111))
      (then (i64.store (i32.const 0x2008) (i64.load (i32.const 0x10100)))))
    (if (i32.eq (local.get $op) (i32.const 103))
      (then
        (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        (i32.store (i32.const 0x2008) (memory.size))))
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 0x2000))
    (i32.store (i32.const 24) (i32.const 20))
    (i32.const 16))
))";

using testing::NullHost;

class AotMemoryPool : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bin = wat_to_wasm(kSecretGuest);
    ASSERT_TRUE(bin.ok()) << bin.error().to_string();
    auto m = GuestModule::load(*bin);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    module_ = std::make_unique<GuestModule>(std::move(m).value());
    testing::prepare(*module_, Tier::kAot);
    saved_ = LinearMemoryPool::node().bounds();
    // One free slot at most: the next instance surely takes the last one's.
    LinearMemoryPool::node().set_bounds({.max_slots = 1, .max_retained_bytes = 64 * kPage});
  }
  void TearDown() override { LinearMemoryPool::node().set_bounds(saved_); }

  std::unique_ptr<Instance> create(Limits limits = {}) {
    auto g = Instance::create(*module_, host_, limits, Tier::kAot);
    EXPECT_TRUE(g.ok()) << g.error().to_string();
    return g.ok() ? std::move(g).value() : nullptr;
  }
  static std::string run(Instance& g, char op) {
    auto r = g.call("dispatch", {AbiValue::of_items({AbiValue::text("r"), AbiValue::text("x"),
                                                     AbiValue::text(std::string(1, op))})});
    if (!r.ok()) return "error: " + r.error().to_string();
    return (*r)->items.at(0).bytes;
  }

  NullHost host_;
  std::unique_ptr<GuestModule> module_;
  MemoryPoolBounds saved_;
};

const std::string kZeros16(16, '\0');

TEST_F(AotMemoryPool, TheNextInstanceInASlotReadsZerosAndItsOwnDataSegments) {
  {
    auto a = create();
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(run(*a, 'w').substr(0, 8), "!1TERCES");  // the secret, little-endian
  }
  const auto before = LinearMemoryPool::node().stats();
  EXPECT_EQ(before.free_slots, 1u);
  auto b = create();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(LinearMemoryPool::node().stats().reused, before.reused + 1);
  // Page 1 (kept accessible in the pool) and page 2 (grown again) are zero; the segment is B's.
  EXPECT_EQ(run(*b, 'r'), kZeros16 + "seg!");
}

TEST_F(AotMemoryPool, AReusedSlotStillTrapsPastTheMemoryAndGrowsWithinTheLimit) {
  {
    auto a = create();
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(run(*a, 'g').substr(8, 4), std::string("\4\0\0\0", 4));  // grew to 4 pages
  }
  auto b = create();
  ASSERT_NE(b, nullptr);
  // Page 2 was accessible to A: for B it is past the memory again, so the access faults.
  const std::string past = run(*b, 'o');
  EXPECT_NE(past.find("out of bounds memory access"), std::string::npos) << past;
  b.reset();

  auto c = create(Limits{.memory_pages = 3});
  ASSERT_NE(c, nullptr);
  std::string grown = run(*c, 'g');
  ASSERT_EQ(grown.size(), 20u) << grown;
  EXPECT_EQ(grown.substr(0, 12), std::string(8, '\0') + std::string("\3\0\0\0", 4));
}

TEST_F(AotMemoryPool, InstancesComeAndGoOnSeveralThreadsWithoutSeeingEachOthersMemory) {
  LinearMemoryPool::node().set_bounds({.max_slots = 2, .max_retained_bytes = 64 * kPage});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, &failures] {
      for (int i = 0; i < 25; ++i) {
        auto g = Instance::create(*module_, host_, {}, Tier::kAot);
        if (!g.ok() || run(**g, 'r') != kZeros16 + "seg!" || run(**g, 'w').size() != 20) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(LinearMemoryPool::node().stats().free_slots, 2u);
}

}  // namespace
}  // namespace troupe::wasm
