// Credit-based flow control between two real transports over TCP (docs/PROTOCOL.md, "Credit"):
// a held lane withholds credit so its sender stops at the window while the other lanes flow,
// a held frame is offered again on resume and once more at max_hold, a peer that sends past
// its credit is closed, and a sender that met a full lane hears when it has room.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe.h"
#include "test_mesh_node.h"
#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

using namespace testing_mesh;  // NOLINT(google-build-using-namespace)
using testing::eventually;

constexpr std::size_t kWindow = 256 << 10;

MeshTransport::Options small_window() {
  MeshTransport::Options options;
  options.connection.lanes.window = kWindow;
  return options;
}

// Holds every ENVELOPE whose body starts with "hold" until release() (then takes them all).
struct HoldSwitch {
  std::mutex mutex;
  bool holding = true;
  std::vector<std::function<void()>> resumers;
  std::atomic<int> last_offers{0};

  FrameVerdict decide(const Frame& f, const FrameHold& hold) {
    if (hold.last_offer()) ++last_offers;
    std::lock_guard lock(mutex);
    if (!holding || f.type != FrameType::kEnvelope || f.body.rfind("hold", 0) != 0) {
      return FrameVerdict::kTaken;
    }
    resumers.push_back(hold.resumer());
    return FrameVerdict::kHeld;
  }
  void hold_again() {
    std::lock_guard lock(mutex);
    holding = true;
  }
  void release() {
    std::vector<std::function<void()>> now;
    {
      std::lock_guard lock(mutex);
      holding = false;
      now.swap(resumers);
    }
    for (auto& fn : now) fn();
  }
};

void connect(TestNode& a, TestNode& b) {
  b.transport->connect(a.address());
  ASSERT_TRUE(a.ups.wait_for(node_key_text(b.keys.identity)));
  ASSERT_TRUE(b.ups.wait_for(node_key_text(a.keys.identity)));
}

// a and b, connected, each allowing the other; b holds what `hold` says.
void start_held_pair(TestNode& a, TestNode& b, HoldSwitch& hold,
                     const MeshTransport::Options& options) {
  allow_each_other(a, b);
  b.hold_policy = [&hold](Frame& f, const FrameHold& h) { return hold.decide(f, h); };
  ASSERT_TRUE(a.start({"127.0.0.1:0"}, options).ok());
  ASSERT_TRUE(b.start({"127.0.0.1:0"}, options).ok());
  connect(a, b);
}

TEST(MeshFlowControl, AHeldLaneWithholdsCreditSoItsSenderStopsAtTheWindowWhileOtherLanesFlow) {
  TestNode a, b;
  HoldSwitch hold;
  ASSERT_NO_FATAL_FAILURE(start_held_pair(a, b, hold, small_window()));

  // 64 frames of 16 KiB on rpc-reliable, the first held: 1 MiB, four windows' worth.
  constexpr int kFrames = 64;
  for (int i = 0; i < kFrames; ++i) {
    Bytes body = "hold" + std::to_string(i) + ":";
    body.resize(16 << 10, 'x');
    ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, body).ok());
  }
  // The sender stops at the window: no credit left, the rest queued; nothing was delivered.
  ASSERT_TRUE(eventually([&] {
    auto stats = a.transport->lane_stats(b.id(), Lane::kRpcReliable);
    return stats && stats->credit == 0;
  }));
  auto stats = a.transport->lane_stats(b.id(), Lane::kRpcReliable);
  EXPECT_GE(stats->queued_bytes, std::size_t{kFrames} * (16 << 10) - kWindow);
  EXPECT_EQ(b.frames.size(), 0u);
  // The receiver holds the held frame, the few decoded with it, and the rest of the window
  // undecoded: a window's worth in all.
  ASSERT_TRUE(eventually([&] {
    auto in = b.transport->lane_stats(a.id(), Lane::kRpcReliable);
    return in && in->held_frames * ((16 << 10) + kFrameHeaderBytes) + in->held_bytes >=
                     kWindow - ((16 << 10) + kFrameHeaderBytes);
  }));
  auto in = b.transport->lane_stats(a.id(), Lane::kRpcReliable);
  EXPECT_LE(in->held_frames, 1 + kMaxChunkBytes / (16 << 10));
  EXPECT_LE(in->held_bytes, kWindow);

  // The other lanes flow meanwhile: a reply on rpc-signal, a system frame.
  ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcSignal, FrameType::kReply, "reply").ok());
  ASSERT_TRUE(a.transport->send(b.id(), Lane::kSystem, FrameType::kMembership, "ping").ok());
  EXPECT_TRUE(b.frames.wait_for("reply"));
  EXPECT_TRUE(b.frames.wait_for("ping"));

  // Room: the frames arrive, all of them, in order, and the credit comes back.
  hold.release();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(b.mutex);
    return b.received.size() == kFrames + 2;
  }));
  {
    std::lock_guard lock(b.mutex);
    int next = 0;
    for (const Frame& f : b.received) {
      if (f.type != FrameType::kEnvelope) continue;
      EXPECT_EQ(f.body.substr(0, f.body.find(':')), "hold" + std::to_string(next++));
    }
    EXPECT_EQ(next, kFrames);
  }
  ASSERT_TRUE(eventually([&] {
    auto s = a.transport->lane_stats(b.id(), Lane::kRpcReliable);
    return s && s->queued_bytes == 0 && s->credit > kWindow / 2;
  }));
  EXPECT_EQ(hold.last_offers.load(), 0);
}

// max_hold counts from each frame's arrival: a frame that waited behind a held one has used
// its time too, so one stuck target delays its lane by max_hold, not max_hold per frame.
TEST(MeshFlowControl, AFrameHeldPastMaxHoldIsOfferedOnceMoreAsItsLastOfferAndTaken) {
  TestNode a, b;
  allow_each_other(a, b);
  std::atomic<int> offers{0};
  std::atomic<bool> saw_last{false};
  std::atomic<std::int64_t> held_for_ms{0};
  b.hold_policy = [&](Frame&, const FrameHold& h) {
    ++offers;
    if (!h.last_offer()) return FrameVerdict::kHeld;  // never has room before its last offer
    held_for_ms = std::chrono::duration_cast<std::chrono::milliseconds>(h.held_for()).count();
    saw_last = true;
    return FrameVerdict::kTaken;
  };
  auto options = small_window();
  options.connection.max_hold = std::chrono::milliseconds(300);
  ASSERT_TRUE(a.start({"127.0.0.1:0"}, options).ok());
  ASSERT_TRUE(b.start({"127.0.0.1:0"}, options).ok());
  connect(a, b);
  const auto sent_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, "one").ok());
  ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, "two").ok());
  // "one" is held 300 ms, then taken on its last offer; "two", which arrived with it, has
  // waited as long: its first offer is its last.
  ASSERT_TRUE(b.frames.wait_for("one", std::chrono::seconds(5)));
  EXPECT_TRUE(saw_last.load());
  EXPECT_GE(held_for_ms.load(), 300);
  EXPECT_GE(std::chrono::steady_clock::now() - sent_at, std::chrono::milliseconds(300));
  ASSERT_TRUE(b.frames.wait_for("two", std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - sent_at, std::chrono::milliseconds(600));
  EXPECT_EQ(offers.load(), 3);  // "one": a first offer and its last; "two": its last
}

TEST(MeshFlowControl, AStaleOrRepeatedResumeDoesNothing) {
  TestNode a, b;
  allow_each_other(a, b);
  std::mutex mutex;
  std::vector<std::function<void()>> resumers;
  std::atomic<int> offers{0};
  b.hold_policy = [&](Frame&, const FrameHold& h) {
    std::lock_guard lock(mutex);
    if (++offers <= 2) {
      resumers.push_back(h.resumer());
      return FrameVerdict::kHeld;
    }
    return FrameVerdict::kTaken;
  };
  ASSERT_TRUE(a.start({"127.0.0.1:0"}, small_window()).ok());
  ASSERT_TRUE(b.start({"127.0.0.1:0"}, small_window()).ok());
  connect(a, b);
  ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, "x").ok());
  ASSERT_TRUE(eventually([&] { return offers.load() == 1; }));
  std::function<void()> first;
  {
    std::lock_guard lock(mutex);
    first = resumers[0];
  }
  first();  // offered again: held again (offer 2)
  ASSERT_TRUE(eventually([&] { return offers.load() == 2; }));
  first();  // stale: the frame was offered since
  first();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // nothing may happen
  EXPECT_EQ(offers.load(), 2);
  EXPECT_EQ(b.frames.size(), 0u);
  std::function<void()> second;
  {
    std::lock_guard lock(mutex);
    second = resumers[1];
  }
  second();
  EXPECT_TRUE(b.frames.wait_for("x"));
  EXPECT_EQ(offers.load(), 3);
}

// The window bounds wire bytes; held, they stay undecoded, so a window of empty frames behind
// a held one costs the window, not a Frame object each.
TEST(MeshFlowControl, AWindowOfEmptyFramesBehindAHeldOneStaysUndecoded) {
  TestNode a, b;
  HoldSwitch hold;
  ASSERT_NO_FATAL_FAILURE(start_held_pair(a, b, hold, small_window()));
  ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, "hold").ok());
  ASSERT_TRUE(eventually([&] {
    auto in = b.transport->lane_stats(a.id(), Lane::kRpcReliable);
    return in && in->held_frames == 1;
  }));
  const std::size_t empties = kWindow / kFrameHeaderBytes + 100;
  for (std::size_t i = 0; i < empties; ++i) {
    ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, "").ok());
  }
  ASSERT_TRUE(eventually([&] {
    auto out = a.transport->lane_stats(b.id(), Lane::kRpcReliable);
    return out && out->credit == 0;
  }));
  // Once all of it is in: one frame decoded, the rest (the window less "hold") as bytes.
  ASSERT_TRUE(eventually([&] {
    auto in = b.transport->lane_stats(a.id(), Lane::kRpcReliable);
    return in && in->held_bytes == kWindow - kFrameHeaderBytes - 4;
  })) << b.transport->lane_stats(a.id(), Lane::kRpcReliable)->held_bytes;
  EXPECT_EQ(b.transport->lane_stats(a.id(), Lane::kRpcReliable)->held_frames, 1u);
  // Released: every one of them arrives.
  hold.release();
  ASSERT_TRUE(b.frames.wait_count(empties + 1, std::chrono::seconds(30)));
}

TEST(MeshFlowControl, APeerThatSendsPastItsCreditIsClosedAsMalformed) {
  TestNode a, b;
  allow_each_other(a, b);
  HoldSwitch hold;
  b.hold_policy = [&](Frame& f, const FrameHold& h) { return hold.decide(f, h); };
  // a believes in a window four times the one b grants.
  auto generous = small_window();
  generous.connection.lanes.window = 4 * kWindow;
  ASSERT_TRUE(a.start({"127.0.0.1:0"}, generous).ok());
  ASSERT_TRUE(b.start({"127.0.0.1:0"}, small_window()).ok());
  connect(a, b);
  for (int i = 0; i < 32; ++i) {
    Bytes body = "hold" + std::to_string(i);
    body.resize(16 << 10, 'x');
    ASSERT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, body).ok());
  }
  EXPECT_TRUE(b.downs.wait_for(node_key_text(a.keys.identity) + " malformed"));
}

TEST(MeshFlowControl, ASenderThatMetAFullLaneHearsWhenItHasRoom) {
  TestNode a, b;
  HoldSwitch hold;
  auto options = small_window();
  options.connection.lanes.max_lane_bytes = 1 << 20;
  ASSERT_NO_FATAL_FAILURE(start_held_pair(a, b, hold, options));
  Bytes body = "hold";
  body.resize(32 << 10, 'x');
  int sent = 0;
  for (;; ++sent) {
    auto r = a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, body);
    if (!r.ok()) {
      ASSERT_EQ(r.error().code, NetErrc::kOverloaded);
      break;
    }
    ASSERT_LT(sent, 1000);
  }
  // The window and the queue's cap, no more; the writer stops at the window, leaving more
  // than half the cap queued.
  EXPECT_LE(sent * body.size(), kWindow + (std::size_t{1} << 20));
  ASSERT_TRUE(eventually([&] {
    auto full = a.transport->lane_stats(b.id(), Lane::kRpcReliable);
    return full && full->credit == 0;
  }));
  EXPECT_GT(a.transport->lane_stats(b.id(), Lane::kRpcReliable)->queued_bytes,
            std::size_t{1} << 19);
  std::atomic<int> woken{0};
  ASSERT_TRUE(
      a.transport->notify_when_room(b.id(), Lane::kRpcReliable, body.size(), [&] { ++woken; }));
  // A frame larger than the lane's cap never has room: refused at once, never called.
  EXPECT_FALSE(
      a.transport->notify_when_room(b.id(), Lane::kRpcReliable, 1 << 20, [&] { woken += 100; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(woken.load(), 0);
  hold.release();
  ASSERT_TRUE(eventually([&] { return woken.load() == 1; }));
  EXPECT_TRUE(a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, body).ok());
  // A waiter is told when the connection closes, too.
  hold.hold_again();
  for (int i = 0; i < 1000; ++i) {
    if (!a.transport->send(b.id(), Lane::kRpcReliable, FrameType::kEnvelope, body).ok()) break;
  }
  std::atomic<int> told{0};
  ASSERT_TRUE(
      a.transport->notify_when_room(b.id(), Lane::kRpcReliable, body.size(), [&] { ++told; }));
  EXPECT_EQ(told.load(), 0);
  b.transport->stop();
  EXPECT_TRUE(eventually([&] { return told.load() == 1; }));
}

}  // namespace
}  // namespace troupe::net
