// LogThrottle: at most one log line per source (an address) per interval, so that a stranger
// opening connections in a loop cannot fill the node's log (one warning per refusal was 450 KB/s
// from one client). A line that may be written says how many like it were held back since the
// last one. Sources are bounded: past `max_sources` ones heard from within an interval, the
// rest share one bucket. Thread-safe (an internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace troupe::net {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogThrottle(Clock::duration every = std::chrono::seconds(10),
                       std::size_t max_sources = 1024)
      : every_(every), max_sources_(max_sources) {}

  // A line about `source` may be written now: the number held back before it (0 for none).
  // nullopt: hold this one back (counted).
  std::optional<std::uint64_t> admit(std::string_view source, Clock::time_point now = Clock::now());
  // Lines held back so far, in all.
  std::uint64_t held_back() const;

 private:
  struct Source {
    Clock::time_point last;  // its last line written
    Clock::time_point seen;  // its last line written or held back
    std::uint64_t held = 0;
  };
  Clock::duration every_;
  std::size_t max_sources_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Source> sources_;
  Source others_{};  // sources past the bound
  bool others_seen_ = false;
  std::uint64_t held_back_ = 0;
};

// The host part of an endpoint's text ("127.0.0.1:41234", "::1:7450"; "unix" as it is): a
// source for the throttle, so one host's connections share it whatever their ports.
std::string_view host_of_endpoint(std::string_view endpoint);

}  // namespace troupe::net
