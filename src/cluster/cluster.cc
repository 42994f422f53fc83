#include "troupe/cluster/cluster.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "troupe/base/error.h"
#include "troupe/cluster/membership.h"
#include "troupe/net/net_error.h"
#include "troupe/platform/private_file.h"

namespace troupe {

namespace asio = boost::asio;

namespace {

constexpr const char* kAllowFile = "mesh.allow";
// Messages held for a member while its connection is being made: a few, briefly (SWIM resends
// what matters; this only saves the first probe and the join's push-pull a round).
constexpr std::size_t kMaxPendingMessages = 16;
constexpr std::size_t kMaxPendingMembers = 256;
constexpr auto kPendingLifetime = std::chrono::seconds(3);
// Membership frames received and not yet handled, in bytes (a push-pull of a full table is
// about 320 KB).
constexpr std::size_t kMaxQueuedMembershipBytes = std::size_t{8} << 20;

// What a write of mesh.allow killed before its rename left (write_private_file's temporary
// `.mesh.allow.tmp-*`): regular files only, nothing else is touched.
void remove_interrupted_allow_writes(const std::string& data_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".mesh.allow.tmp-") && entry.is_regular_file(ec) &&
        !entry.is_symlink(ec)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace

struct Cluster::Driver {
  asio::io_context io;
  asio::steady_timer timer{io};
  asio::steady_timer registry_timer{io};
  std::thread thread;
};

Cluster::Cluster(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<Cluster>> Cluster::start(Options options, net::NoiseKeyPair static_key,
                                                EventListener on_event) {
  std::unique_ptr<Cluster> c(new Cluster(std::move(options)));
  c->on_event_ = std::move(on_event);
  for (const net::NodeKey& key : c->options_.mesh.allow) {
    auto added = c->allowlist_.add(key);
    if (!added.ok()) return added.error();
  }
  if (!c->options_.data_dir.empty()) {
    auto dir = PrivateDir::open(c->options_.data_dir);
    if (!dir.ok()) return dir.error();
    remove_interrupted_allow_writes(c->options_.data_dir);
    auto text = read_private_file(*dir, kAllowFile,
                                  private_file_rule(0, net::PeerAllowlist::kMaxKeys * 46));
    if (!text.ok() && text.error().code != BaseErrc::kNotFound) return text.error();
    if (text.ok()) {
      std::size_t line_no = 0;
      for (std::size_t pos = 0; pos < text->size();) {
        const std::size_t end = std::min(text->find('\n', pos), text->size());
        const std::string_view line(text->data() + pos, end - pos);
        ++line_no;
        pos = end + 1;
        if (line.empty()) continue;
        auto key = net::parse_node_key(line);
        if (!key.ok()) {
          return Error{
              BaseErrc::kInvalidArgument,
              dir->path_of(kAllowFile) + ":" + std::to_string(line_no) + ": " + key.error().detail};
        }
        auto added = c->allowlist_.add(*key);
        if (!added.ok()) return added.error();
        c->added_keys_.insert(*key);
      }
    }
  }

  Member self;
  self.identity = c->options_.identity;
  self.id = member_id_of(self.identity);
  self.incarnation = c->options_.incarnation;
  self.state = MemberState::kAlive;
  const std::uint64_t seed = c->options_.seed != 0 ? c->options_.seed : std::random_device{}();

  c->driver_ = std::make_unique<Driver>();

  net::MeshTransport::Options t;
  t.listen = c->options_.mesh.listen;
  t.advertised_address = c->options_.mesh.advertise;
  t.incarnation = c->options_.incarnation;
  t.connection.handshake_timeout = c->options_.mesh.handshake_timeout;
  t.connection.max_hold = c->options_.mesh.max_hold;
  t.tcp_user_timeout = c->options_.mesh.tcp_user_timeout;
  t.io_threads = c->options_.mesh.io_threads;
  t.max_peers = c->options_.mesh.max_peers;
  Cluster* self_ptr = c.get();
  net::MeshTransport::Handlers handlers;
  handlers.peer_up = [self_ptr](const net::PeerInfo& peer) {
    asio::post(self_ptr->driver_->io, [self_ptr, peer] { self_ptr->handle_peer_up(peer); });
  };
  handlers.peer_down = [self_ptr](const net::PeerInfo& peer, const Error&) {
    asio::post(self_ptr->driver_->io, [self_ptr, id = peer.id] {
      if (self_ptr->membership_) self_ptr->membership_->on_peer_unreachable(id);
      // A node that never became a member is never declared dead: once its last connection
      // is gone, what waits on it (asks, stand-ins, spawns linked to it) fails now instead.
      if (self_ptr->membership_ && !self_ptr->membership_->member(id) &&
          !self_ptr->transport_->connected(id)) {
        if (RemoteActors* r = self_ptr->remote_ready_.load(std::memory_order_acquire)) {
          r->on_member_gone(id);
        }
      }
      self_ptr->after_change();
    });
  };
  handlers.frame = [self_ptr](const net::PeerInfo& peer, net::Frame& frame,
                              const net::FrameHold& hold) {
    if (frame.type != net::FrameType::kMembership) {
      // Actor messages are handled here, on the I/O thread: they never block (a frame for a
      // full mailbox is held instead).
      if (RemoteActors* r = self_ptr->remote_ready_.load(std::memory_order_acquire)) {
        return r->on_frame(peer, frame, hold);
      }
      return net::FrameVerdict::kTaken;
    }
    // Bounded: what waits for the membership thread is capped, past it frames are dropped
    // (SWIM resends what matters), so no peer can grow the queue without end.
    const std::size_t size = frame.body.size();
    if (self_ptr->queued_bytes_.fetch_add(size) + size > kMaxQueuedMembershipBytes) {
      self_ptr->queued_bytes_.fetch_sub(size);
      self_ptr->dropped_frames_.fetch_add(1);
      return net::FrameVerdict::kTaken;
    }
    asio::post(self_ptr->driver_->io, [self_ptr, peer, size, f = std::move(frame)]() mutable {
      self_ptr->queued_bytes_.fetch_sub(size);
      self_ptr->handle_frame(peer, std::move(f));
    });
    return net::FrameVerdict::kTaken;
  };
  auto transport = net::MeshTransport::start(c->options_.identity, std::move(static_key),
                                             c->allowlist_, std::move(t), std::move(handlers));
  if (!transport.ok()) return transport.error();
  if (c->allowlist_.size() == 0) {
    spdlog::warn(
        "mesh: the allowlist is empty: every peer will be refused ([mesh] allow, "
        "`troupe cluster allow KEY`)");
  }
  c->transport_ = std::move(transport).value();
  if (c->options_.system) {
    c->remote_ = std::make_unique<RemoteActors>(*c->options_.system, *c->transport_, c->driver_->io,
                                                c->options_.remote);
    // Before remote_ready_ publishes it: no frame reaches it before the handler is in place.
    if (c->options_.spawn_handler) c->remote_->set_spawn_handler(c->options_.spawn_handler);
    c->remote_ready_.store(c->remote_.get(), std::memory_order_release);
  }

  // The membership learns its advertised address from the transport (the kernel's port for
  // port 0).
  self.address = c->transport_->advertised_address();
  if (self.address.empty()) self.address = "-";  // dials out only; never dialled
  auto membership = Membership::create(
      c->options_.swim, self, *c, c->clock_, seed,
      [self_ptr](const Member& m) { return self_ptr->allowlist_.contains(m.identity); },
      [self_ptr](const MemberEvent& event) {
        spdlog::info("cluster: {} {} ({}) incarnation {}",
                     net::node_key_text(event.member.identity), member_event_name(event.kind),
                     event.member.address, event.member.incarnation);
        if (self_ptr->remote_ &&
            (event.kind == MemberEventKind::kDead || event.kind == MemberEventKind::kLeft)) {
          self_ptr->remote_->on_member_gone(event.member.id);
        }
        // A connection to a member that failed its probes is one that stopped delivering,
        // and TCP does not say so: through a partition it retransmits with a backoff that
        // reaches tens of seconds, and what is sent on it after the heal waits for the next
        // retransmission. Closed, the member is dialled afresh (the reconnect loop).
        if (event.kind == MemberEventKind::kDead) {
          self_ptr->transport_->disconnect(
              event.member.id, Error{NetErrc::kUnreachable, "declared dead by the membership"});
        }
        // members() shows what an event says by the time a listener hears it.
        if (self_ptr->membership_) {
          std::lock_guard lock(self_ptr->snapshot_mutex_);
          self_ptr->snapshot_ = self_ptr->membership_->members();
        }
        if (self_ptr->on_event_) self_ptr->on_event_(event);
      });
  if (!membership.ok()) return membership.error();
  c->membership_ = std::move(membership).value();
  c->after_change();

  for (const net::MeshAddress& seed_address : c->options_.mesh.join) {
    c->seeds_.push_back(seed_address.to_string());
    c->transport_->connect(seed_address, /*persistent=*/true);
  }
  c->driver_->thread = std::thread([d = c->driver_.get()] {
    auto guard = asio::make_work_guard(d->io);
    d->io.run();
  });
  asio::post(c->driver_->io, [self_ptr] {
    self_ptr->arm_timer();
    self_ptr->arm_registry_timer();
  });
  return c;
}

Cluster::~Cluster() { stop(); }

void Cluster::leave() {
  if (!driver_ || !driver_->thread.joinable()) return;
  auto done = std::make_shared<std::promise<void>>();
  auto left = done->get_future();
  asio::post(driver_->io, [this, done] {
    if (membership_ && !membership_->has_left()) membership_->leave();
    after_change();
    done->set_value();
  });
  if (left.wait_for(std::chrono::seconds(1)) != std::future_status::ready) return;
  transport_->flush(std::chrono::milliseconds(500));
}

void Cluster::stop() {
  if (transport_) transport_->stop();  // no handler posts after this
  if (remote_) remote_->stop();        // pending asks fail: unavailable
  if (driver_ && driver_->thread.joinable()) {
    // At once: what is still queued is dropped with the loop, not worked through.
    driver_->io.stop();
    driver_->thread.join();
  }
}

NodeId Cluster::self_id() const { return member_id_of(options_.identity); }

std::vector<net::MeshAddress> Cluster::listening() const { return transport_->listening(); }

const std::string& Cluster::advertised_address() const { return transport_->advertised_address(); }

std::vector<Member> Cluster::members() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

Result<bool> Cluster::allow(const net::NodeKey& key) {
  if (key == options_.identity) {
    return Error{BaseErrc::kInvalidArgument, "that is this node's own key"};
  }
  std::lock_guard lock(allow_mutex_);
  if (allowlist_.contains(key)) return false;
  auto added = allowlist_.add(key);
  if (!added.ok()) return added.error();
  added_keys_.insert(key);
  auto persisted = persist_allowlist_locked();
  if (!persisted.ok()) {
    // Not kept on disk: not kept at all, so the running node and the next start agree.
    spdlog::warn("mesh: {}", persisted.error().to_string());
    added_keys_.erase(key);
    allowlist_.remove(key);
    return persisted.error();
  }
  spdlog::info("mesh: allowed {}", net::node_key_text(key));
  return true;
}

Result<Cluster::Disallowed> Cluster::disallow(const net::NodeKey& key) {
  Disallowed out;
  Result<void> persisted;
  {
    std::lock_guard lock(allow_mutex_);
    out.in_config = std::find(options_.mesh.allow.begin(), options_.mesh.allow.end(), key) !=
                    options_.mesh.allow.end();
    // Refused from now on whatever the disk says (fail closed); mesh.allow follows, and if it
    // cannot be written now, the next write of it leaves the key out.
    out.removed = allowlist_.remove(key);
    if (added_keys_.erase(key) > 0) persisted = persist_allowlist_locked();
  }
  if (out.removed) {
    spdlog::info("mesh: disallowed {}", net::node_key_text(key));
    transport_->disconnect(member_id_of(key),
                           Error{NetErrc::kNotAllowed, "taken off the allowlist"});
  }
  if (!persisted.ok()) {
    spdlog::warn("mesh: {}", persisted.error().to_string());
    return Error{persisted.error().code,
                 "refused from now on, but mesh.allow still names it (it would be allowed again "
                 "at the next start): " +
                     persisted.error().detail};
  }
  return out;
}

std::vector<net::NodeKey> Cluster::allowed() const { return allowlist_.keys(); }

Result<void> Cluster::persist_allowlist_locked() {
  if (options_.data_dir.empty()) return {};
  auto dir = PrivateDir::open(options_.data_dir);
  if (!dir.ok()) return dir.error();
  // The file holds what `cluster allow` added, never the config's keys: a key taken out of
  // the config is not allowed at the next start.
  std::string text;
  for (const net::NodeKey& key : added_keys_) text += net::node_key_text(key) + "\n";
  auto written = write_private_file(*dir, kAllowFile, text, WriteMode::kReplace);
  if (!written.ok()) return written.error();
  return {};
}

void Cluster::send(const Member& to, Bytes message) {
  auto sent = transport_->send(to.id, net::Lane::kSystem, net::FrameType::kMembership, message);
  if (sent.ok()) return;
  if (sent.error().code != NetErrc::kUnreachable) return;  // overloaded: SWIM resends
  // A member taken off the allowlist is not dialled (it would be refused after the handshake,
  // every probe round): it is reached through the other members' indirect probes only.
  if (!allowlist_.contains(to.identity)) return;
  // No connection: dial the member and hold the message for the connection, briefly.
  auto address = net::MeshAddress::parse(to.address);
  if (!address.ok()) return;
  transport_->connect(*address);
  auto it = pending_.find(to.id);
  if (it == pending_.end()) {
    if (pending_.size() >= kMaxPendingMembers) return;
    it = pending_.emplace(to.id, Pending{{}, clock_.now()}).first;
  }
  if (it->second.messages.size() < kMaxPendingMessages)
    it->second.messages.push_back(std::move(message));
}

void Cluster::handle_peer_up(const net::PeerInfo& peer) {
  if (!membership_) return;
  if (remote_) remote_->on_peer_up(peer.id);
  // What waited for this connection goes first.
  if (auto it = pending_.find(peer.id); it != pending_.end()) {
    for (const Bytes& m : it->second.messages) {
      (void)transport_->send(peer.id, net::Lane::kSystem, net::FrameType::kMembership, m);
    }
    pending_.erase(it);
  }
  // A join address answered: push-pull with it (SWIM's join), and stop dialling the seeds.
  const bool from_seed = peer.initiated_here && std::find(seeds_.begin(), seeds_.end(),
                                                          peer.remote_endpoint) != seeds_.end();
  if (from_seed) {
    Member seed;
    seed.id = peer.id;
    seed.identity = peer.identity;
    seed.address = peer.advertised_address.empty() ? peer.remote_endpoint : peer.advertised_address;
    seed.incarnation = peer.incarnation;
    seed.state = MemberState::kAlive;
    auto joined = membership_->join({seed});
    if (!joined.ok()) {
      spdlog::warn("cluster: join through {} failed: {}", peer.remote_endpoint,
                   joined.error().to_string());
    }
    for (const std::string& s : seeds_) {
      if (auto a = net::MeshAddress::parse(s); a.ok()) transport_->forget(*a);
    }
  }
  after_change();
}

void Cluster::handle_frame(const net::PeerInfo& peer, net::Frame frame) {
  if (!membership_) return;
  if (frame.type == net::FrameType::kMembership) {
    auto handled = membership_->on_message(peer.id, frame.body);
    if (!handled.ok()) {
      spdlog::debug("cluster: a membership message from {}: {}", net::node_key_text(peer.identity),
                    handled.error().to_string());
    }
  }
  after_change();
}

void Cluster::after_change() {
  // Drop what waited too long for a connection.
  const auto now = clock_.now();
  std::erase_if(pending_,
                [&](const auto& entry) { return now - entry.second.since > kPendingLifetime; });
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = membership_->members();
  }
  arm_timer();
}

void Cluster::arm_registry_timer() {
  if (!remote_) return;
  // Every check interval: this node's names go out when they changed; every refresh: anyway.
  const auto check = std::min<std::chrono::milliseconds>(options_.remote.registry_refresh,
                                                         std::chrono::milliseconds(500));
  driver_->registry_timer.expires_after(check);
  driver_->registry_timer.async_wait([this, check](boost::system::error_code ec) {
    if (ec) return;
    since_announce_ += check;
    if (since_announce_ >= options_.remote.registry_refresh) {
      since_announce_ = {};
      remote_->announce();
    } else {
      remote_->announce_if_changed();
    }
    arm_registry_timer();
  });
}

void Cluster::arm_timer() {
  if (!membership_) return;
  const auto deadline = membership_->next_deadline();
  driver_->timer.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          deadline.time_since_epoch())));
  driver_->timer.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed or cancelled
    membership_->tick();
    after_change();
  });
}

}  // namespace troupe
