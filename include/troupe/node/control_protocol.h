// The node's control protocol, spoken over a Unix-domain socket between `troupe` and a running
// node: each frame is a 4-byte big-endian length then that many bytes of JSON. Every request
// carries "v" (the protocol version) and "op"; every response has "ok" and either the result
// fields or "error" (one line, "KIND: detail"). Bytes that are not UTF-8 travel as base64 in
// "*_b64" fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"

namespace troupe::control {

inline constexpr int kVersion = 1;
// A request frame (CLI -> node) is at most 1 MiB. A response frame (node -> CLI) is at most
// 32 MiB: room for the largest reply a guest may give (16 MiB, wasm::Limits::max_reply_bytes)
// as base64. Both ends enforce both caps; a response over its cap becomes a too-large error.
inline constexpr std::size_t kMaxFrame = 1 << 20;
inline constexpr std::size_t kMaxResponseFrame = std::size_t{32} << 20;
inline constexpr std::size_t kHeader = 4;

std::string encode_frame(std::string_view payload);

// Puts bytes into `j[field]` (UTF-8 that JSON escapes to no more than base64 would take) or
// `j[field + "_b64"]` (anything else), so bytes never grow by more than a third on the wire.
// Returns the size of what it put there as it will be sent (escaped text or base64).
std::size_t put_bytes(nlohmann::json& j, const std::string& field, const Bytes& bytes);
// Reads what put_bytes wrote; an absent field is empty bytes.
Result<Bytes> get_bytes(const nlohmann::json& j, const std::string& field);

// The runtime names message types by typeid ("no handler for N6troupe8EnvelopeE"): people
// get the demangled name instead ("no handler for troupe::Envelope"). Other text is unchanged.
std::string readable_detail(std::string detail);

// An error answer; its detail goes through readable_detail.
nlohmann::json error_response(const Error& e);

}  // namespace troupe::control
