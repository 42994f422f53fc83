#include "troupe/net/log_throttle.h"

#include <utility>

namespace troupe::net {

std::optional<std::uint64_t> LogThrottle::admit(std::string_view source, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(std::string(source));
  if (it == sources_.end() && sources_.size() >= max_sources_) {
    // Forget the ones quiet for an interval first; still full: the shared bucket.
    std::erase_if(sources_, [&](const auto& entry) { return now - entry.second.seen >= every_; });
  }
  Source* s = nullptr;
  bool first = false;
  if (it != sources_.end()) {
    s = &it->second;
  } else if (sources_.size() < max_sources_) {
    s = &sources_.emplace(std::string(source), Source{now, now, 0}).first->second;
    first = true;
  } else {
    s = &others_;
    first = !others_seen_;
    others_seen_ = true;
  }
  s->seen = now;
  if (first || now - s->last >= every_) {
    s->last = now;
    return std::exchange(s->held, 0);
  }
  ++s->held;
  ++held_back_;
  return std::nullopt;
}

std::uint64_t LogThrottle::held_back() const {
  std::lock_guard lock(mutex_);
  return held_back_;
}

std::string_view host_of_endpoint(std::string_view endpoint) {
  const auto colon = endpoint.rfind(':');
  return colon == std::string_view::npos ? endpoint : endpoint.substr(0, colon);
}

}  // namespace troupe::net
