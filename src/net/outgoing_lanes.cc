#include "troupe/net/outgoing_lanes.h"

#include <algorithm>
#include <string>

#include "troupe/net/net_error.h"

namespace troupe::net {

OutgoingLanes::OutgoingLanes(Limits limits) : limits_(limits) {
  for (LaneQueue& q : lanes_) q.credit = limits_.window;
}

std::size_t OutgoingLanes::cap(Lane lane) const {
  return lane == Lane::kStreamLatencyFirst ? limits_.max_latency_first_bytes
                                           : limits_.max_lane_bytes;
}

Result<void> OutgoingLanes::grant(Lane lane, std::size_t bytes) {
  LaneQueue& q = lanes_[index(lane)];
  if (!lane_has_credit(lane) || bytes == 0 || bytes > limits_.window - q.credit) {
    return Error{NetErrc::kMalformed, "a CREDIT of " + std::to_string(bytes) + " bytes on lane " +
                                          std::string(lane_name(lane)) + " (holding " +
                                          std::to_string(q.credit) + " of a window of " +
                                          std::to_string(limits_.window) + ")"};
  }
  q.credit += bytes;
  return {};
}

Result<void> OutgoingLanes::push(Lane lane, FrameType type, BytesView body, bool over_cap) {
  if (body.size() > kMaxFrameBytes) {
    return Error{NetErrc::kFrameTooLarge, "a frame of " + std::to_string(body.size()) +
                                              " bytes (at most " + std::to_string(kMaxFrameBytes) +
                                              ")"};
  }
  LaneQueue& q = lanes_[index(lane)];
  const std::size_t size = kFrameHeaderBytes + body.size();
  if (!over_cap && q.charged + size + kFrameChargeBytes > cap(lane)) {
    if (lane == Lane::kStreamLatencyFirst) ++q.dropped;
    return Error{NetErrc::kOverloaded, std::string("lane ") + std::string(lane_name(lane)) +
                                           " is full (" + std::to_string(q.bytes) +
                                           " bytes queued)"};
  }
  Bytes frame;
  frame.reserve(size);
  frame.push_back(static_cast<char>(type));
  const auto length = static_cast<std::uint32_t>(body.size());
  for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(length >> shift));
  frame.append(body);
  q.frames.push_back(std::move(frame));
  q.bytes += size;
  q.charged += size + kFrameChargeBytes;
  total_bytes_ += size;
  return {};
}

std::optional<std::size_t> OutgoingLanes::pick_lane() {
  if (lanes_[index(Lane::kSystem)].bytes > 0) return index(Lane::kSystem);
  auto ready = [this](std::size_t lane) {
    return lanes_[lane].bytes > 0 && lanes_[lane].credit > 0;
  };
  if (ready(index(Lane::kRpcSignal))) return index(Lane::kRpcSignal);
  constexpr std::size_t first = 2;
  constexpr std::size_t bulk = kLaneCount - first;
  for (std::size_t i = 0; i < bulk; ++i) {
    const std::size_t lane = first + (next_bulk_ - first + i) % bulk;
    if (ready(lane)) {
      next_bulk_ = first + (lane - first + 1) % bulk;
      return lane;
    }
  }
  return std::nullopt;
}

std::optional<Bytes> OutgoingLanes::next_chunk(std::size_t max_bytes) {
  Bytes chunk;
  if (!next_chunk_into(chunk, max_bytes)) return std::nullopt;
  return chunk;
}

bool OutgoingLanes::next_chunk_into(Bytes& chunk, std::size_t max_bytes) {
  if (max_bytes < 2) return false;
  const auto lane = pick_lane();
  if (!lane) return false;
  LaneQueue& q = lanes_[*lane];
  std::size_t room = std::min(max_bytes - 1, q.bytes);
  if (*lane != index(Lane::kSystem)) {
    room = std::min(room, q.credit);
    q.credit -= room;
  }
  chunk.clear();
  chunk.reserve(1 + room);
  chunk.push_back(static_cast<char>(*lane));
  while (chunk.size() < 1 + room) {
    const Bytes& front = q.frames.front();
    const std::size_t take = std::min(front.size() - q.offset, 1 + room - chunk.size());
    chunk.append(front, q.offset, take);
    q.offset += take;
    if (q.offset == front.size()) {
      q.charged -= front.size() + kFrameChargeBytes;
      q.frames.pop_front();
      q.offset = 0;
    }
  }
  q.bytes -= room;
  total_bytes_ -= room;
  return true;
}

}  // namespace troupe::net
