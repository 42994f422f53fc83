// ControlServer: accepts `troupe` CLI connections on a Unix-domain socket (mode 0600) and passes
// each decoded request to a handler. One I/O thread serves every connection (Boost.Asio); the
// handler must not block it: it answers through `respond`, from any thread, once. Oversized or
// malformed frames get an error response and the connection is closed; the node is unaffected.
// Bounded: at most Options::max_connections at once (one more gets an error frame), a request
// frame must arrive and a response frame be taken within Options::idle_timeout (a client that
// stops reading is closed), a body buffer grows only with the bytes received,
// and a failing accept (out of descriptors) is retried with a backoff, not in a busy loop.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's asio, whose awaitable.hpp uses std::exchange unincluded
#include <boost/asio.hpp>
// clang-format on
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "troupe/base/result.h"

namespace troupe {

class ControlServer {
 public:
  // One answer. `hold` (if any) is kept until the frame has been written: what it reserves
  // (a ReplyBudget::Hold on the reply's bytes) stays reserved while the node holds them.
  struct Response {
    Response(nlohmann::json b) : body(std::move(b)) {}  // NOLINT: implicit, as most carry none
    Response(nlohmann::json b, std::shared_ptr<void> h) : body(std::move(b)), hold(std::move(h)) {}
    nlohmann::json body;
    std::shared_ptr<void> hold;
  };
  using Respond = std::function<void(Response)>;
  using Handler = std::function<void(const nlohmann::json& request, Respond respond)>;
  struct Options {
    std::size_t max_connections = 64;                // open at once
    std::chrono::milliseconds idle_timeout{10'000};  // each request in, each response out
  };

  // What open() would refuse about `path` and `options`, checked without side effects (no
  // directory made, nothing removed), so a node can refuse to start before it writes anything.
  static Result<void> check(const std::string& path, const Options& options);
  // Fails when the path is too long, another live node already listens on it, or something
  // other than a socket is there (left untouched). A stale socket file nobody answers on is
  // replaced. close() removes the socket file only if it is still the one open() created.
  static Result<std::unique_ptr<ControlServer>> open(const std::string& path, Handler handler,
                                                     Options options);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void close();
  const std::string& path() const { return path_; }

 private:
  class Session;
  ControlServer(std::string path, Handler handler, Options options);
  void accept();

  std::string path_;
  Handler handler_;
  boost::asio::io_context io_;
  Options options_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  std::chrono::milliseconds accept_backoff_{0};  // I/O thread only
  std::uint64_t accept_failures_ = 0;            // I/O thread only
  // Open connections; shared with each Session, which may outlive the server.
  std::shared_ptr<std::atomic<std::size_t>> sessions_ =
      std::make_shared<std::atomic<std::size_t>>(0);
  std::thread thread_;
  bool closed_ = false;
  dev_t socket_dev_ = 0;  // identity of the socket file bind() created
  ino_t socket_ino_ = 0;
};

}  // namespace troupe
