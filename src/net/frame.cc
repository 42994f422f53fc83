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
  }
  return "unknown";
}

}  // namespace troupe::net
