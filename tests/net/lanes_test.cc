#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "troupe/base/error.h"
#include "troupe/net/incoming_lanes.h"
#include "troupe/net/net_error.h"
#include "troupe/net/outgoing_lanes.h"

namespace troupe::net {
namespace {

// Moves every queued chunk from `out` into `in`, checking each fits one Noise message, and
// grants each chunk's bytes back at once, as a receiver that delivers everything does.
std::vector<Frame> transfer(OutgoingLanes& out, IncomingLanes& in, std::size_t* chunks = nullptr) {
  std::vector<Frame> frames;
  while (auto chunk = out.next_chunk()) {
    EXPECT_LE(chunk->size(), kMaxChunkBytes);
    EXPECT_TRUE(in.feed(*chunk, frames).ok());
    const auto lane = static_cast<Lane>((*chunk)[0]);
    if (lane_has_credit(lane)) {
      EXPECT_TRUE(out.grant(lane, chunk->size() - 1).ok());
    }
    if (chunks) ++*chunks;
  }
  return frames;
}

TEST(Lanes, ALaneWithoutCreditWaitsWhileTheOthersGoOn) {
  OutgoingLanes out(OutgoingLanes::Limits{.window = 100000});
  IncomingLanes in;
  const Bytes big(250000, 'r');
  ASSERT_TRUE(out.push(Lane::kRpcReliable, FrameType::kEnvelope, big).ok());
  ASSERT_TRUE(out.push(Lane::kRpcSignal, FrameType::kReply, Bytes(150000, 's')).ok());
  std::vector<Frame> frames;
  std::size_t sent[kLaneCount] = {};
  while (auto chunk = out.next_chunk()) {
    ASSERT_TRUE(in.feed(*chunk, frames).ok());
    sent[static_cast<std::uint8_t>((*chunk)[0])] += chunk->size() - 1;
  }
  // Each lane stopped at its window, to the byte; nothing completed.
  EXPECT_EQ(sent[1], 100000u);
  EXPECT_EQ(sent[2], 100000u);
  EXPECT_EQ(out.credit(Lane::kRpcReliable), 0u);
  EXPECT_TRUE(frames.empty());
  // The system lane has no credit and never waits.
  ASSERT_TRUE(out.push(Lane::kSystem, FrameType::kWatch, "12345678").ok());
  auto chunk = out.next_chunk();
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ((*chunk)[0], 0);
  ASSERT_TRUE(in.feed(*chunk, frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, FrameType::kWatch);
  EXPECT_FALSE(out.next_chunk().has_value());
  // Credit for rpc-reliable only: its frame completes; rpc-signal still waits.
  ASSERT_TRUE(out.grant(Lane::kRpcReliable, 100000).ok());
  EXPECT_FALSE(out.grant(Lane::kRpcReliable, 0).ok());
  while (auto more = out.next_chunk()) {
    ASSERT_EQ((*more)[0], 2);
    ASSERT_TRUE(in.feed(*more, frames).ok());
    ASSERT_TRUE(out.grant(Lane::kRpcReliable, more->size() - 1).ok());
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].body, big);
  EXPECT_EQ(out.queued_bytes(Lane::kRpcSignal), 150000u + kFrameHeaderBytes - 100000u);
}

TEST(Lanes, ACreditBeyondTheWindowOrOnTheSystemLaneIsMalformed) {
  OutgoingLanes out(OutgoingLanes::Limits{.window = 5000});
  auto code = [](const Result<void>& r) {
    return r.ok() ? ErrorCode{BaseErrc::kInternal} : r.error().code;
  };
  EXPECT_EQ(code(out.grant(Lane::kRpcReliable, 1)), NetErrc::kMalformed);  // full already
  EXPECT_EQ(code(out.grant(Lane::kSystem, 10)), NetErrc::kMalformed);
  ASSERT_TRUE(out.push(Lane::kStreamReliable, FrameType::kEnvelope, Bytes(3000, 'x')).ok());
  ASSERT_TRUE(out.next_chunk().has_value());
  EXPECT_EQ(out.credit(Lane::kStreamReliable), 5000u - 3000u - kFrameHeaderBytes);
  EXPECT_EQ(code(out.grant(Lane::kStreamReliable, 0)), NetErrc::kMalformed);
  EXPECT_EQ(code(out.grant(Lane::kStreamReliable, 3006)), NetErrc::kMalformed);
  EXPECT_TRUE(out.grant(Lane::kStreamReliable, 3005).ok());
  EXPECT_EQ(out.credit(Lane::kStreamReliable), 5000u);
}

TEST(Lanes, NextChunkIntoReusesItsBufferAndGivesTheSameChunks) {
  OutgoingLanes by_value, into;
  Bytes big(3 * kMaxChunkBytes, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + (i >> 11));
  for (OutgoingLanes* out : {&by_value, &into}) {
    ASSERT_TRUE(out->push(Lane::kRpcReliable, FrameType::kEnvelope, big).ok());
    ASSERT_TRUE(out->push(Lane::kSystem, FrameType::kWatch, "12345678").ok());
  }
  Bytes chunk = "whatever it held before";
  std::size_t chunks = 0;
  while (auto expected = by_value.next_chunk()) {
    ASSERT_TRUE(into.next_chunk_into(chunk));
    EXPECT_EQ(chunk, *expected);
    ++chunks;
  }
  EXPECT_EQ(chunks, 5u);  // the system frame first, then the big one in four pieces
  // Nothing queued: false, and the buffer is left as it was.
  const Bytes last = chunk;
  EXPECT_FALSE(into.next_chunk_into(chunk));
  EXPECT_EQ(chunk, last);
  EXPECT_TRUE(into.empty());
}

TEST(Lanes, AFrameLargerThanOneNoiseMessageIsSplitAndReassembled) {
  OutgoingLanes out;
  IncomingLanes in;
  Bytes big(kMaxFrameBytes, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + (i >> 13));
  ASSERT_TRUE(out.push(Lane::kRpcReliable, FrameType::kEnvelope, big).ok());
  std::size_t chunks = 0;
  auto frames = transfer(out, in, &chunks);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, big);
  EXPECT_EQ(frames[0].lane, Lane::kRpcReliable);
  EXPECT_EQ(chunks,
            (kMaxFrameBytes + kFrameHeaderBytes + kMaxChunkBytes - 2) / (kMaxChunkBytes - 1));
  EXPECT_EQ(in.partial_bytes(), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(Lanes, SmallFramesShareAChunkAndAnEmptyBodyIsAFrame) {
  OutgoingLanes out;
  IncomingLanes in;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(out.push(Lane::kRpcReliable, FrameType::kEnvelope, std::to_string(i)).ok());
  }
  ASSERT_TRUE(out.push(Lane::kRpcReliable, FrameType::kReply, "").ok());
  std::size_t chunks = 0;
  auto frames = transfer(out, in, &chunks);
  EXPECT_EQ(chunks, 1u);
  ASSERT_EQ(frames.size(), 101u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(frames[i].body, std::to_string(i));
  EXPECT_EQ(frames[100].type, FrameType::kReply);
  EXPECT_TRUE(frames[100].body.empty());
}

TEST(Lanes, ASystemFrameWaitsBehindAtMostOneChunkOfUserTraffic) {
  OutgoingLanes out;
  IncomingLanes in;
  ASSERT_TRUE(out.push(Lane::kRpcReliable, FrameType::kEnvelope, Bytes(8 << 20, 'u')).ok());
  ASSERT_TRUE(out.push(Lane::kStreamReliable, FrameType::kMembership, Bytes(8 << 20, 's')).ok());
  std::vector<Frame> frames;
  ASSERT_TRUE(in.feed(*out.next_chunk(), frames).ok());  // one user chunk is already out
  ASSERT_TRUE(out.push(Lane::kSystem, FrameType::kRefuse, "down").ok());
  ASSERT_TRUE(in.feed(*out.next_chunk(), frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].lane, Lane::kSystem);
  EXPECT_EQ(frames[0].body, "down");
  // The two bulk lanes take turns, chunk by chunk.
  auto a = out.next_chunk();
  auto b = out.next_chunk();
  EXPECT_NE((*a)[0], (*b)[0]);
}

TEST(Lanes, AFullLaneRefusesAndTheLatencyFirstLaneDropsAndCounts) {
  OutgoingLanes out(OutgoingLanes::Limits{.max_lane_bytes = 1000, .max_latency_first_bytes = 200});
  EXPECT_TRUE(out.push(Lane::kRpcReliable, FrameType::kEnvelope, Bytes(900, 'x')).ok());
  auto refused = out.push(Lane::kRpcReliable, FrameType::kEnvelope, Bytes(200, 'x'));
  EXPECT_EQ(refused.error().code, NetErrc::kOverloaded);
  EXPECT_EQ(out.dropped(Lane::kRpcReliable), 0u);
  EXPECT_TRUE(out.push(Lane::kStreamLatencyFirst, FrameType::kMembership, Bytes(90, 'x')).ok());
  EXPECT_FALSE(out.push(Lane::kStreamLatencyFirst, FrameType::kMembership, Bytes(90, 'x')).ok());
  EXPECT_EQ(out.dropped(Lane::kStreamLatencyFirst), 1u);
  // Room comes back as the bytes go out.
  while (out.next_chunk()) {
  }
  EXPECT_TRUE(out.push(Lane::kRpcReliable, FrameType::kEnvelope, Bytes(900, 'x')).ok());
  auto too_big = out.push(Lane::kRpcReliable, FrameType::kEnvelope, Bytes(kMaxFrameBytes + 1, 'x'));
  EXPECT_EQ(too_big.error().code, NetErrc::kFrameTooLarge);
}

// Review finding: a peer that never reads made the node queue 22-byte DOWN frames up to the
// 32 MiB cap in bytes, about 4x that in memory (133 MB). Each frame is charged what holding it
// costs: a lane of 1,000 bytes holds 14 empty frames, not 200.
TEST(Lanes, EachQueuedFrameIsChargedWhatHoldingItCosts) {
  OutgoingLanes out(OutgoingLanes::Limits{.max_lane_bytes = 1000});
  int queued = 0;
  while (out.push(Lane::kSystem, FrameType::kDown, Bytes{}).ok()) ++queued;
  EXPECT_EQ(queued, static_cast<int>(1000 / (kFrameHeaderBytes + kFrameChargeBytes)));
  EXPECT_EQ(out.queued_bytes(Lane::kSystem), queued * kFrameHeaderBytes);
  EXPECT_EQ(out.charged_bytes(Lane::kSystem), queued * (kFrameHeaderBytes + kFrameChargeBytes));
  while (out.next_chunk()) {
  }
  EXPECT_EQ(out.charged_bytes(Lane::kSystem), 0u);
}

TEST(Lanes, AnOversizedDeclaredLengthIsRefusedBeforeAnyBodyIsHeld) {
  IncomingLanes in;
  std::vector<Frame> frames;
  // lane 2, type membership, length 16 MiB + 1
  Bytes chunk = {'\x02', '\x04', '\x01', '\x00', '\x00', '\x01'};
  auto refused = in.feed(chunk, frames);
  EXPECT_EQ(refused.error().code, NetErrc::kFrameTooLarge);
  EXPECT_EQ(in.partial_bytes(), 5u);
  // The stream is unusable after an error.
  EXPECT_FALSE(in.feed(Bytes{'\x00', '\x01', '\x00', '\x00', '\x00', '\x00'}, frames).ok());
}

TEST(Lanes, UnknownLanesTypesAndEmptyChunksAreMalformed) {
  std::vector<Frame> frames;
  EXPECT_EQ(IncomingLanes{}.feed("", frames).error().code, NetErrc::kMalformed);
  EXPECT_EQ(IncomingLanes{}.feed(Bytes{'\x05', '\x01'}, frames).error().code, NetErrc::kMalformed);
  EXPECT_EQ(IncomingLanes{}.feed(Bytes{'\x01'}, frames).error().code, NetErrc::kMalformed);
  EXPECT_EQ(IncomingLanes{}.feed(Bytes{'\x00', '\x63', '\x00'}, frames).error().code,
            NetErrc::kMalformed);
  EXPECT_TRUE(frames.empty());
}

// Whatever the peer sends, the receiver keeps at most one partial frame per lane and fails
// with a typed error rather than crashing.
TEST(Lanes, RandomChunksNeverCrashAndStayBounded) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 2000; ++round) {
    IncomingLanes in;
    std::vector<Frame> frames;
    for (int i = 0; i < 8; ++i) {
      Bytes chunk(rng() % 64, '\0');
      for (char& c : chunk) c = static_cast<char>(rng() % 6 == 0 ? rng() % 5 : rng());
      if (!in.feed(chunk, frames).ok()) break;
      EXPECT_LE(in.partial_bytes(), kLaneCount * (kMaxFrameBytes + kFrameHeaderBytes));
    }
  }
}

}  // namespace
}  // namespace troupe::net

namespace troupe::net {
namespace {

// Review finding: any type on any lane, and 16 MiB for every type, let a peer hold 80 MiB of
// partial frames per connection.
TEST(Lanes, ATypeOffItsLaneOrOverItsOwnCapIsRefusedAtItsHeader) {
  std::vector<Frame> frames;
  // membership (3) on rpc-reliable (2)
  EXPECT_EQ(IncomingLanes{}.feed(Bytes{'\x02', '\x03'}, frames).error().code, NetErrc::kMalformed);
  // envelope (4) on the system lane
  EXPECT_EQ(IncomingLanes{}.feed(Bytes{'\x00', '\x04'}, frames).error().code, NetErrc::kMalformed);
  // a HELLO (1) declaring 1 MiB
  EXPECT_EQ(IncomingLanes{}
                .feed(Bytes{'\x00', '\x01', '\x00', '\x10', '\x00', '\x00'}, frames)
                .error()
                .code,
            NetErrc::kFrameTooLarge);
  // a membership frame of 2 MiB
  EXPECT_EQ(IncomingLanes{}
                .feed(Bytes{'\x00', '\x03', '\x00', '\x20', '\x00', '\x00'}, frames)
                .error()
                .code,
            NetErrc::kFrameTooLarge);
  EXPECT_TRUE(frames.empty());
}

}  // namespace
}  // namespace troupe::net
