// Shared by the two-process mesh benchmark drivers (troupe_mesh_bench.cc, caf_mesh_bench.cc):
// the workload sizes and the window (so both sides run the same thing), and ServingProcess,
// the second process of a run — the same binary started again with `--serve WORKLOAD ...`,
// which prints one readiness line and serves until its stdin closes.
//
// Threading: ServingProcess is used from the main thread only, and is created before the
// driver starts any thread (it forks). Lifetime: its destructor ends the child (closes its
// stdin, then waits for it).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.h"

namespace bench::mesh {

// Fan-in: kFanInSenders actors in process A each send kFanInPerSender small messages to one
// counter actor in process B.
inline constexpr int kFanInSenders = 10;
inline const int kFanInPerSender = static_cast<int>(sized(50'000));
// Ping-pong: one actor in A asks one in B, sequentially.
inline const int kPingPongRounds = static_cast<int>(sized(20'000));
// Bulk: one actor in A sends kBulkMessages payloads of kBulkBytes to the counter in B.
inline constexpr std::size_t kBulkBytes = 64 * 1024;
inline const int kBulkMessages = static_cast<int>(sized(8'192));

// The send window, the same on both sides: a sender's every kWindow-th message (and its last)
// is an ask, answered by the counter once it has counted it; a sender has at most
// kWindowsInFlight unanswered asks (so at most that many windows of messages in flight) and
// sends the next window when an answer comes. troupe's remote tells are at most once (a full
// remote mailbox or send queue drops them; credit-based flow control is not built yet), so an
// unwindowed flood would measure drops, not delivery; CAF's side runs the same flow.
inline constexpr int kFanInWindow = 100;
inline constexpr int kBulkWindow = 16;  // 1 MiB of 64 KiB messages
inline constexpr int kWindowsInFlight = 2;

// How long a run may wait for the other process or for one answer before it fails.
inline constexpr std::chrono::seconds kPatience{60};

// The sender's side of the window: which message is next and whether it is an ask.
struct Window {
  int total = 0;  // messages this sender sends
  int size = 0;   // messages per window (the last one of each is an ask)
  int sent = 0;
  int asks_out = 0;

  bool done() const { return sent == total && asks_out == 0; }
  // Sends the next window: tell(i) for all but its last message, ask(i) for the last.
  template <class Tell, class Ask>
  void send_next(Tell&& tell, Ask&& ask) {
    if (sent == total) return;
    const int end = std::min(total, sent + size);
    while (sent < end - 1) tell(sent++);
    ++asks_out;
    ask(sent++);
  }
  // At the start: kWindowsInFlight windows.
  template <class Tell, class Ask>
  void start(Tell&& tell, Ask&& ask) {
    for (int i = 0; i < kWindowsInFlight; ++i) send_next(tell, ask);
  }
  // An ask was answered: the next window goes out. True when the sender is done.
  template <class Tell, class Ask>
  bool answered(Tell&& tell, Ask&& ask) {
    --asks_out;
    send_next(tell, ask);
    return done();
  }
};

// The second process of a run: this binary again, as `--serve ARGS...`. Its stdout is read for
// the readiness line ("READY ..."); its stderr is ours; it stops when its stdin closes.
class ServingProcess {
 public:
  explicit ServingProcess(std::vector<std::string> args) {
    int out[2], in[2];
    if (::pipe(out) != 0 || ::pipe(in) != 0) return;
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
  std::optional<std::string> wait_ready(std::chrono::milliseconds limit = kPatience) {
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

[[noreturn]] inline void fail(const std::string& why) {
  std::fprintf(stderr, "mesh bench: %s\n", why.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(1);  // from any thread: no destructors run under the actors' feet
}

}  // namespace bench::mesh
