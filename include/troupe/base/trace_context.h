// TraceContext: a W3C Trace Context `traceparent` (version 00): the trace id every hop of one
// causal chain shares, the id of the span that made this hop (the parent of the next), and
// the flags. An Envelope carries it as text; each ask or tell made while handling one is sent
// with child() of it, so a trace follows a request through actors, guests and (later) nodes.
// Values are plain data; fresh() and child() draw ids from a per-thread generator (ids, not
// secrets), so they are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

struct TraceContext {
  std::array<std::uint8_t, 16> trace_id{};
  std::array<std::uint8_t, 8> span_id{};
  std::uint8_t flags = 0x01;  // sampled

  // Strict: "00-<32 hex>-<16 hex>-<2 hex>", lower case, neither id all zeros. A later version
  // is read by its first four fields, as the spec asks; version ff is invalid.
  static std::optional<TraceContext> parse(std::string_view traceparent);
  // A new trace with a new span.
  static TraceContext fresh();
  // The same trace, a new span id.
  TraceContext child() const;
  // The next hop's traceparent while handling `incoming`: its child, or a fresh trace when it
  // is empty or malformed.
  static std::string next_hop(std::string_view incoming);
  std::string to_string() const;

  friend bool operator==(const TraceContext&, const TraceContext&) = default;
};

}  // namespace troupe
