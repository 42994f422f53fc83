#include "troupe/net/incoming_lanes.h"

#include <algorithm>
#include <string>

#include "troupe/net/net_error.h"

namespace troupe::net {

Result<void> IncomingLanes::feed(BytesView chunk, std::vector<Frame>& out) {
  if (failed_) return *failed_;
  auto fail = [&](NetErrc code, std::string detail) -> Result<void> {
    failed_ = Error{code, std::move(detail)};
    return *failed_;
  };
  if (chunk.empty()) return fail(NetErrc::kMalformed, "an empty chunk");
  // PROTOCOL.md section 4: a chunk carries 1..65,518 bytes after its lane byte.
  if (chunk.size() == 1) return fail(NetErrc::kMalformed, "a chunk with nothing after its lane");
  const auto lane = lane_from_byte(static_cast<std::uint8_t>(chunk[0]));
  if (!lane) {
    return fail(NetErrc::kMalformed,
                "a chunk on unknown lane " + std::to_string(static_cast<std::uint8_t>(chunk[0])));
  }
  LaneState& s = lanes_[static_cast<std::size_t>(*lane)];
  BytesView rest = chunk.substr(1);
  while (!rest.empty()) {
    if (s.header_bytes < kFrameHeaderBytes) {
      const std::size_t take = std::min(kFrameHeaderBytes - s.header_bytes, rest.size());
      std::copy_n(rest.data(), take,
                  s.header.begin() + static_cast<std::ptrdiff_t>(s.header_bytes));
      s.header_bytes += take;
      rest.remove_prefix(take);
      // The type is judged as soon as it arrives, not when the length has too.
      s.type = frame_type_from_byte(s.header[0]);
      if (!s.type || !frame_allowed_on(*s.type, *lane)) {
        return fail(NetErrc::kMalformed,
                    "a frame of " +
                        (s.type ? "type " + std::string(frame_type_name(*s.type))
                                : "unknown type " + std::to_string(s.header[0])) +
                        " on lane " + std::string(lane_name(*lane)));
      }
      if (s.header_bytes < kFrameHeaderBytes) break;
      s.length = (std::size_t{s.header[1]} << 24) | (std::size_t{s.header[2]} << 16) |
                 (std::size_t{s.header[3]} << 8) | std::size_t{s.header[4]};
      if (s.length > max_frame_body(*s.type)) {
        return fail(NetErrc::kFrameTooLarge, "a " + std::string(frame_type_name(*s.type)) +
                                                 " frame of " + std::to_string(s.length) +
                                                 " bytes (at most " +
                                                 std::to_string(max_frame_body(*s.type)) + ")");
      }
      // Room for the whole body at once (a body that grew by doubling was copied again and
      // held up to twice its size), up to a cap: a declared length is only a claim.
      s.body.reserve(std::min(s.length, kMaxReservedBody));
    }
    const std::size_t take = std::min(s.length - s.body.size(), rest.size());
    s.body.append(rest.substr(0, take));
    rest.remove_prefix(take);
    if (s.body.size() == s.length) {
      out.push_back(Frame{*lane, *s.type, std::move(s.body)});
      s = LaneState{};
    }
  }
  return {};
}

std::size_t IncomingLanes::partial_bytes() const {
  std::size_t total = 0;
  for (const LaneState& s : lanes_) total += s.header_bytes + s.body.size();
  return total;
}

}  // namespace troupe::net
