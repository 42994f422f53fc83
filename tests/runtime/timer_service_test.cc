#include "troupe/runtime/timer_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe {
namespace {

using namespace std::chrono_literals;

TEST(TimerService, FiresInDeadlineOrderWithManualClock) {
  auto clock = std::make_shared<ManualClock>();
  TimerService timers(clock);
  std::vector<std::string> fired;
  timers.after(30ms, [&] { fired.push_back("c"); });
  timers.after(10ms, [&] { fired.push_back("a"); });
  timers.after(20ms, [&] { fired.push_back("b1"); });
  timers.after(20ms, [&] { fired.push_back("b2"); });  // same deadline: scheduling order
  clock->advance(5ms);
  EXPECT_TRUE(fired.empty());
  clock->advance(15ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b1", "b2"}));
  clock->advance(100ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b1", "b2", "c"}));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(TimerService, PeriodicFiresEachPeriodUntilCancelled) {
  auto clock = std::make_shared<ManualClock>();
  TimerService timers(clock);
  int ticks = 0;
  TimerId id = timers.every(10ms, [&] { ++ticks; });
  clock->advance(35ms);
  EXPECT_EQ(ticks, 3);
  EXPECT_TRUE(timers.cancel(id));
  clock->advance(100ms);
  EXPECT_EQ(ticks, 3);
  EXPECT_FALSE(timers.cancel(id));
}

TEST(TimerService, CancelledTimerNeverFires) {
  auto clock = std::make_shared<ManualClock>();
  TimerService timers(clock);
  bool fired = false;
  TimerId id = timers.after(10ms, [&] { fired = true; });
  EXPECT_TRUE(timers.is_pending(id));
  EXPECT_TRUE(timers.cancel(id));
  clock->advance(1s);
  EXPECT_FALSE(fired);
}

TEST(TimerService, CallbackMaySchedule) {
  auto clock = std::make_shared<ManualClock>();
  TimerService timers(clock);
  std::vector<int> order;
  timers.after(10ms, [&] {
    order.push_back(1);
    timers.after(0ms, [&] { order.push_back(2); });
  });
  clock->advance(10ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(TimerService, RealClockThreadFires) {
  TimerService timers(std::make_shared<SteadyClock>());
  std::atomic<bool> fired{false};
  timers.after(1ms, [&] {
    fired = true;
    fired.notify_all();
  });
  fired.wait(false);
  EXPECT_TRUE(fired.load());
}

}  // namespace
}  // namespace troupe
