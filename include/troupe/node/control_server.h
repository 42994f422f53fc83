// ControlServer: accepts `troupe` CLI connections on a Unix-domain socket (mode 0600) and passes
// each decoded request to a handler. One I/O thread serves every connection (Boost.Asio); the
// handler must not block it: it answers through `respond`, from any thread, once. Oversized or
// malformed frames get an error response and the connection is closed; the node is unaffected.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's asio, whose awaitable.hpp uses std::exchange unincluded
#include <boost/asio.hpp>
// clang-format on
#include <sys/types.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "troupe/base/result.h"

namespace troupe {

class ControlServer {
 public:
  using Respond = std::function<void(nlohmann::json)>;
  using Handler = std::function<void(const nlohmann::json& request, Respond respond)>;

  // Fails when the path is too long, another live node already listens on it, or something
  // other than a socket is there (left untouched). A stale socket file nobody answers on is
  // replaced. close() removes the socket file only if it is still the one open() created.
  static Result<std::unique_ptr<ControlServer>> open(const std::string& path, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void close();
  const std::string& path() const { return path_; }

 private:
  class Session;
  ControlServer(std::string path, Handler handler);
  void accept();

  std::string path_;
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::thread thread_;
  bool closed_ = false;
  dev_t socket_dev_ = 0;  // identity of the socket file bind() created
  ino_t socket_ino_ = 0;
};

}  // namespace troupe
