// Frame: one typed message between two nodes, after the Noise handshake (docs/PROTOCOL.md,
// "Frames"). A frame travels on a lane; each lane is a byte stream of frames
// (type:u8, length:u32be, body), cut into chunks that fit one Noise transport message, so a
// frame may be up to kMaxFrameBytes although a Noise message holds at most 65,535 bytes, and a
// system frame never waits behind more than one chunk of user traffic.
// Plain values; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "troupe/base/bytes.h"

namespace troupe::net {

inline constexpr std::size_t kMaxFrameBytes = std::size_t{16} << 20;  // a frame's body
inline constexpr std::size_t kFrameHeaderBytes = 5;                   // type:u8, length:u32be
inline constexpr std::size_t kMaxNoiseMessageBytes = 65535;
inline constexpr std::size_t kNoiseTagBytes = 16;
// A chunk is the plaintext of one transport message: lane:u8 and the lane's next bytes.
inline constexpr std::size_t kMaxChunkBytes = kMaxNoiseMessageBytes - kNoiseTagBytes;

// Lanes, in priority order (lower first): actr's lanes plus troupe's system lane.
enum class Lane : std::uint8_t {
  kSystem = 0,              // exits, DOWN, membership, refusals: always served first
  kRpcSignal = 1,           // priority requests and replies
  kRpcReliable = 2,         // ordinary requests, replies and tells
  kStreamReliable = 3,      // stream data that must all arrive
  kStreamLatencyFirst = 4,  // stream data that is dropped (and counted) when the lane is behind
};
inline constexpr std::size_t kLaneCount = 5;
// Flow control (docs/PROTOCOL.md, "Credit"): every lane but system starts with this many bytes
// of credit each way, and a receiver never lets the bytes it has not granted back exceed it.
inline constexpr std::size_t kLaneWindowBytes = std::size_t{4} << 20;
inline bool lane_has_credit(Lane lane) { return lane != Lane::kSystem; }
std::optional<Lane> lane_from_byte(std::uint8_t byte);
std::string_view lane_name(Lane lane);

enum class FrameType : std::uint8_t {
  kHello = 1,       // the sender's advertised address and incarnation, first after the handshake
  kRefuse = 2,      // why the sender is about to close the connection
  kMembership = 3,  // one SWIM message (docs/PROTOCOL.md, "Membership")
  kEnvelope = 4,    // a tell or a request to an actor of the receiver
  kReply = 5,       // the reply to a request
  kRegistry = 6,    // the names the sender's actors are registered under
  kWatch = 7,       // tell the sender when this actor of the receiver dies (a proxy's monitor)
  kDown = 8,        // an actor the receiver watched died, and why
  kExit = 9,        // an exit signal to an actor of the receiver (a link across nodes)
  kSpawn = 10,      // a signed package for the receiver to verify and spawn (a request)
  kCredit = 11,     // more bytes the receiver may send on one lane (flow control)
  kStream = 12,     // a data-stream chunk for an actor of the receiver
};
std::optional<FrameType> frame_type_from_byte(std::uint8_t byte);
std::string_view frame_type_name(FrameType type);
// Where a frame type may travel and how large its body may be (docs/PROTOCOL.md, "Frames"):
// a receiver refuses a frame on another lane, or longer, as soon as its header is in.
bool frame_allowed_on(FrameType type, Lane lane);
std::size_t max_frame_body(FrameType type);

// What a connection's owner did with a frame it was handed.
enum class FrameVerdict : std::uint8_t {
  kTaken,  // delivered, dropped or answered: the connection forgets it
  kHeld,   // its target cannot take it yet: the connection keeps it and offers it again later
};

struct Frame {
  Lane lane = Lane::kSystem;
  FrameType type = FrameType::kHello;
  Bytes body;
};

}  // namespace troupe::net
