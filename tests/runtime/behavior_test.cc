// Behavior: stateless handler sets share one holder (an idle actor pays no heap block for its
// handler); handlers with state are owned, one copy each. Its own binary: it replaces the
// global operator new to count allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "troupe/runtime/actor.h"

namespace {
thread_local bool counting = false;
thread_local int allocations = 0;
}  // namespace

// The replacement pair allocates with malloc and frees with free; GCC's mismatch check sees a
// pointer from `new` reach free() through it and warns (ASan build), though the pair matches.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (counting) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace troupe {
namespace {

struct Ping {
  int n = 0;
};

int allocations_during(auto&& fn) {
  allocations = 0;
  counting = true;
  fn();
  counting = false;
  return allocations;
}

// One lambda expression: one handler type, as each spawn of an idle actor.
Behavior idle_behavior() {
  return Behavior([](Ping&) {});
}

TEST(Behavior, StatelessHandlersAllocateNothing) {
  Behavior warm = idle_behavior();  // the first of a handler set makes its shared holder
  EXPECT_EQ(allocations_during([] {
              for (int i = 0; i < 1000; ++i) {
                Behavior b = idle_behavior();
                ASSERT_TRUE(b);
              }
            }),
            0);
}

TEST(Behavior, HandlersWithStateAreOwnedOneCopyEach) {
  int a = 0, b = 0;
  auto make = [](int& counter) { return Behavior([&counter](Ping& p) { counter += p.n; }); };
  EXPECT_EQ(allocations_during([&] { Behavior x = make(a); }), 1);
  Behavior first = make(a);
  Behavior second = make(b);
  TypedMessage<Ping> m(Ping{2});
  EXPECT_TRUE(first(m));
  EXPECT_TRUE(second(m));
  EXPECT_TRUE(second(m));
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 4);
}

TEST(Behavior, MovesKeepTheHandlerAndEmptyTheSource) {
  int seen = 0;
  Behavior stateful([&seen](Ping&) { ++seen; });
  Behavior stateless([](Ping& p) { p.n = 7; });
  Behavior moved = std::move(stateful);
  EXPECT_FALSE(stateful);  // NOLINT(bugprone-use-after-move): the point of the test
  TypedMessage<Ping> m(Ping{});
  EXPECT_FALSE(stateful(m));  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(moved(m));
  EXPECT_EQ(seen, 1);
  moved = std::move(stateless);  // releases the owned holder (ASan: no leak, no double free)
  EXPECT_TRUE(moved(m));
  EXPECT_EQ(m.value.n, 7);
  Behavior empty;
  EXPECT_FALSE(empty(m));
}

TEST(Behavior, AHandlerSetThatDoesNotMatchReportsUnhandled) {
  Behavior b([](int&) {});
  TypedMessage<Ping> m(Ping{});
  EXPECT_FALSE(b(m));
}

}  // namespace
}  // namespace troupe
