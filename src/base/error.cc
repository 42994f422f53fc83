#include "troupe/base/error.h"

namespace troupe {

std::string_view errc_name(BaseErrc code) {
  switch (code) {
    case BaseErrc::kInvalidArgument:
      return "invalid-argument";
    case BaseErrc::kNotFound:
      return "not-found";
    case BaseErrc::kTimedOut:
      return "timed-out";
    case BaseErrc::kUnavailable:
      return "unavailable";
    case BaseErrc::kRefused:
      return "refused";
    case BaseErrc::kIo:
      return "io";
    case BaseErrc::kTooLarge:
      return "too-large";
    case BaseErrc::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out(errc_name(code));
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

}  // namespace troupe
