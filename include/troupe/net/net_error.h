// NetErrc: the codes the net layer (wire, preamble, Noise handshake, framing, connections)
// produces. They travel as ErrorCode (base/error_code.h) beside the shared BaseErrc codes.
// The names appear in logs and in `troupe` output as `error: KIND: detail` (docs/PROTOCOL.md):
// never rename one. Plain values, thread-safe.
#pragma once

#include <string_view>

#include "troupe/base/error_code.h"

namespace troupe {

enum class NetErrc {
  kMalformed,         // bytes that break the wire format (preamble, frame, Noise message)
  kVersionMismatch,   // the peer speaks another protocol version
  kSchemaMismatch,    // the peer's frame schema hash differs from ours
  kFeatureMismatch,   // the peer lacks a feature this node requires
  kHandshakeFailed,   // the Noise handshake failed (bad key, tampered prologue or message)
  kDecryptFailed,     // a transport message failed authentication
  kIdentityMismatch,  // the peer's Noise static key is not the identity it announced
  kNotAllowed,        // the peer's identity is not on this node's allowlist
  kFrameTooLarge,     // a frame or reassembled message over its cap
  kClosed,            // the connection is closed
  kUnreachable,       // no connection to the peer could be made
  kOverloaded,        // a send queue or lane is full
};

std::string_view errc_name(NetErrc code);
inline constexpr ErrorDomain kNetErrorDomain = make_error_domain<NetErrc>("net");
constexpr const ErrorDomain& error_domain(NetErrc) { return kNetErrorDomain; }

}  // namespace troupe
