// OutgoingLanes: the frames one connection has yet to send, a queue per lane, and the order in
// which their bytes go out. next_chunk() takes the next chunk (docs/PROTOCOL.md, "Chunks and
// lanes") from the system lane whenever it has bytes, else from rpc-signal, else round-robin
// from the other three, so a system frame waits behind at most one chunk of user traffic however
// large the user frames are. A chunk carries the next bytes of one lane's stream: several small
// frames of that lane, or a piece of a large one.
//
// Flow control (docs/PROTOCOL.md, "Credit"): every lane but system sends only while it has
// credit — bytes of its stream the peer has room for, Limits::window at the start, more as the
// peer grants it (grant()). A lane without credit waits; the others go on.
//
// Bounded: each lane holds at most Limits::max_lane_bytes of queued frames, each frame charged
// kFrameChargeBytes besides its bytes (what holding it costs: a small frame takes several
// times its size in memory). Past it push() refuses the frame (overloaded) — the sender's
// backpressure — except on stream-latency-first, where the frame is dropped and counted, as
// that lane prefers fresh data to complete data.
// Not thread-safe: one connection's strand owns it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/net/frame.h"

namespace troupe::net {

// What one queued frame costs besides its bytes (its string and its allocation), charged
// against the lane's cap.
inline constexpr std::size_t kFrameChargeBytes = 64;

class OutgoingLanes {
 public:
  struct Limits {
    std::size_t max_lane_bytes = std::size_t{32} << 20;          // per reliable lane
    std::size_t max_latency_first_bytes = std::size_t{1} << 20;  // stream-latency-first
    std::size_t window = kLaneWindowBytes;  // each lane's credit at the start, and its most
  };

  OutgoingLanes() : OutgoingLanes(Limits{}) {}
  explicit OutgoingLanes(Limits limits);

  // Errors: net frame-too-large (body over kMaxFrameBytes), overloaded (the lane is full; on
  // stream-latency-first the frame is dropped and counted in dropped()).
  // `over_cap`: queued past the lane's cap (for the connection's own few control frames).
  Result<void> push(Lane lane, FrameType type, BytesView body, bool over_cap = false);

  // The next chunk's plaintext (lane byte, then at most max_bytes - 1 bytes of that lane's
  // stream); nullopt when nothing is queued. max_bytes must be at least 2.
  std::optional<Bytes> next_chunk(std::size_t max_bytes = kMaxChunkBytes);
  // The same into `chunk` (its contents replaced, its capacity reused); false, and `chunk`
  // unchanged, when nothing is queued.
  bool next_chunk_into(Bytes& chunk, std::size_t max_bytes = kMaxChunkBytes);

  // The peer's CREDIT: `bytes` more of `lane`'s stream may go out. Errors: net malformed (the
  // system lane, which has no credit; zero bytes; credit beyond the window).
  Result<void> grant(Lane lane, std::size_t bytes);
  std::size_t credit(Lane lane) const { return lanes_[index(lane)].credit; }
  // A lane's cap on queued bytes (push() refuses beyond it).
  std::size_t cap(Lane lane) const;

  bool empty() const { return total_bytes_ == 0; }
  std::size_t queued_bytes(Lane lane) const { return lanes_[index(lane)].bytes; }
  // What the lane's queue counts against its cap: its bytes and kFrameChargeBytes a frame.
  std::size_t charged_bytes(Lane lane) const { return lanes_[index(lane)].charged; }
  std::size_t queued_bytes() const { return total_bytes_; }
  std::uint64_t dropped(Lane lane) const { return lanes_[index(lane)].dropped; }

 private:
  struct LaneQueue {
    std::deque<Bytes> frames;  // encoded: header and body
    std::size_t offset = 0;    // bytes of frames.front() already sent
    std::size_t bytes = 0;     // queued bytes not yet sent
    std::size_t charged = 0;   // against the cap: the frames' sizes and their charges
    std::size_t credit = 0;    // bytes the peer has room for (unused on the system lane)
    std::uint64_t dropped = 0;
  };
  static std::size_t index(Lane lane) { return static_cast<std::size_t>(lane); }
  std::optional<std::size_t> pick_lane();

  Limits limits_;
  std::array<LaneQueue, kLaneCount> lanes_;
  std::size_t total_bytes_ = 0;
  std::size_t next_bulk_ = index(Lane::kRpcReliable);  // round-robin among lanes 2..4
};

}  // namespace troupe::net
