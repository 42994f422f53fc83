#include "troupe/net/mesh_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "troupe/net/net_error.h"

namespace troupe::net {

namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using Generic = asio::generic::stream_protocol;
using Tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;

namespace {

// What a throttled refusal line adds: how many like it were held back before it.
std::string held_back_text(std::uint64_t held) {
  return held == 0 ? std::string() : " (" + std::to_string(held) + " more like it held back)";
}

auto nothrow(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string endpoint_text(const MeshConnection::Socket& socket) {
  error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  if (ep.protocol().family() == AF_INET || ep.protocol().family() == AF_INET6) {
    Tcp::endpoint tcp;
    std::memcpy(tcp.data(), ep.data(), std::min<std::size_t>(ep.size(), tcp.capacity()));
    tcp.resize(ep.size());
    return tcp.address().to_string() + ":" + std::to_string(tcp.port());
  }
  return "unix";
}

// TCP sockets: no Nagle, and a dead path closes the connection within `user_timeout` instead
// of leaving it in TCP's retransmission backoff for a quarter of an hour (a link cut while
// both nodes stay alive through others is never closed by the membership): data unacknowledged
// that long, or an idle connection whose keepalives go unanswered, ends it. Best effort.
void tune(MeshConnection::Socket& socket, std::chrono::milliseconds user_timeout) {
  error_code ec;
  const auto ep = socket.local_endpoint(ec);
  if (ec || (ep.protocol().family() != AF_INET && ep.protocol().family() != AF_INET6)) return;
  socket.set_option(Tcp::no_delay(true), ec);  // small frames (pings, asks) go out at once
  const int fd = socket.native_handle();
  const auto ms = static_cast<unsigned>(user_timeout.count());
  const int idle_s = std::max(1, static_cast<int>(ms / 2000));
  const int interval_s = 1;
  const int on = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s) != 0) {
    spdlog::debug("mesh: cannot set the TCP user timeout: {}", std::strerror(errno));
  }
}

// A Unix socket path left by a node that died: removed only if it is a socket nobody answers
// on; anything else at the path is refused (the node never touches a file it did not create).
Result<void> clear_stale_unix_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  if (!S_ISSOCK(st.st_mode)) {
    return Error{BaseErrc::kInvalidArgument,
                 "mesh listen path " + path + " exists and is not a socket"};
  }
  asio::io_context probe_io;
  Local::socket probe(probe_io);
  error_code ec;
  probe.connect(Local::endpoint(path), ec);
  if (!ec) return Error{BaseErrc::kInvalidArgument, "mesh listen path " + path + " is in use"};
  if (::unlink(path.c_str()) != 0) {
    return Error{BaseErrc::kIo, "cannot remove the stale socket " + path};
  }
  return {};
}

}  // namespace

class MeshTransport::Listener {
 public:
  // The acceptor lives on a strand of its own: accepting and closing never run at once, however
  // many I/O threads there are.
  Listener(asio::io_context& io, MeshAddress address)
      : strand_(asio::make_strand(io)), acceptor_(strand_), address_(std::move(address)) {}
  const asio::strand<asio::io_context::executor_type>& strand() const { return strand_; }

  Result<void> bind() {
    error_code ec;
    Generic::endpoint endpoint;
    if (address_.kind == MeshAddress::Kind::kUnix) {
      auto cleared = clear_stale_unix_socket(address_.path);
      if (!cleared.ok()) return cleared;
      endpoint = Local::endpoint(address_.path);
    } else {
      // An IP literal: check_listen_addresses made sure before any listener was made.
      const auto ip = asio::ip::make_address(address_.host, ec);
      if (ec) return Error{BaseErrc::kInternal, "mesh listen address " + address_.to_string()};
      endpoint = Tcp::endpoint(ip, address_.port);
    }
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec && address_.kind == MeshAddress::Kind::kTcp) {
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      // A Unix socket is created 0600 from the start (as the control socket is): no window in
      // which others could connect. Listeners bind before any thread starts.
      const bool unix_socket = address_.kind == MeshAddress::Kind::kUnix;
      const mode_t old_mask = unix_socket ? ::umask(0177) : 0;
      acceptor_.bind(endpoint, ec);
      if (unix_socket) ::umask(old_mask);
    }
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error{BaseErrc::kIo, "cannot listen on " + address_.to_string() + ": " + ec.message()};
    }
    if (address_.kind == MeshAddress::Kind::kUnix) {
      struct stat created {};
      if (::lstat(address_.path.c_str(), &created) != 0) {
        return Error{BaseErrc::kIo, "cannot stat " + address_.path};
      }
      created_path_ = address_.path;
      created_dev_ = created.st_dev;
      created_ino_ = created.st_ino;
    } else {
      Tcp::endpoint bound;
      const auto local = acceptor_.local_endpoint(ec);
      std::memcpy(bound.data(), local.data(),
                  std::min<std::size_t>(local.size(), bound.capacity()));
      bound.resize(local.size());
      address_.port = bound.port();
    }
    return {};
  }

  awaitable<void> accept_loop(MeshTransport& transport) {
    for (;;) {
      MeshConnection::Socket socket(asio::make_strand(transport.io_));
      error_code ec;
      co_await acceptor_.async_accept(socket, nothrow(ec));
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (ec) {
        // Out of descriptors, most likely: wait rather than spin.
        spdlog::warn("mesh: accept on {} failed: {}", address_.to_string(), ec.message());
        asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(nothrow(ec));
        continue;
      }
      const std::string endpoint = endpoint_text(socket);
      transport.accept(std::move(socket), endpoint);
    }
  }

  void close() {
    asio::post(strand_, [this] {
      error_code ec;
      acceptor_.close(ec);
    });
  }
  // Removes the socket file this listener created (once; the listener is closed by then).
  void remove_socket_file() {
    // Only the socket this listener made: whatever took its place since is left alone.
    struct stat st {};
    if (!created_path_.empty() && ::lstat(created_path_.c_str(), &st) == 0 &&
        S_ISSOCK(st.st_mode) && st.st_dev == created_dev_ && st.st_ino == created_ino_) {
      ::unlink(created_path_.c_str());
    }
    created_path_.clear();
  }
  ~Listener() { remove_socket_file(); }
  const MeshAddress& address() const { return address_; }

 private:
  asio::strand<asio::io_context::executor_type> strand_;
  asio::basic_socket_acceptor<Generic> acceptor_;
  MeshAddress address_;
  std::string created_path_;
  dev_t created_dev_ = 0;
  ino_t created_ino_ = 0;
};

MeshTransport::MeshTransport(const NodeKey& identity, NoiseKeyPair static_key,
                             const PeerAllowlist& allowlist, Options options, Handlers handlers)
    : static_key_(std::move(static_key)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      jitter_(std::random_device{}()) {
  context_.static_key = &static_key_;
  context_.ours = Preamble::ours(identity);
  context_.allowlist = &allowlist;
  context_.incarnation = options_.incarnation;
  context_.settings = options_.connection;
}

Result<std::unique_ptr<MeshTransport>> MeshTransport::start(const NodeKey& identity,
                                                            NoiseKeyPair static_key,
                                                            const PeerAllowlist& allowlist,
                                                            Options options, Handlers handlers) {
  if (options.io_threads == 0 || options.io_threads > 64) {
    return Error{BaseErrc::kInvalidArgument, "mesh io_threads must be 1..64"};
  }
  const std::size_t window = options.connection.lanes.window;
  if (window < 1024 || window > (std::size_t{1} << 30)) {
    return Error{BaseErrc::kInvalidArgument, "a mesh lane window must be 1 KiB..1 GiB"};
  }
  if (options.tcp_user_timeout.count() < 1000 || options.tcp_user_timeout.count() > 600000) {
    return Error{BaseErrc::kInvalidArgument, "a mesh TCP user timeout must be 1..600 s"};
  }
  if (options.connection.max_hold.count() <= 0) {
    return Error{BaseErrc::kInvalidArgument, "a mesh max_hold must be positive"};
  }
  if (auto ok = check_listen_addresses(options.listen, options.advertised_address); !ok.ok()) {
    return ok.error();
  }
  // spdlog makes its registry on first use: here, before the I/O threads log at once.
  (void)spdlog::default_logger_raw();
  std::unique_ptr<MeshTransport> t(new MeshTransport(identity, std::move(static_key), allowlist,
                                                     std::move(options), std::move(handlers)));
  for (const MeshAddress& address : t->options_.listen) {
    auto listener = std::make_unique<Listener>(t->io_, address);
    auto bound = listener->bind();
    if (!bound.ok()) return bound.error();
    t->listeners_.push_back(std::move(listener));
  }
  t->context_.advertised_address = t->options_.advertised_address;
  if (t->context_.advertised_address.empty() && !t->listeners_.empty()) {
    // Not every interface (check_listen_addresses): the first listener is where it is reached.
    t->context_.advertised_address = t->listeners_.front()->address().to_string();
  }
  for (auto& listener : t->listeners_) {
    asio::co_spawn(listener->strand(), listener->accept_loop(*t), asio::detached);
  }
  for (unsigned i = 0; i < t->options_.io_threads; ++i) {
    t->threads_.emplace_back([io = &t->io_] {
      auto guard = asio::make_work_guard(*io);
      io->run();
    });
  }
  return t;
}

MeshTransport::~MeshTransport() { stop(); }

void MeshTransport::stop() {
  std::vector<std::shared_ptr<MeshConnection>> all;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto& [id, links] : peers_)
      all.insert(all.end(), links.connections.begin(), links.connections.end());
    all.insert(all.end(), pending_.begin(), pending_.end());
  }
  for (auto& listener : listeners_) listener->close();
  for (auto& c : all) c->close(Error{NetErrc::kClosed, "this node is stopping"});
  // Let the closes run, then end the loops.
  asio::post(io_, [this] { io_.stop(); });
  for (auto& t : threads_) t.join();
  threads_.clear();
  // The closes posted above may not have run before the loop stopped: run what is ready
  // (closing the sockets, ending the coroutines) here, so peers see the close now.
  io_.restart();
  while (io_.poll() > 0) {
  }
  for (auto& listener : listeners_) listener->remove_socket_file();
  std::lock_guard lock(mutex_);
  peers_.clear();
  pending_.clear();
}

std::vector<MeshAddress> MeshTransport::listening() const {
  std::vector<MeshAddress> out;
  for (const auto& l : listeners_) out.push_back(l->address());
  return out;
}

void MeshTransport::accept(MeshConnection::Socket socket, std::string endpoint) {
  std::shared_ptr<MeshConnection> connection;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    // One source may hold only a share of the handshake slots: a host that opens connections
    // and sends nothing cannot keep every other node out.
    const std::string source = endpoint.substr(0, endpoint.rfind(':'));
    const std::size_t per_source = std::max<std::size_t>(4, options_.max_handshakes / 4);
    auto from_source = pending_by_source_.find(source);
    if (pending_.size() >= options_.max_handshakes ||
        (from_source != pending_by_source_.end() && from_source->second >= per_source)) {
      ++counters_.accepts_over_cap;
      if (auto held = refusal_log_.admit(source)) {
        spdlog::warn("mesh: closing a connection from {}: {} handshakes already in progress{}",
                     endpoint, pending_.size(), held_back_text(*held));
      }
      return;  // the socket closes as it goes out of scope
    }
    tune(socket, options_.tcp_user_timeout);
    connection = std::make_shared<MeshConnection>(std::move(socket), false, context_,
                                                  static_cast<MeshConnection::Owner&>(*this),
                                                  std::move(endpoint));
    pending_.insert(connection);
    ++pending_by_source_[source];
    pending_source_[connection.get()] = source;
  }
  connection->start();
}

std::chrono::milliseconds MeshTransport::backoff_locked(unsigned failures) {
  // base * 2^(failures-1), capped, then "equal jitter": half fixed, half random, so peers
  // that failed together do not redial together.
  auto delay = options_.backoff_base;
  for (unsigned i = 1; i < failures && delay < options_.backoff_cap; ++i) delay *= 2;
  delay = std::min(delay, options_.backoff_cap);
  const auto half = delay.count() / 2;
  std::uniform_int_distribution<long long> spread(0, std::max<long long>(half, 0));
  return std::chrono::milliseconds(delay.count() - half + spread(jitter_));
}

void MeshTransport::connect(const MeshAddress& address, bool persistent) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  const std::string key = address.to_string();
  if (!dials_.contains(key) && dials_.size() >= max_dials()) {
    // Bounded: forget the addresses that are idle (not persistent, not dialling, not waiting
    // out a backoff); with none to forget, this dial is not made.
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(dials_, [&](const auto& entry) {
      const Dial& d = entry.second;
      return !d.persistent && !d.in_flight && !d.timer_armed && now >= d.next_allowed &&
             !dial_connected_locked(d);
    });
    if (dials_.size() >= max_dials()) {
      spdlog::debug("mesh: not dialling {}: {} addresses in use", key, dials_.size());
      return;
    }
  }
  Dial& dial = dials_[key];
  dial.address = address;
  dial.persistent = dial.persistent || persistent;
  if (dial.in_flight || dial.timer_armed || dial_connected_locked(dial)) return;
  if (std::chrono::steady_clock::now() < dial.next_allowed) {
    schedule_dial_locked(dial);
    return;
  }
  start_dial_locked(dial);
}

std::size_t MeshTransport::dials_in_flight_locked() const {
  return static_cast<std::size_t>(std::count_if(
      dials_.begin(), dials_.end(), [](const auto& entry) { return entry.second.in_flight; }));
}

bool MeshTransport::dial_connected_locked(const Dial& dial) const {
  return dial.peer != 0 && peers_.contains(dial.peer);
}

void MeshTransport::redial_locked(Dial& dial) {
  if (!dial.persistent || stopping_ || dial.in_flight || dial.timer_armed ||
      dial_connected_locked(dial)) {
    return;
  }
  if (std::chrono::steady_clock::now() < dial.next_allowed) {
    schedule_dial_locked(dial);
  } else {
    start_dial_locked(dial);
  }
}

void MeshTransport::forget(const MeshAddress& address) {
  std::lock_guard lock(mutex_);
  auto it = dials_.find(address.to_string());
  if (it != dials_.end()) it->second.persistent = false;
}

void MeshTransport::schedule_dial_locked(Dial& dial) {
  dial.timer_armed = true;
  auto timer = std::make_shared<asio::steady_timer>(io_, dial.next_allowed);
  const std::string key = dial.address.to_string();
  timer->async_wait([this, timer, key](error_code ec) {
    std::lock_guard lock(mutex_);
    auto it = dials_.find(key);
    if (it == dials_.end()) return;
    it->second.timer_armed = false;
    if (ec || stopping_ || it->second.in_flight || dial_connected_locked(it->second)) return;
    start_dial_locked(it->second);
  });
}

void MeshTransport::start_dial_locked(Dial& dial) {
  if (dials_in_flight_locked() >= options_.max_handshakes) {
    // As many connections being made as handshakes allowed: this one waits its turn.
    dial.next_allowed = std::chrono::steady_clock::now() + options_.backoff_base;
    schedule_dial_locked(dial);
    return;
  }
  dial.in_flight = true;
  ++counters_.dials;
  const std::string key = dial.address.to_string();
  const MeshAddress address = dial.address;
  auto strand = asio::make_strand(io_);
  asio::co_spawn(
      strand,
      [this, key, address, strand]() -> awaitable<void> {
        MeshConnection::Socket socket(strand);
        error_code ec;
        // Resolving and connecting get the handshake's deadline too: an address that never
        // answers does not hold a descriptor for the kernel's SYN timeout.
        Tcp::resolver resolver(strand);
        asio::steady_timer deadline(strand, context_.settings.handshake_timeout);
        bool timed_out = false;
        deadline.async_wait([&socket, &resolver, &timed_out](error_code timer_ec) {
          if (timer_ec) return;
          timed_out = true;
          resolver.cancel();
          error_code ignored;
          socket.close(ignored);
        });
        if (address.kind == MeshAddress::Kind::kUnix) {
          co_await socket.async_connect(Generic::endpoint(Local::endpoint(address.path)),
                                        nothrow(ec));
        } else {
          auto results = co_await resolver.async_resolve(address.host, std::to_string(address.port),
                                                         nothrow(ec));
          if (!ec) {
            ec = asio::error::host_not_found;
            for (const auto& entry : results) {
              if (timed_out) break;
              error_code close_ec;
              socket.close(close_ec);
              co_await socket.async_connect(Generic::endpoint(entry.endpoint()), nothrow(ec));
              if (!ec) break;
            }
          }
        }
        deadline.cancel();
        if (timed_out || (!ec && !socket.is_open())) ec = asio::error::timed_out;
        std::shared_ptr<MeshConnection> connection;
        {
          std::lock_guard lock(mutex_);
          auto it = dials_.find(key);
          if (it == dials_.end()) co_return;
          Dial& dial = it->second;
          if (ec || stopping_) {
            dial.in_flight = false;
            ++dial.failures;
            dial.next_allowed = std::chrono::steady_clock::now() + backoff_locked(dial.failures);
            // Said once per address (at its first failure), not at every redial.
            if (dial.failures == 1) {
              spdlog::warn("mesh: cannot connect to {}: {} (retrying with backoff)", key,
                           ec.message());
            } else {
              spdlog::debug("mesh: cannot connect to {}: {}", key, ec.message());
            }
            redial_locked(dial);
            co_return;
          }
          tune(socket, options_.tcp_user_timeout);
          connection = std::make_shared<MeshConnection>(std::move(socket), true, context_,
                                                        static_cast<MeshConnection::Owner&>(*this),
                                                        address.to_string());
          pending_.insert(connection);
          dialled_from_[connection.get()] = key;
        }
        connection->start();
      },
      asio::detached);
}

void MeshTransport::end_pending_locked(const std::shared_ptr<MeshConnection>& connection) {
  pending_.erase(connection);
  auto it = pending_source_.find(connection.get());
  if (it == pending_source_.end()) return;
  if (auto n = pending_by_source_.find(it->second); n != pending_by_source_.end()) {
    if (--n->second == 0) pending_by_source_.erase(n);
  }
  pending_source_.erase(it);
}

RefuseReason MeshTransport::admit(const MeshConnection& connection) {
  std::lock_guard lock(mutex_);
  if (stopping_) return RefuseReason::kShuttingDown;
  if (!peers_.contains(connection.peer().id) && peers_.size() >= options_.max_peers) {
    spdlog::warn("mesh: refusing {}: {} peers already", node_key_text(connection.peer().identity),
                 peers_.size());
    return RefuseReason::kTooManyPeers;
  }
  return RefuseReason::kNone;
}

RefuseReason MeshTransport::on_established(const std::shared_ptr<MeshConnection>& connection) {
  const PeerInfo& peer = connection->peer();
  std::vector<std::shared_ptr<MeshConnection>> retired;
  bool first = false;
  std::lock_guard events(events_mutex_);
  {
    std::lock_guard lock(mutex_);
    end_pending_locked(connection);
    RefuseReason refused = RefuseReason::kNone;
    auto it = peers_.find(peer.id);
    if (stopping_) {
      refused = RefuseReason::kShuttingDown;
    } else if (it == peers_.end() && peers_.size() >= options_.max_peers) {
      spdlog::warn("mesh: refusing {}: {} peers already", node_key_text(peer.identity),
                   peers_.size());
      refused = RefuseReason::kTooManyPeers;
    }
    if (auto from = dialled_from_.find(connection.get()); from != dialled_from_.end()) {
      Dial& dial = dials_[from->second];
      dial.in_flight = false;
      dial.peer = peer.id;
      if (refused == RefuseReason::kNone) {
        dial.failures = 0;
      } else {
        // A refusal of our own is a failed dial: back off, never redial in a loop.
        ++dial.failures;
        dial.next_allowed = std::chrono::steady_clock::now() + backoff_locked(dial.failures);
      }
    }
    if (refused != RefuseReason::kNone) {
      refused_.insert(connection.get());
      return refused;
    }
    if (it == peers_.end()) {
      it = peers_.emplace(peer.id, PeerLinks{}).first;
      first = true;
    }
    PeerLinks& links = it->second;
    links.connections.push_back(connection);
    if (!links.sending) {
      links.sending = connection;
    } else if (peer.incarnation > links.sending->peer().incarnation) {
      // The peer restarted: what this node held is from its previous life.
      links.sending = connection;
      for (auto& c : links.connections) {
        if (c != connection && c->peer().incarnation < peer.incarnation) retired.push_back(c);
      }
    }
    if (links.connections.size() > kMaxConnectionsPerPeer) {
      for (auto& c : links.connections) {
        if (c != links.sending && std::find(retired.begin(), retired.end(), c) == retired.end()) {
          retired.push_back(c);
          break;
        }
      }
    }
  }
  for (auto& c : retired) c->close(Error{NetErrc::kClosed, "superseded by a newer connection"});
  if (first) {
    spdlog::info("mesh: connected to {} ({} at {})", node_key_text(peer.identity),
                 peer.advertised_address.empty() ? "not listening" : peer.advertised_address,
                 peer.remote_endpoint);
    if (handlers_.peer_up) handlers_.peer_up(peer);
  }
  return RefuseReason::kNone;
}

FrameVerdict MeshTransport::on_frame(const std::shared_ptr<MeshConnection>& connection,
                                     Frame& frame, const FrameHold& hold) {
  if (!handlers_.frame) return FrameVerdict::kTaken;
  return handlers_.frame(connection->peer(), frame, hold);
}

void MeshTransport::on_closed(const std::shared_ptr<MeshConnection>& connection, const Error& why) {
  bool was_peer = false;
  const PeerInfo& peer = connection->peer();
  std::lock_guard events(events_mutex_);
  {
    std::lock_guard lock(mutex_);
    end_pending_locked(connection);
    const bool refused_here = refused_.erase(connection.get()) > 0;
    if (refused_here) {
      // Refused by on_established: never a peer; its dial already backed off.
    } else if (connection->established()) {
      auto it = peers_.find(peer.id);
      if (it != peers_.end()) {
        PeerLinks& links = it->second;
        std::erase(links.connections, connection);
        if (links.connections.empty()) {
          peers_.erase(it);
          was_peer = true;
        } else if (links.sending == connection) {
          links.sending = links.connections.back();
        }
      }
    } else {
      ++counters_.handshakes_failed;
      if (why.code == NetErrc::kNotAllowed) ++counters_.refused_not_allowed;
    }
    if (auto from = dialled_from_.find(connection.get()); from != dialled_from_.end()) {
      const std::string key = from->second;
      Dial& dial = dials_[key];
      dialled_from_.erase(from);
      dial.in_flight = false;
      if (peer.identity == context_.ours.identity && dial.persistent) {
        // A join address that is this node: dialling it again cannot help.
        spdlog::warn("mesh: {} is this node itself: not dialling it again", key);
        dial.persistent = false;
      }
      if (!connection->established() && !refused_here) {
        ++dial.failures;
        dial.next_allowed = std::chrono::steady_clock::now() + backoff_locked(dial.failures);
      }
    }
    // Persistent dials to whoever just went away (or failed to come) dial again.
    for (auto& [key, dial] : dials_) {
      if (dial.peer == peer.id || dial.peer == 0) redial_locked(dial);
    }
  }
  if (was_peer) {
    spdlog::info("mesh: disconnected from {}: {}", node_key_text(peer.identity), why.to_string());
    if (handlers_.peer_down) handlers_.peer_down(peer, why);
  } else if (!connection->established() && why.code != NetErrc::kClosed) {
    // Refusals both ways are logged with the key the peer announced.
    const bool announced = peer.identity != NodeKey{};
    // Incoming ones are throttled per host (a stranger can open them in a loop); this node's
    // own dials are paced by their backoff already.
    std::optional<std::uint64_t> held = 0;
    if (!connection->initiator()) {
      held = refusal_log_.admit(host_of_endpoint(connection->remote_endpoint()));
    }
    if (held) {
      spdlog::warn("mesh: {} {} ({}): {}{}",
                   connection->initiator() ? "connection to" : "connection from",
                   connection->remote_endpoint(),
                   announced ? "announced key " + node_key_text(peer.identity) : "no key announced",
                   why.to_string(), held_back_text(*held));
    }
  }
}

Result<void> MeshTransport::send(NodeId peer, Lane lane, FrameType type, BytesView body) {
  auto connection = sending_connection(peer);
  if (!connection) return Error{NetErrc::kUnreachable, "no connection to that node"};
  return connection->send(lane, type, body);
}

std::shared_ptr<MeshConnection> MeshTransport::sending_connection(NodeId peer) const {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.sending;
}

bool MeshTransport::notify_when_room(NodeId peer, Lane lane, std::size_t body_bytes,
                                     std::function<void()> fn) {
  if (auto connection = sending_connection(peer)) {
    return connection->notify_when_room(lane, body_bytes, std::move(fn));
  }
  if (fn) fn();
  return true;
}

std::optional<MeshConnection::LaneStats> MeshTransport::lane_stats(NodeId peer, Lane lane) const {
  auto connection = sending_connection(peer);
  if (!connection) return std::nullopt;
  return connection->lane_stats(lane);
}

void MeshTransport::disconnect(NodeId peer, const Error& why) {
  std::vector<std::shared_ptr<MeshConnection>> all;
  {
    std::lock_guard lock(mutex_);
    auto it = peers_.find(peer);
    if (it == peers_.end()) return;
    all = it->second.connections;
  }
  for (auto& c : all) c->close(why);
}

void MeshTransport::flush(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    std::vector<std::shared_ptr<MeshConnection>> all;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, links] : peers_) {
        all.insert(all.end(), links.connections.begin(), links.connections.end());
      }
    }
    const bool idle = std::all_of(all.begin(), all.end(), [](const auto& c) { return c->idle(); });
    if (idle || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<PeerInfo> MeshTransport::peers() const {
  std::lock_guard lock(mutex_);
  std::vector<PeerInfo> out;
  for (const auto& [id, links] : peers_) out.push_back(links.sending->peer());
  return out;
}

bool MeshTransport::connected(NodeId peer) const {
  std::lock_guard lock(mutex_);
  return peers_.contains(peer);
}

MeshTransport::Counters MeshTransport::counters() const {
  std::lock_guard lock(mutex_);
  Counters out = counters_;
  out.log_lines_held_back = refusal_log_.held_back();
  return out;
}

}  // namespace troupe::net
