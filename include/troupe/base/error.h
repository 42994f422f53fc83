// Error taxonomy shared by every layer: a closed code plus a human-readable detail.
// Values are plain data: copyable, thread-safe to pass around.
#pragma once

#include <string>
#include <string_view>

namespace troupe {

enum class Errc {
  kTimedOut,          // a deadline passed before the reply arrived
  kNotFound,          // no such actor, name, kind or file
  kDead,              // the target actor has terminated
  kHandlerError,      // the handler failed (threw or returned an error)
  kCallCycle,         // the request would wait on an actor that is already waiting on it
  kMailboxFull,       // a bounded mailbox refused the message (policy: fail)
  kInvalidArgument,   // malformed input from a caller
  kUnavailable,       // the system is shutting down or the service is not running
  kProtocol,          // a malformed or unexpected frame
  kIo,                // an operating-system call failed
  kBadReply,          // the reply had a different type than the asker expected
  kAbiViolation,      // a guest broke the canonical ABI (bad pointer, length, UTF-8, tag)
  kRefused,           // a guest module was refused at load (invalid, or outside the contract)
  kTrap,              // a guest trapped (unreachable, out-of-bounds access, stack exhausted, ...)
  kFuelExhausted,     // a guest used up the fuel of one invocation
  kDeadlineExceeded,  // a guest ran past the wall-clock deadline of one invocation
  kMemoryLimit,       // a guest needed more linear memory (or a bigger reply) than allowed
  kTooLarge,          // an input (file, frame, payload) is over its documented size cap
  kInternal,          // a bug: an invariant did not hold
};

std::string_view errc_name(Errc code);

struct Error {
  Errc code;
  std::string detail;

  Error(Errc c, std::string d = {})
      : code(c), detail(std::move(d)) {}  // NOLINT: implicit on purpose
  std::string to_string() const;
  friend bool operator==(const Error& a, const Error& b) { return a.code == b.code; }
};

}  // namespace troupe
