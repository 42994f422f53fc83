// IncomingLanes: reassembles the frames of one connection from the chunks it receives
// (docs/PROTOCOL.md, "Chunks and lanes"): each lane's chunks are the next bytes of that lane's
// stream of frames, so a frame may span many chunks and a chunk may hold many frames.
// Bounded: a frame's declared length is checked against kMaxFrameBytes before its body is
// read, and a body reserves at most kMaxReservedBody ahead of its bytes (beyond that it grows
// only with the bytes that arrived), so a connection holds at most one partial frame per lane. Any
// error (an unknown lane or frame type, an oversized frame) leaves the stream unusable — the
// connection must close — and every later feed() fails the same way. Not thread-safe: one
// connection's strand owns it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/net/frame.h"

namespace troupe::net {

class IncomingLanes {
 public:
  // Appends each frame the chunk completes to `out`, in stream order.
  // Errors: net malformed (empty chunk, unknown lane or frame type), frame-too-large.
  Result<void> feed(BytesView chunk, std::vector<Frame>& out);

  // Bytes held in partial frames (headers and bodies not yet complete).
  std::size_t partial_bytes() const;

 private:
  struct LaneState {
    std::array<std::uint8_t, kFrameHeaderBytes> header{};
    std::size_t header_bytes = 0;  // of header filled
    std::optional<FrameType> type;
    std::size_t length = 0;  // the body's declared length (valid once the header is complete)
    Bytes body;
  };

  // The most a frame's declared length reserves before its bytes arrive.
  static constexpr std::size_t kMaxReservedBody = std::size_t{1} << 20;

  std::array<LaneState, kLaneCount> lanes_;
  std::optional<Error> failed_;
};

}  // namespace troupe::net
