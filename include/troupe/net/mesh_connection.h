// MeshConnection: one connection between this node and a peer, from the first byte to the
// close (docs/PROTOCOL.md): the preambles and verdicts in the clear, the Noise XX handshake
// with both preambles as the prologue, the check that the peer's Noise static key is the
// identity it announced, the allowlist, the HELLO frames, and then frames on lanes, encrypted,
// both ways, with credit-based flow control on every lane but system (docs/PROTOCOL.md,
// "Credit"): this side grants its peer credit back as it delivers each lane's frames, holds a
// lane whose frame the owner cannot deliver yet (FrameHold), and sends on a lane only while the
// peer has granted it room.
//
// Threading: the connection runs on a strand of the transport's io_context (two coroutines: a
// reader and a writer). send() and close() may be called from any thread: send() only queues
// the frame (OutgoingLanes under a short mutex) and wakes the writer, it never blocks on the
// socket. The owner's callbacks run on the strand and must not block either.
// Lifetime: shared_ptr; the coroutines hold a reference until they end. The Owner and Context
// must outlive every connection (the transport stops its io_context and joins its threads
// before it destroys them).
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's asio, whose awaitable.hpp uses std::exchange unincluded
#include <boost/asio.hpp>
// clang-format on

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "troupe/base/error.h"
#include "troupe/base/ids.h"
#include "troupe/net/frame.h"
#include "troupe/net/frame_hold.h"
#include "troupe/net/noise_key_pair.h"
#include "troupe/net/outgoing_lanes.h"
#include "troupe/net/peer_allowlist.h"
#include "troupe/net/preamble.h"

namespace troupe::net {

// Who the peer proved to be, and what it told us in its HELLO.
struct PeerInfo {
  NodeId id = 0;
  NodeKey identity{};
  std::string advertised_address;  // where it listens ("" if it does not)
  std::uint64_t incarnation = 0;
  std::string remote_endpoint;  // the socket's peer address, for logs
  bool initiated_here = false;  // we dialled it
};

// Why a connection ends before or after the handshake; refusals the peer announced arrive with
// the code the peer sent.
enum class RefuseReason : std::uint8_t {
  kNone = 0,
  kVersionMismatch = 1,
  kSchemaMismatch = 2,
  kFeatureMismatch = 3,
  kMalformed = 4,
  kNotAllowed = 5,
  kDuplicate = 6,  // a second connection between the same two nodes (not sent by troupe)
  kShuttingDown = 7,
  kTooManyPeers = 8,  // the receiver holds as many peers as it may
};

class MeshConnection : public std::enable_shared_from_this<MeshConnection> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  struct Settings {
    std::chrono::milliseconds handshake_timeout{5000};  // socket open to HELLO received
    // lanes.window is also what this side lets the peer send ahead on each lane: both sides
    // must use the same (the protocol's kLaneWindowBytes; smaller only in tests).
    OutgoingLanes::Limits lanes;
    std::chrono::milliseconds max_hold{5000};  // the longest a frame is held (FrameHold)
  };

  // Fixed for the transport's life.
  struct Context {
    const NoiseKeyPair* static_key = nullptr;  // X25519, derived from the node's Ed25519 key
    Preamble ours;
    const PeerAllowlist* allowlist = nullptr;
    std::string advertised_address;
    std::uint64_t incarnation = 0;
    Settings settings;
  };

  class Owner {
   public:
    virtual ~Owner() = default;
    // The handshake is done and the peer is allowed; before the HELLO exchange. Anything
    // but kNone refuses it: the peer gets a REFUSE instead of a HELLO, and never counts this
    // as a connection.
    virtual RefuseReason admit(const MeshConnection& connection) = 0;
    // The handshake is done, the peer is allowed, its HELLO arrived. Return kNone to take
    // it; anything else refuses it: the peer is sent a REFUSE with that reason, then the
    // connection closes (on_closed follows, with established() true).
    virtual RefuseReason on_established(const std::shared_ptr<MeshConnection>& connection) = 0;
    // A frame of the peer, in its lane's order. kHeld keeps it (see FrameHold): the owner
    // must then call hold.resumer() once it may be taken; the frame is left as it was.
    virtual FrameVerdict on_frame(const std::shared_ptr<MeshConnection>& connection, Frame& frame,
                                  const FrameHold& hold) = 0;
    // Once per connection, whether or not it was established.
    virtual void on_closed(const std::shared_ptr<MeshConnection>& connection, const Error& why) = 0;
  };

  MeshConnection(Socket socket, bool initiator, const Context& context, Owner& owner,
                 std::string remote_endpoint);
  ~MeshConnection();

  void start();
  // Queues a frame. Errors: net closed (not established yet, or closed), overloaded,
  // frame-too-large.
  Result<void> send(Lane lane, FrameType type, BytesView body);
  // Calls `fn` once, when `lane`'s queue has drained to half its cap and has room for a frame
  // of `body_bytes` (at once if it has, or if the connection is closed), or when the connection
  // closes: a sender that met overloaded tries again then. `fn` runs on any thread (the
  // writer's, usually) and must be short. False, and `fn` dropped uncalled, when such a frame
  // is larger than the lane's cap (it could never be queued).
  bool notify_when_room(Lane lane, std::size_t body_bytes, std::function<void()> fn);
  // Closes at once (queued frames are dropped); the owner hears on_closed once.
  void close(const Error& why);
  // Sends a REFUSE frame with the reason, then closes. Only once established.
  void refuse(RefuseReason reason, const std::string& detail);

  bool established() const { return established_.load(std::memory_order_acquire); }
  // Nothing queued and the writer waiting for more (everything queued has been written).
  bool idle();
  // Valid once established (and immutable from then on).
  const PeerInfo& peer() const { return peer_; }
  bool initiator() const { return initiator_; }

  struct LaneStats {
    std::size_t queued_bytes = 0;  // waiting to be sent
    std::size_t credit = 0;        // the peer's room for more (lanes but system)
    std::size_t held_frames = 0;   // received, decoded, waiting (the held frame and those behind)
    std::size_t held_bytes = 0;    // received behind them, waiting undecoded
  };
  LaneStats lane_stats(Lane lane);
  // Frames offered for the last time (max_hold after they arrived), taken whatever the owner
  // answered.
  std::uint64_t hold_expiries() const { return hold_expiries_.load(std::memory_order_relaxed); }
  // Held frames (and undecoded held bytes, as one) the close dropped: never delivered.
  std::uint64_t dropped_on_close() const {
    return dropped_on_close_.load(std::memory_order_relaxed);
  }
  const std::string& remote_endpoint() const { return peer_.remote_endpoint; }

 private:
  friend class FrameHold;
  class Session;
  class Reader;
  using Clock = std::chrono::steady_clock;
  struct HeldFrame {
    Frame frame;
    Clock::time_point arrived;  // its deadline: arrived + max_hold
  };
  // Stream bytes that arrived while the lane held a frame, decoded only as it moves again: what
  // waits costs at most the window in memory, however small its frames.
  struct RawBytes {
    Bytes bytes;
    Clock::time_point arrived;
  };
  // A lane's incoming side: credit owed to the peer and frames held (strand only).
  struct InLane {
    std::size_t unacked = 0;     // bytes received and not granted back yet
    std::deque<HeldFrame> held;  // the held frame first, then decoded ones behind it
    std::deque<RawBytes> raw;    // then these, not yet decoded
    std::size_t raw_offset = 0;  // of raw.front().bytes already decoded
    bool holding = false;
    std::uint64_t offer = 0;  // counts offers, so a stale resumer is ignored
    std::uint64_t hold = 0;   // counts timer arms, so a stale max_hold timer is ignored
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  // Counts a chunk's bytes against its lane's credit. Errors: net malformed (beyond it).
  Result<void> account_chunk(BytesView chunk);
  // Delivers, queues behind a hold, or applies (CREDIT) one received frame.
  Result<void> receive(Frame frame, Clock::time_point arrived);
  // Offers a frame to the owner; false when it held it (never on its last offer: once
  // max_hold has passed since it arrived).
  bool offer(std::size_t lane, Frame& frame, Clock::time_point arrived);
  // Arms the lane's timer for the held front frame's deadline.
  void arm_hold_timer(std::size_t lane);
  // On the strand: offers the held frames again, in order (decoding what waits undecoded),
  // until one is held or none is left.
  void resume(std::size_t lane, std::uint64_t offer);
  void drain_held(std::size_t lane);
  // Sends the credit owed on `lane` once it is a quarter of the window (never while holding).
  void grant_if_due(std::size_t lane);
  struct RoomWaiter {
    std::size_t frame_bytes = 0;
    std::function<void()> fn;
  };
  // Whether `lane` has room for a waiter of `frame_bytes` (under mutex_).
  bool has_room_locked(Lane lane, std::size_t frame_bytes) const;
  static void run_room_waiters(std::vector<std::function<void()>>& waiters);
  static boost::asio::awaitable<void> run(std::shared_ptr<MeshConnection> self);
  boost::asio::awaitable<Result<void>> handshake(Reader& reader);
  boost::asio::awaitable<Result<void>> read_frames(Reader& reader);
  // Sends one frame at once, before the writer runs (the handshake's HELLO or REFUSE).
  boost::asio::awaitable<Result<void>> send_direct(FrameType type, BytesView body);
  static boost::asio::awaitable<void> write_loop(std::shared_ptr<MeshConnection> self);
  void wake_writer_locked();
  void finish(const Error& why);

  Socket socket_;
  const bool initiator_;
  const Context& context_;
  Owner& owner_;
  PeerInfo peer_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer wake_;
  std::unique_ptr<Session> session_;   // the Noise transport, once split
  std::vector<Frame> early_frames_;    // sent behind the peer's HELLO, delivered once established
  std::array<InLane, kLaneCount> in_;  // strand only
  std::array<std::atomic<std::size_t>, kLaneCount> held_counts_{};
  std::array<std::atomic<std::size_t>, kLaneCount> held_bytes_{};
  std::atomic<std::uint64_t> hold_expiries_{0};
  std::atomic<std::uint64_t> dropped_on_close_{0};

  std::mutex mutex_;  // guards out_, room_waiters_, writer_waiting_, closing_ (any thread)
  OutgoingLanes out_;
  std::array<std::vector<RoomWaiter>, kLaneCount> room_waiters_;
  bool writer_waiting_ = false;
  bool close_after_flush_ = false;
  bool closing_ = false;

  std::atomic<bool> established_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace troupe::net
