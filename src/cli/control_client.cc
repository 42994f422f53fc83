#include "control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"
#include "troupe/node/node_error.h"

namespace troupe::cli {

Result<ControlClient> ControlClient::connect(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error{BaseErrc::kInvalidArgument, "control socket path too long: " + path};
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{BaseErrc::kIo, std::string("socket: ") + std::strerror(errno)};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return Error{BaseErrc::kUnavailable, "no node listening on " + path + " (" +
                                             std::strerror(err) +
                                             "); start one with `troupe node run`"};
  }
  return ControlClient(fd);
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

Result<void> write_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{BaseErrc::kIo, std::string("send: ") + std::strerror(errno)};
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> read_exact(int fd, char* out, std::size_t len,
                        std::chrono::steady_clock::time_point deadline) {
  std::size_t off = 0;
  while (off < len) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Error{BaseErrc::kTimedOut, "no response from the node in time"};
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error{BaseErrc::kIo, std::string("poll: ") + std::strerror(errno)};
    if (r == 0) continue;
    ssize_t n = ::recv(fd, out + off, len - off, 0);
    if (n == 0) return Error{NodeErrc::kProtocol, "the node closed the connection"};
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{BaseErrc::kIo, std::string("recv: ") + std::strerror(errno)};
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<nlohmann::json> ControlClient::call(nlohmann::json request,
                                           std::chrono::milliseconds timeout) {
  request["v"] = control::kVersion;
  std::string payload;
  try {
    payload = request.dump();
  } catch (const nlohmann::json::exception&) {
    // Callers check their strings; this is the backstop against an abort.
    return Error{BaseErrc::kInvalidArgument, "the request holds text that is not valid UTF-8"};
  }
  if (payload.size() > control::kMaxFrame) {
    return Error{BaseErrc::kTooLarge, "the request is " + std::to_string(payload.size()) +
                                          " bytes, over the control frame cap of " +
                                          std::to_string(control::kMaxFrame)};
  }
  auto sent = write_all(fd_, control::encode_frame(payload));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // A node that refuses the connection (too many open) answers first and closes: its reason
  // may still be waiting to be read even though sending failed.
  if (!sent.ok()) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  char header[control::kHeader];
  if (auto r = read_exact(fd_, header, sizeof header, deadline); !r.ok()) {
    return sent.ok() ? r.error() : sent.error();
  }
  std::uint32_t len = get_u32_be(header);
  if (len == 0 || len > control::kMaxResponseFrame) {
    return Error{NodeErrc::kProtocol, "response frame of " + std::to_string(len) + " bytes"};
  }
  std::string body(len, '\0');
  if (auto r = read_exact(fd_, body.data(), len, deadline); !r.ok()) return r.error();
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{NodeErrc::kProtocol, "malformed response"};
  return j;
}

}  // namespace troupe::cli
