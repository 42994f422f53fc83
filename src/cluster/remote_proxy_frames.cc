// RemoteActors, what the proxies send: the frame for a tell, an ask or a data-stream chunk to an
// actor of another node, sent when its lane has room — otherwise the proxy waits for room
// (net::MeshTransport::notify_when_room) and sends it again — and failed for good otherwise.
#include "troupe/cluster/cluster_error.h"
#include "troupe/cluster/remote_actors.h"
#include "troupe/net/net_error.h"
#include "troupe/wasm/wasm_actor.h"

namespace troupe {

RemoteActors::ProxyFrame RemoteActors::proxy_request(ActorId to, Envelope envelope,
                                                     std::chrono::milliseconds timeout,
                                                     std::function<void(Result<Bytes>)> done) {
  const std::uint64_t id = next_request_.fetch_add(1);
  if (!add_pending(to.node, id, timeout, std::move(done))) return ProxyFrame{};
  RemoteEnvelope remote;
  remote.to_serial = to.serial;
  envelope.kind = EnvelopeKind::kRequest;
  envelope.request_id = id;
  remote.envelope = std::move(envelope);
  remote.time_left_ms = static_cast<std::uint32_t>(timeout.count());
  return ProxyFrame{to.node, id, encode_remote_envelope(remote)};
}

bool RemoteActors::send_proxy_frame(const ProxyFrame& frame) {
  if (frame.request_id != 0) {
    std::lock_guard lock(mutex_);
    if (!pending_.contains(frame.request_id)) return true;  // timed out while it waited
  }
  auto sent = transport_.send(frame.node, frame.lane, frame.type, frame.body);
  if (sent.ok()) return true;
  if (sent.error().code == NetErrc::kOverloaded) {
    std::lock_guard lock(mutex_);
    if (frame.lane == net::Lane::kStreamLatencyFirst) {
      ++counters_.stream_drops;  // fresh data over complete data: that lane never waits
      return true;
    }
    ++counters_.proxy_waits;
    return false;
  }
  const Error& why = sent.error();
  fail_proxy_frame(frame, why.code == NetErrc::kUnreachable || why.code == NetErrc::kClosed
                              ? Error{ClusterErrc::kNoConnection, why.detail}
                              : why);
  return true;
}

std::optional<RemoteActors::ProxyFrame> RemoteActors::proxy_stream(
    ActorId to, wasm::DataStreamMessage message, std::optional<ReplyPromise> reply) {
  // Handed to the network (or dropped) now: the sender's latency-first window moves on.
  message.in_flight.reset();
  auto fits = check_remote_stream(message.chunk);
  if (!fits.ok()) {
    if (reply) reply->fail(fits.error());
    std::lock_guard lock(mutex_);
    if (!reply) ++counters_.stream_drops;
    return std::nullopt;
  }
  RemoteStreamChunk chunk;
  chunk.reliable = reply.has_value();
  chunk.to_serial = to.serial;
  chunk.sender_serial = message.sender.node == system_.node_id() ? message.sender.serial : 0;
  if (ActorRef sender = chunk.sender_serial != 0 ? system_.find(message.sender) : ActorRef{}) {
    chunk.sender_type = sender.type_name().substr(0, kMaxRemoteTextBytes);
  }
  chunk.chunk = std::move(message.chunk);
  ProxyFrame frame{to.node, 0, {}, net::Lane::kStreamLatencyFirst, net::FrameType::kStream};
  if (chunk.reliable) {
    const std::uint64_t id = next_request_.fetch_add(1);
    auto promise = std::make_shared<ReplyPromise>(std::move(*reply));
    if (!add_pending(to.node, id, kProxyAskTimeout,
                     [promise](Result<Bytes> r) { promise->deliver(std::move(r)); })) {
      return std::nullopt;
    }
    chunk.request_id = id;
    chunk.time_left_ms = static_cast<std::uint32_t>(kProxyAskTimeout.count());
    frame.request_id = id;
    frame.lane = net::Lane::kStreamReliable;
  }
  frame.body = encode_remote_stream(chunk);
  return frame;
}

void RemoteActors::fail_proxy_frame(const ProxyFrame& frame, const Error& why) {
  if (frame.request_id != 0) return complete(frame.request_id, why, false);
  std::lock_guard lock(mutex_);
  ++counters_.proxy_drops;
}

}  // namespace troupe
