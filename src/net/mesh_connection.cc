#include "troupe/net/mesh_connection.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "troupe/net/incoming_lanes.h"
#include "troupe/net/mesh_address.h"
#include "troupe/net/net_error.h"
#include "troupe/net/noise_handshake.h"
#include "troupe/net/noise_static_key.h"
#include "troupe/net/noise_transport.h"

namespace troupe::net {

namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {

// How much ciphertext the writer gathers into one write, and the reader's buffer: several
// Noise messages per system call.
constexpr std::size_t kWriteBatchBytes = std::size_t{256} << 10;
constexpr std::size_t kReadBufferBytes = std::size_t{256} << 10;
constexpr std::size_t kMaxRefuseDetailBytes = 1024;

auto nothrow(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

Error io_error(const error_code& ec, std::string_view doing) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe) {
    return Error{NetErrc::kClosed, "the peer closed the connection while " + std::string(doing)};
  }
  if (ec == asio::error::operation_aborted) {
    return Error{NetErrc::kClosed, "closed while " + std::string(doing)};
  }
  return Error{NetErrc::kClosed, std::string(doing) + ": " + ec.message()};
}

NetErrc code_of(RefuseReason reason) {
  switch (reason) {
    case RefuseReason::kVersionMismatch:
      return NetErrc::kVersionMismatch;
    case RefuseReason::kSchemaMismatch:
      return NetErrc::kSchemaMismatch;
    case RefuseReason::kFeatureMismatch:
      return NetErrc::kFeatureMismatch;
    case RefuseReason::kNotAllowed:
      return NetErrc::kNotAllowed;
    case RefuseReason::kMalformed:
      return NetErrc::kMalformed;
    case RefuseReason::kTooManyPeers:
      return NetErrc::kOverloaded;
    default:
      return NetErrc::kClosed;
  }
}

RefuseReason reason_of(const ErrorCode& code) {
  if (code == NetErrc::kVersionMismatch) return RefuseReason::kVersionMismatch;
  if (code == NetErrc::kSchemaMismatch) return RefuseReason::kSchemaMismatch;
  if (code == NetErrc::kFeatureMismatch) return RefuseReason::kFeatureMismatch;
  if (code == NetErrc::kNotAllowed) return RefuseReason::kNotAllowed;
  return RefuseReason::kMalformed;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

void put_u16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

Bytes encode_hello(const std::string& address, std::uint64_t incarnation) {
  Bytes body;
  put_u16(body, address.size());
  body += address;
  for (int shift = 56; shift >= 0; shift -= 8)
    body.push_back(static_cast<char>(incarnation >> shift));
  return body;
}

Result<std::pair<std::string, std::uint64_t>> decode_hello(BytesView body) {
  auto bad = [] { return Error{NetErrc::kMalformed, "a malformed HELLO frame"}; };
  if (body.size() < 2) return bad();
  const std::size_t len =
      (std::size_t{static_cast<std::uint8_t>(body[0])} << 8) | static_cast<std::uint8_t>(body[1]);
  if (len > kMaxMeshAddressBytes || body.size() != 2 + len + 8) return bad();
  std::string address(body.substr(2, len));
  for (char c : address) {
    if (c < 0x21 || c > 0x7e) return bad();
  }
  std::uint64_t incarnation = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    incarnation = (incarnation << 8) | static_cast<std::uint8_t>(body[2 + len + i]);
  }
  return std::pair{std::move(address), incarnation};
}

Bytes encode_refuse(RefuseReason reason, std::string_view detail) {
  detail = detail.substr(0, kMaxRefuseDetailBytes);
  Bytes body;
  body.push_back(static_cast<char>(reason));
  put_u16(body, detail.size());
  body += detail;
  return body;
}

Error decode_refuse(BytesView body) {
  if (body.size() < 3) return Error{NetErrc::kMalformed, "a malformed REFUSE frame"};
  const auto reason = static_cast<RefuseReason>(static_cast<std::uint8_t>(body[0]));
  const std::size_t len =
      (std::size_t{static_cast<std::uint8_t>(body[1])} << 8) | static_cast<std::uint8_t>(body[2]);
  if (body.size() != 3 + len) return Error{NetErrc::kMalformed, "a malformed REFUSE frame"};
  return Error{code_of(reason), "the peer refused this node: " + printable(body.substr(3))};
}

}  // namespace

// The Noise transport and the reassembly of incoming frames, once the handshake is done.
class MeshConnection::Session {
 public:
  explicit Session(NoiseTransport t) : transport(std::move(t)) {}
  NoiseTransport transport;
  IncomingLanes in;
};

MeshConnection::MeshConnection(Socket socket, bool initiator, const Context& context, Owner& owner,
                               std::string remote_endpoint)
    : socket_(std::move(socket)),
      initiator_(initiator),
      context_(context),
      owner_(owner),
      handshake_timer_(socket_.get_executor()),
      wake_(socket_.get_executor()),
      out_(context.settings.lanes) {
  peer_.remote_endpoint = std::move(remote_endpoint);
  peer_.initiated_here = initiator;
}

MeshConnection::~MeshConnection() = default;

void MeshConnection::start() {
  asio::co_spawn(socket_.get_executor(), run(shared_from_this()), asio::detached);
}

Result<void> MeshConnection::send(Lane lane, FrameType type, BytesView body) {
  if (!established()) return Error{NetErrc::kClosed, "the connection is not established"};
  std::lock_guard lock(mutex_);
  if (closing_ || close_after_flush_) return Error{NetErrc::kClosed, "the connection is closing"};
  auto pushed = out_.push(lane, type, body);
  if (!pushed.ok()) return pushed;
  wake_writer_locked();
  return {};
}

bool MeshConnection::has_room_locked(Lane lane, std::size_t frame_bytes) const {
  const std::size_t queued = out_.charged_bytes(lane);
  return queued <= out_.cap(lane) / 2 && queued + frame_bytes + kFrameChargeBytes <= out_.cap(lane);
}

bool MeshConnection::notify_when_room(Lane lane, std::size_t body_bytes, std::function<void()> fn) {
  const std::size_t frame_bytes = kFrameHeaderBytes + body_bytes;
  {
    std::lock_guard lock(mutex_);
    if (frame_bytes + kFrameChargeBytes > out_.cap(lane)) return false;
    if (!closing_ && !has_room_locked(lane, frame_bytes)) {
      room_waiters_[static_cast<std::size_t>(lane)].push_back({frame_bytes, std::move(fn)});
      return true;
    }
  }
  if (fn) fn();
  return true;
}

void MeshConnection::run_room_waiters(std::vector<std::function<void()>>& waiters) {
  for (auto& fn : waiters) {
    if (fn) fn();
  }
  waiters.clear();
}

MeshConnection::LaneStats MeshConnection::lane_stats(Lane lane) {
  LaneStats stats;
  {
    std::lock_guard lock(mutex_);
    stats.queued_bytes = out_.queued_bytes(lane);
    stats.credit = lane_has_credit(lane) ? out_.credit(lane) : 0;
  }
  stats.held_frames = held_counts_[static_cast<std::size_t>(lane)].load(std::memory_order_relaxed);
  stats.held_bytes = held_bytes_[static_cast<std::size_t>(lane)].load(std::memory_order_relaxed);
  return stats;
}

bool MeshConnection::idle() {
  std::lock_guard lock(mutex_);
  return out_.empty() && (writer_waiting_ || closing_);
}

void MeshConnection::wake_writer_locked() {
  if (!writer_waiting_) return;
  writer_waiting_ = false;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
}

void MeshConnection::close(const Error& why) {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this(), why] { self->finish(why); });
}

void MeshConnection::refuse(RefuseReason reason, const std::string& detail) {
  std::lock_guard lock(mutex_);
  if (closing_ || close_after_flush_ || !established()) return;
  (void)out_.push(Lane::kSystem, FrameType::kRefuse, encode_refuse(reason, detail));
  close_after_flush_ = true;
  wake_writer_locked();
}

void MeshConnection::finish(const Error& why) {
  if (finished_.exchange(true)) return;
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    for (auto& lane : room_waiters_) {
      for (auto& waiter : lane) waiters.push_back(std::move(waiter.fn));
      lane.clear();
    }
  }
  error_code ignored;
  handshake_timer_.cancel();
  wake_.cancel();
  std::uint64_t dropped = 0;
  for (InLane& in : in_) {
    if (in.timer) in.timer->cancel();
    dropped += in.held.size() + (in.raw.empty() ? 0 : 1);
  }
  if (dropped != 0) {
    dropped_on_close_.fetch_add(dropped, std::memory_order_relaxed);
    spdlog::debug("mesh: {} held frames dropped as the connection closed", dropped);
  }
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  owner_.on_closed(shared_from_this(), why);
  // After the owner forgot this connection: a waiter's retry goes to another, or fails.
  run_room_waiters(waiters);
}

// --- flow control: credit owed to the peer, and held frames (the strand) ---------------------

bool FrameHold::may_hold() const { return lane_has_credit(static_cast<Lane>(lane_)); }

std::function<void()> FrameHold::resumer() const {
  return [weak = connection_, lane = lane_, offer = offer_] {
    auto connection = weak.lock();
    if (!connection) return;
    asio::post(connection->socket_.get_executor(),
               [connection, lane, offer] { connection->resume(lane, offer); });
  };
}

Result<void> MeshConnection::account_chunk(BytesView chunk) {
  const std::size_t lane = static_cast<std::uint8_t>(chunk[0]);
  if (!lane_has_credit(static_cast<Lane>(lane))) return {};
  InLane& in = in_[lane];
  in.unacked += chunk.size() - 1;
  if (in.unacked > context_.settings.lanes.window) {
    return Error{NetErrc::kMalformed,
                 "the peer sent " + std::to_string(in.unacked) + " bytes on lane " +
                     std::string(lane_name(static_cast<Lane>(lane))) + " against a credit of " +
                     std::to_string(context_.settings.lanes.window)};
  }
  return {};
}

void MeshConnection::grant_if_due(std::size_t lane) {
  InLane& in = in_[lane];
  const std::size_t threshold = std::max<std::size_t>(1, context_.settings.lanes.window / 4);
  if (in.holding || in.unacked < threshold) return;
  Bytes body;
  body.push_back(static_cast<char>(lane));
  for (int shift = 24; shift >= 0; shift -= 8) {
    body.push_back(static_cast<char>(in.unacked >> shift));
  }
  std::lock_guard lock(mutex_);
  if (closing_) return;
  // Past the system lane's cap: a grant lost here could never be sent again (the peer, out of
  // credit, sends nothing that would call for it). At most a few per lane wait at once: the
  // peer cannot send more until they arrive.
  if (!out_.push(Lane::kSystem, FrameType::kCredit, body, /*over_cap=*/true).ok()) return;
  in.unacked = 0;
  wake_writer_locked();
}

Result<void> MeshConnection::receive(Frame frame, Clock::time_point arrived) {
  if (frame.type == FrameType::kCredit) {
    const auto& b = frame.body;
    const auto lane =
        b.size() == 5 ? lane_from_byte(static_cast<std::uint8_t>(b[0])) : std::optional<Lane>{};
    if (!lane) return Error{NetErrc::kMalformed, "a malformed CREDIT frame"};
    std::size_t bytes = 0;
    for (std::size_t i = 1; i < 5; ++i) bytes = (bytes << 8) | static_cast<std::uint8_t>(b[i]);
    std::lock_guard lock(mutex_);
    auto granted = out_.grant(*lane, bytes);
    if (!granted.ok()) return granted.error();
    wake_writer_locked();
    return {};
  }
  const auto lane = static_cast<std::size_t>(frame.lane);
  InLane& in = in_[lane];
  if (in.holding) {  // behind a frame of the same chunk that was just held
    in.held.push_back({std::move(frame), arrived});
    held_counts_[lane].fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  if (!offer(lane, frame, arrived)) {
    in.held.push_front({std::move(frame), arrived});
    held_counts_[lane].fetch_add(1, std::memory_order_relaxed);
    in.holding = true;
    arm_hold_timer(lane);
  }
  return {};
}

bool MeshConnection::offer(std::size_t lane, Frame& frame, Clock::time_point arrived) {
  InLane& in = in_[lane];
  ++in.offer;
  const auto now = Clock::now();
  const bool last = now >= arrived + context_.settings.max_hold;
  if (last) hold_expiries_.fetch_add(1, std::memory_order_relaxed);
  const FrameHold hold(weak_from_this(), lane, in.offer, last, now - arrived);
  const FrameVerdict verdict = owner_.on_frame(shared_from_this(), frame, hold);
  return verdict == FrameVerdict::kTaken || !hold.may_hold() || last;
}

void MeshConnection::arm_hold_timer(std::size_t lane) {
  InLane& in = in_[lane];
  const std::uint64_t hold = ++in.hold;
  if (!in.timer) in.timer = std::make_unique<asio::steady_timer>(socket_.get_executor());
  in.timer->expires_at(in.held.front().arrived + context_.settings.max_hold);
  in.timer->async_wait([weak = weak_from_this(), lane, hold](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->finished_.load()) return;
    const InLane& held = self->in_[lane];
    if (!held.holding || held.hold != hold) return;
    self->drain_held(lane);  // the front's last offer
  });
}

void MeshConnection::resume(std::size_t lane, std::uint64_t offer) {
  if (finished_.load()) return;
  const InLane& in = in_[lane];
  if (!in.holding || in.offer != offer) return;  // stale: offered again since
  drain_held(lane);
}

void MeshConnection::drain_held(std::size_t lane) {
  InLane& in = in_[lane];
  Bytes piece;
  std::vector<Frame> decoded;
  for (;;) {
    while (!in.held.empty()) {
      HeldFrame& front = in.held.front();
      if (!offer(lane, front.frame, front.arrived)) {
        arm_hold_timer(lane);
        return;
      }
      in.held.pop_front();
      held_counts_[lane].fetch_sub(1, std::memory_order_relaxed);
      if (finished_.load()) return;
    }
    if (in.raw.empty()) break;
    // The next piece of what waited undecoded: at most one chunk's worth at a time, so the
    // frames decoded ahead of their delivery stay few.
    RawBytes& raw = in.raw.front();
    const std::size_t take = std::min(kMaxChunkBytes - 1, raw.bytes.size() - in.raw_offset);
    piece.assign(1, static_cast<char>(lane));
    piece.append(raw.bytes, in.raw_offset, take);
    const auto arrived = raw.arrived;
    in.raw_offset += take;
    held_bytes_[lane].fetch_sub(take, std::memory_order_relaxed);
    if (in.raw_offset == raw.bytes.size()) {
      in.raw.pop_front();
      in.raw_offset = 0;
    }
    decoded.clear();
    auto fed = session_->in.feed(piece, decoded);
    if (!fed.ok()) {
      finish(fed.error());
      return;
    }
    for (Frame& f : decoded) {
      in.held.push_back({std::move(f), arrived});
      held_counts_[lane].fetch_add(1, std::memory_order_relaxed);
    }
  }
  in.holding = false;
  if (in.timer) in.timer->cancel();
  grant_if_due(lane);
}

// The buffered reader both phases share: the peer may send its first frames in the same
// segment as its last handshake message.
class MeshConnection::Reader {
 public:
  explicit Reader(MeshConnection::Socket& socket) : socket_(socket), buffer_(kReadBufferBytes) {}

  // The next length-prefixed message (a view valid until the next call).
  awaitable<Result<BytesView>> next(std::string_view doing) {
    for (;;) {
      const std::size_t have = end_ - start_;
      if (have >= 2) {
        const std::size_t len =
            (std::size_t{buffer_[start_]} << 8) | std::size_t{buffer_[start_ + 1]};
        if (len == 0) co_return Error{NetErrc::kMalformed, "an empty Noise message"};
        if (have >= 2 + len) {
          BytesView message(reinterpret_cast<const char*>(buffer_.data() + start_ + 2), len);
          start_ += 2 + len;
          co_return message;
        }
      }
      if (start_ > 0 && buffer_.size() - end_ < 2 + 65535) {
        std::memmove(buffer_.data(), buffer_.data() + start_, have);
        start_ = 0;
        end_ = have;
      }
      error_code ec;
      const std::size_t got = co_await socket_.async_read_some(
          asio::buffer(buffer_.data() + end_, buffer_.size() - end_), nothrow(ec));
      if (ec) co_return io_error(ec, doing);
      end_ += got;
    }
  }

 private:
  MeshConnection::Socket& socket_;
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
};

namespace {

awaitable<Result<void>> write_message(MeshConnection::Socket& socket, BytesView message,
                                      std::string_view doing) {
  Bytes framed;
  framed.reserve(2 + message.size());
  put_u16(framed, message.size());
  framed += message;
  error_code ec;
  co_await asio::async_write(socket, asio::buffer(framed), nothrow(ec));
  if (ec) co_return io_error(ec, doing);
  co_return Result<void>{};
}

}  // namespace

awaitable<void> MeshConnection::run(std::shared_ptr<MeshConnection> self) {
  const auto timeout = self->context_.settings.handshake_timeout;
  self->handshake_timer_.expires_after(timeout);
  self->handshake_timer_.async_wait([weak = std::weak_ptr(self), timeout](error_code ec) {
    auto s = weak.lock();
    if (ec || !s || s->established()) return;
    s->finish(Error{NetErrc::kHandshakeFailed,
                    "no handshake within " + std::to_string(timeout.count()) + " ms"});
  });
  Reader reader(self->socket_);
  auto shaken = co_await self->handshake(reader);
  if (!shaken.ok()) {
    self->finish(shaken.error());
    co_return;
  }
  self->handshake_timer_.cancel();
  // The handshake deadline may have closed the connection while its last read completed.
  if (self->finished_.load()) co_return;
  self->established_.store(true, std::memory_order_release);
  const RefuseReason refused = self->owner_.on_established(self);
  asio::co_spawn(self->socket_.get_executor(), write_loop(self), asio::detached);
  if (refused != RefuseReason::kNone) {
    // The peer hears why; the writer closes the connection once the REFUSE is out.
    self->refuse(refused, refused == RefuseReason::kTooManyPeers ? "too many peers"
                                                                 : "this node is stopping");
  }
  auto read = co_await self->read_frames(reader);
  self->finish(read.ok() ? Error{NetErrc::kClosed, "closed"} : read.error());
}

awaitable<Result<void>> MeshConnection::handshake(Reader& reader) {
  // 1. The preambles, both ways at once, then each side's verdict on the other's.
  const auto ours = context_.ours.encode();
  error_code ec;
  co_await asio::async_write(socket_, asio::buffer(ours), nothrow(ec));
  if (ec) co_return io_error(ec, "sending the preamble");
  std::array<std::uint8_t, kPreambleBytes> theirs_bytes{};
  co_await asio::async_read(socket_, asio::buffer(theirs_bytes), nothrow(ec));
  if (ec) co_return io_error(ec, "reading the peer's preamble");
  auto theirs = Preamble::decode(theirs_bytes);
  Result<void> verdict = theirs.ok() ? check_compatible(context_.ours, *theirs) : theirs.error();
  if (verdict.ok() && theirs->identity == context_.ours.identity) {
    verdict = Error{NetErrc::kMalformed, "the peer is this node itself"};
  }
  if (theirs.ok()) {
    peer_.identity = theirs->identity;  // announced; proven by the handshake below
    peer_.id = theirs->node_id;
  }
  std::array<std::uint8_t, 1> our_verdict{static_cast<std::uint8_t>(
      verdict.ok() ? RefuseReason::kNone : reason_of(verdict.error().code))};
  co_await asio::async_write(socket_, asio::buffer(our_verdict), nothrow(ec));
  if (!verdict.ok()) co_return verdict.error();
  if (ec) co_return io_error(ec, "sending the verdict");
  std::array<std::uint8_t, 1> their_verdict{};
  co_await asio::async_read(socket_, asio::buffer(their_verdict), nothrow(ec));
  if (ec) co_return io_error(ec, "reading the peer's verdict");
  if (their_verdict[0] > static_cast<std::uint8_t>(RefuseReason::kMalformed)) {
    co_return Error{NetErrc::kMalformed,
                    "a verdict byte of " + std::to_string(their_verdict[0]) + " (0..4)"};
  }
  if (their_verdict[0] != 0) {
    const auto reason = static_cast<RefuseReason>(their_verdict[0]);
    co_return Error{code_of(reason), "the peer refused this node's preamble (reason " +
                                         std::to_string(their_verdict[0]) + ")"};
  }

  // 2. Noise XX; the prologue is the initiator's preamble, then the responder's.
  Bytes prologue;
  const auto& first = initiator_ ? ours : theirs_bytes;
  const auto& second = initiator_ ? theirs_bytes : ours;
  prologue.append(reinterpret_cast<const char*>(first.data()), first.size());
  prologue.append(reinterpret_cast<const char*>(second.data()), second.size());
  auto hs = NoiseHandshake::create(initiator_ ? NoiseRole::kInitiator : NoiseRole::kResponder,
                                   *context_.static_key, prologue);
  if (!hs.ok()) co_return hs.error();
  for (int step = 0; step < NoiseHandshake::kMessageCount; ++step) {
    if (hs->writes_next()) {
      auto message = hs->write_message({});
      if (!message.ok()) co_return message.error();
      auto sent = co_await write_message(socket_, *message, "sending a handshake message");
      if (!sent.ok()) co_return sent.error();
    } else {
      auto message = co_await reader.next("reading a handshake message");
      if (!message.ok()) co_return message.error();
      auto payload = hs->read_message(*message);
      if (!payload.ok()) co_return payload.error();
      if (!payload->empty()) {
        co_return Error{NetErrc::kMalformed, "a handshake message with a payload"};
      }
      // The peer's static key must be the one its announced identity converts to, checked
      // before this side sends anything more.
      if (hs->remote_static()) {
        auto proven = check_noise_identity(*hs->remote_static(), peer_.identity);
        if (!proven.ok()) co_return proven.error();
      }
    }
  }
  if (!hs->finished() || !hs->remote_static()) {
    co_return Error{NetErrc::kHandshakeFailed, "the handshake did not finish"};
  }
  auto transport = hs->split();
  if (!transport.ok()) co_return transport.error();
  session_ = std::make_unique<Session>(std::move(*transport));

  // 3. The allowlist, before any other frame: an unlisted peer hears why, then the close.
  if (!context_.allowlist->contains(peer_.identity)) {
    (void)co_await send_direct(FrameType::kRefuse,
                               encode_refuse(RefuseReason::kNotAllowed, "not on the allowlist"));
    co_return Error{NetErrc::kNotAllowed,
                    "refused peer " + node_key_text(peer_.identity) + ": not on the allowlist"};
  }

  if (const RefuseReason refused = owner_.admit(*this); refused != RefuseReason::kNone) {
    const std::string why =
        refused == RefuseReason::kTooManyPeers ? "too many peers" : "this node is stopping";
    (void)co_await send_direct(FrameType::kRefuse, encode_refuse(refused, why));
    co_return Error{NetErrc::kOverloaded,
                    "refused peer " + node_key_text(peer_.identity) + ": " + why};
  }

  // 4. HELLO both ways: where each listens, and its incarnation.
  auto hello = co_await send_direct(
      FrameType::kHello, encode_hello(context_.advertised_address, context_.incarnation));
  if (!hello.ok()) co_return hello.error();
  std::vector<Frame> frames;
  while (frames.empty()) {
    auto message = co_await reader.next("waiting for the peer's HELLO");
    if (!message.ok()) co_return message.error();
    auto plain = session_->transport.decrypt(*message);
    if (!plain.ok()) co_return plain.error();
    auto fed = session_->in.feed(*plain, frames);
    if (!fed.ok()) co_return fed.error();
    auto counted = account_chunk(*plain);
    if (!counted.ok()) co_return counted.error();
  }
  if (frames.front().type == FrameType::kRefuse) co_return decode_refuse(frames.front().body);
  if (frames.front().type != FrameType::kHello) {
    co_return Error{NetErrc::kMalformed, "the peer's first frame is not HELLO"};
  }
  auto decoded = decode_hello(frames.front().body);
  if (!decoded.ok()) co_return decoded.error();
  peer_.advertised_address = std::move(decoded->first);
  peer_.incarnation = decoded->second;
  // Frames the peer packed behind its HELLO (it may: it had our HELLO) are delivered once the
  // connection is established, in order.
  for (std::size_t i = 1; i < frames.size(); ++i) early_frames_.push_back(std::move(frames[i]));
  co_return Result<void>{};
}

awaitable<Result<void>> MeshConnection::send_direct(FrameType type, BytesView body) {
  OutgoingLanes one;
  auto pushed = one.push(Lane::kSystem, type, body);
  if (!pushed.ok()) co_return pushed.error();
  while (auto chunk = one.next_chunk()) {
    auto sealed = session_->transport.encrypt(*chunk);
    if (!sealed.ok()) co_return sealed.error();
    auto sent = co_await write_message(socket_, *sealed, "sending a frame");
    if (!sent.ok()) co_return sent.error();
  }
  co_return Result<void>{};
}

awaitable<Result<void>> MeshConnection::read_frames(Reader& reader) {
  auto self = shared_from_this();
  std::vector<Frame> frames = std::move(early_frames_);
  Bytes plain;  // each message's plaintext, in one buffer for the connection's life
  for (bool first = true;; first = false) {
    auto arrived = Clock::now();
    if (!first || frames.empty()) {
      auto message = co_await reader.next("reading");
      if (!message.ok()) co_return message.error();
      arrived = Clock::now();
      auto opened = session_->transport.decrypt_into(*message, plain);
      if (!opened.ok()) co_return opened.error();
      // Checked before a held lane keeps the chunk undecoded (IncomingLanes checks it too).
      if (plain.size() < 2) {
        co_return Error{NetErrc::kMalformed, "a chunk with nothing after its lane"};
      }
      frames.clear();
      const auto lane = plain.empty() ? std::optional<Lane>{}
                                      : lane_from_byte(static_cast<std::uint8_t>(plain[0]));
      const auto index = static_cast<std::size_t>(static_cast<std::uint8_t>(plain[0]));
      if (lane && lane_has_credit(*lane) && in_[index].holding) {
        // The lane waits behind a held frame: kept undecoded, within the credit.
        auto counted = account_chunk(plain);
        if (!counted.ok()) co_return counted.error();
        InLane& in = in_[index];
        if (!in.raw.empty() && in.raw.back().bytes.size() < kMaxChunkBytes &&
            arrived - in.raw.back().arrived < std::chrono::milliseconds(50)) {
          in.raw.back().bytes.append(plain, 1);  // one entry per 50 ms or 64 KiB at least
        } else {
          in.raw.push_back({Bytes(plain, 1), arrived});
        }
        held_bytes_[index].fetch_add(plain.size() - 1, std::memory_order_relaxed);
        continue;
      }
      auto fed = session_->in.feed(plain, frames);
      if (!fed.ok()) co_return fed.error();
      auto counted = account_chunk(plain);
      if (!counted.ok()) co_return counted.error();
    }
    for (Frame& frame : frames) {
      // Nothing reaches the owner after the close (a read may complete just before it).
      if (finished_.load()) co_return Error{NetErrc::kClosed, "closed"};
      if (frame.type == FrameType::kRefuse) co_return decode_refuse(frame.body);
      if (frame.type == FrameType::kHello) {
        co_return Error{NetErrc::kMalformed, "a second HELLO frame"};
      }
      auto received = receive(std::move(frame), arrived);
      if (!received.ok()) co_return received.error();
    }
    if (finished_.load()) co_return Error{NetErrc::kClosed, "closed"};
    if (first) {
      for (std::size_t lane = 1; lane < kLaneCount; ++lane) grant_if_due(lane);
    } else {
      grant_if_due(static_cast<std::uint8_t>(plain[0]));
    }
  }
}

awaitable<void> MeshConnection::write_loop(std::shared_ptr<MeshConnection> self) {
  // Kept across rounds, so a round allocates nothing: the chunks taken (chunks[0..count), each
  // keeping its capacity) and the batch they are sealed into.
  std::vector<Bytes> chunks;
  std::size_t count = 0;
  std::vector<std::function<void()>> room;  // senders to tell their lane has room again
  Bytes batch;
  batch.reserve(kWriteBatchBytes + 2 + kMaxNoiseMessageBytes);
  for (;;) {
    count = 0;
    bool flush_then_close = false;
    {
      std::lock_guard lock(self->mutex_);
      if (self->closing_) co_return;
      std::size_t taken = 0;
      while (taken < kWriteBatchBytes) {
        if (count == chunks.size()) chunks.emplace_back();
        if (!self->out_.next_chunk_into(chunks[count])) break;
        taken += chunks[count++].size();
      }
      if (count == 0) {
        if (self->close_after_flush_) {
          flush_then_close = true;
        } else {
          self->writer_waiting_ = true;
        }
      }
      for (std::size_t lane = 1; lane < kLaneCount; ++lane) {
        auto& waiting = self->room_waiters_[lane];
        std::erase_if(waiting, [&](RoomWaiter& waiter) {
          if (!self->has_room_locked(static_cast<Lane>(lane), waiter.frame_bytes)) return false;
          room.push_back(std::move(waiter.fn));
          return true;
        });
      }
    }
    run_room_waiters(room);
    if (flush_then_close) {
      self->finish(Error{NetErrc::kClosed, "closed after refusing the peer"});
      co_return;
    }
    error_code ec;
    if (count == 0) {
      self->wake_.expires_at(asio::steady_timer::time_point::max());
      co_await self->wake_.async_wait(nothrow(ec));
      continue;
    }
    // Sealed outside the lock (senders never wait for encryption), in the order taken, straight
    // into the batch: this coroutine is the only one that encrypts.
    batch.clear();
    for (std::size_t i = 0; i < count; ++i) {
      put_u16(batch, chunks[i].size() + kNoiseTagBytes);
      auto sealed = self->session_->transport.encrypt_append(chunks[i], batch);
      if (!sealed.ok()) {
        self->finish(sealed.error());
        co_return;
      }
    }
    co_await asio::async_write(self->socket_, asio::buffer(batch), nothrow(ec));
    if (ec) {
      self->finish(io_error(ec, "writing"));
      co_return;
    }
  }
}

}  // namespace troupe::net
