// Shared by the two-process mesh benchmark drivers (troupe_mesh_bench.cc, caf_mesh_bench.cc):
// the workload sizes and the send window, so both sides run the same thing.
// Plain values and a per-sender Window (used by one actor at a time); fail() may be called
// from any thread.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "bench_common.h"
#include "serving_process.h"

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
// sends the next window when an answer comes. Remote tells are at most once on both sides and
// CAF's remote actors have no flow control, so an unwindowed flood would measure buffering, not
// delivery (troupe's credit-based flow control holds rather than drops); both sides run the
// same flow.
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

[[noreturn]] inline void fail(const std::string& why) {
  std::fprintf(stderr, "mesh bench: %s\n", why.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(1);  // from any thread: no destructors run under the actors' feet
}

}  // namespace bench::mesh
