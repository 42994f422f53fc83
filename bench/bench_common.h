// Shared by the troupe and CAF benchmark drivers: the workload sizes (so both run the same
// thing), timing, memory readings and the one-line result format bench.sh parses.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace bench {

inline constexpr int kWorkers = 2;
inline constexpr int kFanInSenders = 100;
inline constexpr int kFanInPerSender = 100'000;
inline constexpr int kPingPongRounds = 1'000'000;
inline constexpr int kSpawnActors = 1'000'000;
inline constexpr int kIdleActors = 1'000'000;
inline constexpr long kFloodMessages = 10'000'000;
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
  std::printf("RESULT %s %s %s %.6g peak_rss_mb=%.1f\n", impl, workload, metric, value,
              peak_rss_mb());
  std::fflush(stdout);
}

}  // namespace bench
