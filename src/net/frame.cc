#include "troupe/net/frame.h"

namespace troupe::net {

std::optional<Lane> lane_from_byte(std::uint8_t byte) {
  if (byte >= kLaneCount) return std::nullopt;
  return static_cast<Lane>(byte);
}

std::string_view lane_name(Lane lane) {
  switch (lane) {
    case Lane::kSystem:
      return "system";
    case Lane::kRpcSignal:
      return "rpc-signal";
    case Lane::kRpcReliable:
      return "rpc-reliable";
    case Lane::kStreamReliable:
      return "stream-reliable";
    case Lane::kStreamLatencyFirst:
      return "stream-latency-first";
  }
  return "unknown";
}

std::optional<FrameType> frame_type_from_byte(std::uint8_t byte) {
  switch (byte) {
    case static_cast<std::uint8_t>(FrameType::kHello):
    case static_cast<std::uint8_t>(FrameType::kRefuse):
    case static_cast<std::uint8_t>(FrameType::kMembership):
    case static_cast<std::uint8_t>(FrameType::kEnvelope):
    case static_cast<std::uint8_t>(FrameType::kReply):
    case static_cast<std::uint8_t>(FrameType::kRegistry):
    case static_cast<std::uint8_t>(FrameType::kWatch):
    case static_cast<std::uint8_t>(FrameType::kDown):
    case static_cast<std::uint8_t>(FrameType::kExit):
    case static_cast<std::uint8_t>(FrameType::kSpawn):
    case static_cast<std::uint8_t>(FrameType::kCredit):
    case static_cast<std::uint8_t>(FrameType::kStream):
      return static_cast<FrameType>(byte);
    default:
      return std::nullopt;
  }
}

std::string_view frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return "hello";
    case FrameType::kRefuse:
      return "refuse";
    case FrameType::kMembership:
      return "membership";
    case FrameType::kEnvelope:
      return "envelope";
    case FrameType::kReply:
      return "reply";
    case FrameType::kRegistry:
      return "registry";
    case FrameType::kWatch:
      return "watch";
    case FrameType::kDown:
      return "down";
    case FrameType::kExit:
      return "exit";
    case FrameType::kSpawn:
      return "spawn";
    case FrameType::kCredit:
      return "credit";
    case FrameType::kStream:
      return "stream";
  }
  return "unknown";
}

bool frame_allowed_on(FrameType type, Lane lane) {
  switch (type) {
    case FrameType::kHello:
    case FrameType::kRefuse:
    case FrameType::kMembership:
    case FrameType::kRegistry:
    case FrameType::kWatch:
    case FrameType::kDown:
    case FrameType::kExit:
    case FrameType::kCredit:
      return lane == Lane::kSystem;
    case FrameType::kEnvelope:
    case FrameType::kReply:
      return lane == Lane::kRpcSignal || lane == Lane::kRpcReliable;
    case FrameType::kSpawn:
      return lane == Lane::kRpcReliable;
    case FrameType::kStream:
      return lane == Lane::kStreamReliable || lane == Lane::kStreamLatencyFirst;
  }
  return false;
}

std::size_t max_frame_body(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return 2 + 255 + 8;
    case FrameType::kRefuse:
      return 3 + 1024;
    case FrameType::kMembership:
      return std::size_t{1} << 20;  // a push-pull of 1024 members is about 320 KB
    case FrameType::kRegistry:
      return std::size_t{4} << 20;  // 4096 names of at most 255 bytes and their types
    case FrameType::kWatch:
      return 8;
    case FrameType::kCredit:
      return 1 + 4;
    case FrameType::kDown:
    case FrameType::kExit:
      return 8 + 1 + 2 + 1024;
    case FrameType::kEnvelope:
    case FrameType::kReply:
    case FrameType::kSpawn:
    case FrameType::kStream:
      return kMaxFrameBytes;
  }
  return 0;
}

}  // namespace troupe::net
