#include "troupe/wasm/output_limiter.h"

#include <algorithm>
#include <atomic>

namespace troupe::wasm {
namespace {

std::atomic<std::uint64_t> g_records{0}, g_dropped_records{0}, g_dropped_bytes{0};

}  // namespace

OutputCounters output_counters() {
  return {g_records.load(), g_dropped_records.load(), g_dropped_bytes.load()};
}

OutputLimiter::OutputLimiter(OutputLimits limits, Clock::time_point now)
    : limits_(limits), tokens_(static_cast<double>(limits.bytes_per_second)), last_refill_(now) {}

std::size_t OutputLimiter::admit(std::size_t size, Clock::time_point now) {
  const double rate = static_cast<double>(limits_.bytes_per_second);
  if (now > last_refill_) {
    const double seconds = std::chrono::duration<double>(now - last_refill_).count();
    tokens_ = std::min(rate, tokens_ + seconds * rate);
    last_refill_ = now;
  }
  const std::uint64_t kept = std::min<std::uint64_t>(size, limits_.record_bytes);
  const double cost = static_cast<double>(kept + kRecordOverhead);
  if (cost > tokens_) {
    ++dropped_records_;
    dropped_bytes_ += size;
    g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    g_dropped_bytes.fetch_add(size, std::memory_order_relaxed);
    return 0;
  }
  tokens_ -= cost;
  dropped_bytes_ += size - kept;
  g_records.fetch_add(1, std::memory_order_relaxed);
  g_dropped_bytes.fetch_add(size - kept, std::memory_order_relaxed);
  return static_cast<std::size_t>(kept);
}

std::optional<OutputLimiter::Report> OutputLimiter::report(bool force, Clock::time_point now,
                                                           Clock::duration every) {
  if (dropped_records_ == reported_records_ && dropped_bytes_ == reported_bytes_) {
    return std::nullopt;
  }
  if (!force && last_report_ && now - *last_report_ < every) return std::nullopt;
  last_report_ = now;
  Report r{dropped_records_ - reported_records_, dropped_bytes_ - reported_bytes_};
  reported_records_ = dropped_records_;
  reported_bytes_ = dropped_bytes_;
  return r;
}

}  // namespace troupe::wasm
