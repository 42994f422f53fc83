// ServingProcess: the second process of a two-process benchmark run — the same binary started
// again with `--serve ARGS...`, which prints one readiness line ("READY ...") on stdout and
// serves until its stdin closes. The driver waits for that line, never for a time.
//
// Threading: used from the main thread only, and created before the driver starts any thread
// (it forks). Lifetime: its destructor ends the child (closes its stdin, then waits for it).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bench::mesh {

// The second process of a run: this binary again, as `--serve ARGS...`. Its stdout is read for
// the readiness line ("READY ..."); its stderr is ours; it stops when its stdin closes.
class ServingProcess {
 public:
  explicit ServingProcess(std::vector<std::string> args) {
    int out[2], in[2];
    // Close-on-exec, so a second serving process does not hold this one's stdin open (dup2
    // gives the child its own ends without the flag).
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(in[0], 0);
      ::close(out[0]);
      ::close(out[1]);
      ::close(in[0]);
      ::close(in[1]);
      std::vector<char*> argv;
      std::string self = "/proc/self/exe";
      argv.push_back(self.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(self.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    out_fd_ = out[0];
    in_fd_ = in[1];
  }
  ~ServingProcess() { finish(); }
  ServingProcess(const ServingProcess&) = delete;
  ServingProcess& operator=(const ServingProcess&) = delete;

  // The rest of its "READY " line; nullopt if it exits or stays silent past `limit`.
  std::optional<std::string> wait_ready(
      std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto at = out_.find("READY "); at != std::string::npos) {
        if (auto eol = out_.find('\n', at); eol != std::string::npos) {
          return out_.substr(at + 6, eol - at - 6);
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (out_fd_ < 0 || left.count() <= 0) return std::nullopt;
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      out_.append(buf, static_cast<std::size_t>(n));
    }
  }

  // Closes its stdin (it stops) and waits for it; its exit code, -1 if it did not exit.
  int finish() {
    if (in_fd_ >= 0) ::close(in_fd_);
    in_fd_ = -1;
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    return code_;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  int code_ = -1;
  std::string out_;
};

// In the serving process: blocks until stdin closes (the driver is done).
inline void serve_until_stdin_closes() {
  char buf[64];
  while (::read(0, buf, sizeof buf) > 0) {
  }
}

}  // namespace bench::mesh
