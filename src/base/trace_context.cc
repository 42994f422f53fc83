#include "troupe/base/trace_context.h"

#include <random>

namespace troupe {
namespace {

template <std::size_t N>
void fill_random_nonzero(std::array<std::uint8_t, N>& out) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  for (;;) {
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t r = gen();
      for (std::size_t k = 0; k < 8 && i + k < N; ++k) out[i + k] = static_cast<std::uint8_t>(r >> (8 * k));
    }
    for (std::uint8_t b : out) {
      if (b != 0) return;
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not allowed
}

template <std::size_t N>
bool read_hex(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  bool nonzero = false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    nonzero = nonzero || out[i] != 0;
  }
  return nonzero || N == 1;
}

template <std::size_t N>
void write_hex(std::string& out, const std::array<std::uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
}

}  // namespace

std::optional<TraceContext> TraceContext::parse(std::string_view text) {
  // version(2) '-' trace-id(32) '-' parent-id(16) '-' flags(2) = 55 characters.
  constexpr std::size_t kLength = 55;
  if (text.size() < kLength || text[2] != '-' || text[35] != '-' || text[52] != '-') {
    return std::nullopt;
  }
  std::array<std::uint8_t, 1> version{}, flags{};
  if (!read_hex(text.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
  // Version 00 is exactly 55 characters; a later one may append fields after a '-'.
  if (version[0] == 0 ? text.size() != kLength : (text.size() > kLength && text[kLength] != '-')) {
    return std::nullopt;
  }
  TraceContext t;
  if (!read_hex(text.substr(3, 32), t.trace_id) || !read_hex(text.substr(36, 16), t.span_id) ||
      !read_hex(text.substr(53, 2), flags)) {
    return std::nullopt;
  }
  t.flags = flags[0];
  return t;
}

TraceContext TraceContext::fresh() {
  TraceContext t;
  fill_random_nonzero(t.trace_id);
  fill_random_nonzero(t.span_id);
  return t;
}

TraceContext TraceContext::child() const {
  TraceContext t = *this;
  fill_random_nonzero(t.span_id);
  return t;
}

std::string TraceContext::next_hop(std::string_view incoming) {
  auto parsed = parse(incoming);
  return (parsed ? parsed->child() : fresh()).to_string();
}

std::string TraceContext::to_string() const {
  std::string out = "00-";
  out.reserve(55);
  write_hex(out, trace_id);
  out.push_back('-');
  write_hex(out, span_id);
  out.push_back('-');
  write_hex(out, std::array<std::uint8_t, 1>{flags});
  return out;
}

}  // namespace troupe
