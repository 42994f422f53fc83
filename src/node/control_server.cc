#include "troupe/node/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"
#include "troupe/node/node_error.h"

namespace troupe {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;
using nlohmann::json;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Local::socket socket, ControlServer& server)
      : socket_(std::move(socket)),
        server_(server),
        idle_(socket_.get_executor()),
        count_(server.sessions_) {
    count_->fetch_add(1);
  }
  // May run on any thread, even after the server is gone (a worker can drop the last
  // Respond late): it touches only the shared count.
  ~Session() { count_->fetch_sub(1); }

  void read_header() {
    // The whole next frame must arrive within the idle timeout: a client that sends nothing,
    // or half a frame, does not hold its connection (and its buffer) forever.
    arm_idle_timer();
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(header_),
                     [self](boost::system::error_code ec, std::size_t) {
                       if (!ec) self->on_header();
                     });
  }

  // Answers a connection past the cap with one error frame, then closes it.
  void refuse(const Error& e) { write(control::error_response(e), /*then_close=*/true); }

 private:
  void arm_idle_timer() {
    idle_.expires_after(server_.options_.idle_timeout);
    std::weak_ptr<Session> weak = shared_from_this();
    idle_.async_wait([weak](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      spdlog::debug("control: closing a connection that sent or took nothing for {} ms",
                    self->server_.options_.idle_timeout.count());
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void on_header() {
    std::uint32_t len = get_u32_be(header_.data());
    if (len == 0 || len > control::kMaxFrame) {
      idle_.cancel();
      fail_and_close(Error{NodeErrc::kProtocol, "control frame of " + std::to_string(len) +
                                                    " bytes (allowed 1.." +
                                                    std::to_string(control::kMaxFrame) + ")"});
      return;
    }
    // The buffer grows with the bytes that arrive, not with the length the header announces.
    body_.clear();
    auto self = shared_from_this();
    asio::async_read(socket_, asio::dynamic_buffer(body_, len), asio::transfer_exactly(len),
                     [self](boost::system::error_code ec, std::size_t) {
                       if (!ec) self->on_body();
                     });
  }

  void on_body() {
    idle_.cancel();
    json request = json::parse(body_, nullptr, /*allow_exceptions=*/false);
    std::string().swap(body_);
    if (request.is_discarded() || !request.is_object()) {
      fail_and_close(Error{NodeErrc::kProtocol, "control frame is not a JSON object"});
      return;
    }
    auto v = request.find("v");
    if (v == request.end() || !v->is_number_integer() || *v != control::kVersion) {
      fail_and_close(
          Error{NodeErrc::kProtocol, "unsupported control protocol version (node speaks " +
                                         std::to_string(control::kVersion) + ")"});
      return;
    }
    auto self = shared_from_this();
    // The handler may answer from a worker thread: hop back onto the I/O thread.
    server_.handler_(request, [self](Response response) {
      asio::post(self->socket_.get_executor(), [self, r = std::move(response)]() mutable {
        self->hold_ = std::move(r.hold);
        self->write(r.body, /*then_close=*/false);
      });
    });
  }

  void fail_and_close(const Error& e) {
    spdlog::warn("control: {}", e.to_string());
    write(control::error_response(e), /*then_close=*/true);
  }

  void write(const json& response, bool then_close) {
    std::string text = response.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > control::kMaxResponseFrame) {
      // Never send what the client must refuse: say why instead.
      text = control::error_response(
                 Error{BaseErrc::kTooLarge, "the response is " + std::to_string(text.size()) +
                                                " bytes, over the control frame cap of " +
                                                std::to_string(control::kMaxResponseFrame)})
                 .dump();
    }
    out_ = control::encode_frame(text);
    // The client must take the whole response within the idle timeout too: one that stops
    // reading would otherwise hold its connection slot and the response's bytes (and their
    // ReplyBudget hold) for as long as it lives.
    arm_idle_timer();
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_),
                      [self, then_close](boost::system::error_code ec, std::size_t) {
                        self->idle_.cancel();
                        std::string().swap(self->out_);
                        self->hold_.reset();
                        if (ec || then_close) {
                          boost::system::error_code ignored;
                          self->socket_.close(ignored);
                          return;
                        }
                        self->read_header();
                      });
  }

  Local::socket socket_;
  ControlServer& server_;
  asio::steady_timer idle_;
  std::array<char, control::kHeader> header_{};
  std::string body_;
  std::string out_;
  std::shared_ptr<void> hold_;  // what the response being written holds (Response::hold)
  std::shared_ptr<std::atomic<std::size_t>> count_;
};

namespace {

// True when something accepts connections on `path`.
bool someone_listens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Whether open() could make the directories above `path` and create the socket in them: the
// nearest one that exists must be a directory this process may write and search. (A bind can
// still fail for reasons no check sees, e.g. a file system that takes no sockets.)
Result<void> check_socket_directory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  while (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    const std::filesystem::path up = dir.parent_path().empty() ? "." : dir.parent_path();
    if (err != ENOENT || up == dir) {
      return Error{BaseErrc::kInvalidArgument,
                   "cannot use " + dir.string() + " for the control socket: " + std::strerror(err)};
    }
    dir = up;
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error{
        BaseErrc::kInvalidArgument,
        dir.string() + " is not a directory; cannot put the control socket " + path + " under it"};
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Error{BaseErrc::kInvalidArgument, "cannot create the control socket " + path + " in " +
                                                 dir.string() + ": " + std::strerror(errno)};
  }
  return {};
}

}  // namespace

ControlServer::ControlServer(std::string path, Handler handler, Options options)
    : path_(std::move(path)),
      handler_(std::move(handler)),
      options_(options),
      acceptor_(io_),
      accept_retry_(io_) {}

namespace {

// What is at the socket path: nothing (false), a socket nobody answers on that a node which
// died left (true: it may be replaced), or something that must be left alone (an error).
Result<bool> stale_socket(const std::string& path) {
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) != 0) return false;
  if (!S_ISSOCK(existing.st_mode)) {
    return Error{BaseErrc::kInvalidArgument,
                 path + " exists and is not a socket; refusing to use or remove it"};
  }
  if (someone_listens(path)) {
    return Error{BaseErrc::kUnavailable, "another node is already running on " + path};
  }
  return true;
}

}  // namespace

Result<void> ControlServer::check(const std::string& path, const Options& options) {
  if (options.max_connections == 0 || options.idle_timeout.count() <= 0) {
    return Error{BaseErrc::kInvalidArgument,
                 "control connections and idle timeout must be at least 1"};
  }
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Error{BaseErrc::kInvalidArgument,
                 "control socket path must be 1.." +
                     std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes: '" + path + "'"};
  }
  if (path.find('\0') != std::string::npos) {
    // The system would read the path only up to the NUL (one starting with NUL names an
    // abstract socket, which file permissions do not protect).
    return Error{BaseErrc::kInvalidArgument, "control socket path contains a NUL byte"};
  }
  auto stale = stale_socket(path);
  if (!stale.ok()) return stale.error();
  if (*stale) return {};  // its directory exists: open() replaces it
  return check_socket_directory(path);
}

Result<std::unique_ptr<ControlServer>> ControlServer::open(const std::string& path, Handler handler,
                                                           Options options) {
  if (auto ok = check(path, options); !ok.ok()) return ok.error();
  std::error_code fs_ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, fs_ec);
    if (fs_ec) {
      return Error{BaseErrc::kIo, "cannot create " + parent.string() + ": " + fs_ec.message()};
    }
  }
  // Only a socket that nobody answers on is replaced (a node that died left it); anything else
  // at the path belongs to someone else and is left untouched.
  auto stale = stale_socket(path);  // again: the path may have changed since check()
  if (!stale.ok()) return stale.error();
  if (*stale) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Error{BaseErrc::kIo,
                   "cannot remove the stale socket " + path + ": " + std::strerror(errno)};
    }
  }
  std::unique_ptr<ControlServer> server(new ControlServer(path, std::move(handler), options));
  boost::system::error_code ec;
  // The socket is created 0600 from the start: no window in which others could connect.
  mode_t old_mask = ::umask(0177);
  server->acceptor_.open(Local(), ec);
  if (!ec) server->acceptor_.bind(Local::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{BaseErrc::kIo, "cannot listen on " + path + ": " + ec.message()};
  struct stat created {};
  if (::lstat(path.c_str(), &created) != 0) {
    return Error{BaseErrc::kIo, "cannot stat " + path + ": " + std::strerror(errno)};
  }
  server->socket_dev_ = created.st_dev;
  server->socket_ino_ = created.st_ino;
  ::chmod(path.c_str(), 0600);
  server->accept();
  server->thread_ = std::thread([s = server.get()] { s->io_.run(); });
  return server;
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, Local::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors (EMFILE/ENFILE) or memory: the connection stays in the backlog and
      // an immediate retry fails the same way, at 100% CPU. Wait, doubling up to a second.
      accept_backoff_ = std::min(std::max(accept_backoff_ * 2, std::chrono::milliseconds(10)),
                                 std::chrono::milliseconds(1000));
      if (accept_backoff_ == std::chrono::milliseconds(10) || ++accept_failures_ % 60 == 0) {
        spdlog::warn("control: accept failed ({}); retrying in {} ms", ec.message(),
                     accept_backoff_.count());
      }
      accept_retry_.expires_after(accept_backoff_);
      accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    auto session = std::make_shared<Session>(std::move(socket), *this);
    if (sessions_->load() > options_.max_connections) {
      session->refuse(Error{BaseErrc::kUnavailable, "too many control connections (at most " +
                                                        std::to_string(options_.max_connections) +
                                                        "); try again later"});
    } else {
      session->read_header();
    }
    accept();
  });
}

void ControlServer::close() {
  if (closed_) return;
  closed_ = true;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  io_.stop();
  if (thread_.joinable()) thread_.join();
  // Remove the socket file only if it is still the one this server created: the path may
  // have been replaced meanwhile, and whatever is there now is not ours.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == socket_dev_ &&
      st.st_ino == socket_ino_) {
    ::unlink(path_.c_str());
  }
}

ControlServer::~ControlServer() { close(); }

}  // namespace troupe
