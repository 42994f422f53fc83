// counter (C++): "inc" adds the payload's number (1 when empty) and replies with the new
// value; "get" replies with it. State lives in the instance, so a restart starts again at 0.
#include <charconv>
#include <cstdint>
#include <string>
#include <troupe/actr.hpp>

namespace {

std::int64_t count = 0;

actr::Result<std::string> handle(const actr::Envelope& e) {
  if (e.route == "inc") {
    std::int64_t by = 1;
    if (!e.payload.empty()) {
      auto [end, ec] = std::from_chars(e.payload.data(), e.payload.data() + e.payload.size(), by);
      if (ec != std::errc() || end != e.payload.data() + e.payload.size()) {
        return actr::Error{ACTR_INVALID_ARGUMENT, "not a number: " + std::string(e.payload)};
      }
    }
    count += by;
    return std::to_string(count);
  }
  if (e.route == "get") return std::to_string(count);
  return actr::Error{ACTR_UNKNOWN_ROUTE, "counter has no route '" + std::string(e.route) + "'"};
}

actr_status started() {
  actr::log("info", "counter starting at 0");
  return ACTR_OK;
}

}  // namespace

ACTR_CPP_DISPATCH(handle)
ACTR_ON_START(started)
