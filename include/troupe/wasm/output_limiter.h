// OutputLimiter: bounds what one guest writes to the node's log — WASI fd_write to stdout or
// stderr and the log-message import — in size and in rate, so that a guest can neither flood
// the log nor make the host buffer its output. A record longer than `record_bytes` keeps its
// first `record_bytes`; records pass while a token bucket (`bytes_per_second`, holding one
// second's worth) has room, each costing its kept bytes plus kRecordOverhead; the rest is
// dropped, never queued. Everything dropped or cut is counted, for a log line and for tests.
// One per actor (or per `troupe call`); not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace troupe::wasm {

struct OutputLimits {
  std::uint64_t record_bytes = 8192;       // [wasm] log_record_bytes
  std::uint64_t bytes_per_second = 65536;  // [wasm] log_bytes_per_s
};

// Process-wide totals of guest output (for tests and, later, metrics).
struct OutputCounters {
  std::uint64_t records = 0;          // records that went out (whole or cut)
  std::uint64_t dropped_records = 0;  // records dropped whole
  std::uint64_t dropped_bytes = 0;    // bytes of dropped records and cut tails
};
OutputCounters output_counters();

class OutputLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // What a record costs beyond its bytes, so that empty records are not free.
  static constexpr std::uint64_t kRecordOverhead = 64;

  explicit OutputLimiter(OutputLimits limits, Clock::time_point now = Clock::now());

  // How many of a record's `size` bytes may go out now (0: drop it all).
  std::size_t admit(std::size_t size, Clock::time_point now = Clock::now());

  // Drops since the last report: set at most once per `every` (and whenever `force`), for a
  // log line; nullopt when there is nothing to say yet.
  struct Report {
    std::uint64_t dropped_records, dropped_bytes;
  };
  std::optional<Report> report(bool force = false, Clock::time_point now = Clock::now(),
                               Clock::duration every = std::chrono::seconds(10));

  std::uint64_t dropped_records() const { return dropped_records_; }
  std::uint64_t dropped_bytes() const { return dropped_bytes_; }

 private:
  OutputLimits limits_;
  double tokens_;
  Clock::time_point last_refill_;
  std::uint64_t dropped_records_ = 0, dropped_bytes_ = 0;
  std::uint64_t reported_records_ = 0, reported_bytes_ = 0;
  std::optional<Clock::time_point> last_report_;
};

}  // namespace troupe::wasm
