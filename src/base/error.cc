#include "troupe/base/error.h"

namespace troupe {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kTimedOut:
      return "timed-out";
    case Errc::kNotFound:
      return "not-found";
    case Errc::kDead:
      return "dead";
    case Errc::kHandlerError:
      return "handler-error";
    case Errc::kCallCycle:
      return "call-cycle";
    case Errc::kMailboxFull:
      return "mailbox-full";
    case Errc::kInvalidArgument:
      return "invalid-argument";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kProtocol:
      return "protocol";
    case Errc::kIo:
      return "io";
    case Errc::kBadReply:
      return "bad-reply";
    case Errc::kAbiViolation:
      return "abi-violation";
    case Errc::kRefused:
      return "refused";
    case Errc::kTrap:
      return "trap";
    case Errc::kFuelExhausted:
      return "fuel-exhausted";
    case Errc::kDeadlineExceeded:
      return "deadline-exceeded";
    case Errc::kMemoryLimit:
      return "memory-limit";
    case Errc::kTooLarge:
      return "too-large";
    case Errc::kInternal:
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
