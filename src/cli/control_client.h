// ControlClient: the CLI's side of the control socket. Blocking, one request at a time.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "troupe/base/result.h"

namespace troupe::cli {

class ControlClient {
 public:
  static Result<ControlClient> connect(const std::string& path);
  ControlClient(ControlClient&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ControlClient& operator=(ControlClient&&) = delete;
  ~ControlClient();

  // Sends one request ("v" added) and waits up to `timeout` for its response.
  Result<nlohmann::json> call(nlohmann::json request, std::chrono::milliseconds timeout);

 private:
  explicit ControlClient(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace troupe::cli
