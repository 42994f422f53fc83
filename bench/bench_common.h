// Shared by the troupe and CAF benchmark drivers: the workload sizes (so both run the same
// thing), timing, memory readings and the one-line result format bench.sh parses.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace bench {

// TROUPE_BENCH_QUICK=1 (scripts/bench.sh --quick) divides every workload size by 100: a smoke
// run that checks the drivers and the scripts, never a figure (report() marks its lines).
inline bool quick() {
  static const bool q = [] {
    const char* e = std::getenv("TROUPE_BENCH_QUICK");
    return e != nullptr && std::string(e) == "1";
  }();
  return q;
}
inline long sized(long n) { return quick() ? std::max(1L, n / 100) : n; }

inline constexpr int kWorkers = 2;
inline const int kFanInSenders = 100;
inline const int kFanInPerSender = static_cast<int>(sized(100'000));
inline const int kPingPongRounds = static_cast<int>(sized(1'000'000));
inline const int kSpawnActors = static_cast<int>(sized(1'000'000));
inline const int kIdleActors = static_cast<int>(sized(1'000'000));
inline const long kFloodMessages = sized(10'000'000);
inline constexpr int kFloodBatch = 256;           // producer sends this many per handler run
inline constexpr std::size_t kFloodBound = 4096;  // troupe's bounded mailbox

// The slow consumer's work per message: a few hundred ns of arithmetic the compiler keeps.
inline std::uint64_t slow_work(std::uint64_t x) {
  for (int i = 0; i < 100; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

inline double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Blocks the main thread until an actor signals completion.
struct Done {
  std::atomic<bool> flag{false};
  void set() {
    flag.store(true);
    flag.notify_all();
  }
  void wait() { flag.wait(false); }
};

inline void report(const char* impl, const char* workload, const char* metric, double value) {
  std::printf("RESULT %s %s %s %.6g peak_rss_mb=%.1f%s\n", impl, workload, metric, value,
              peak_rss_mb(), quick() ? " quick" : "");
  std::fflush(stdout);
}

}  // namespace bench
