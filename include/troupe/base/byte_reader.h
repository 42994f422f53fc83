// ByteReader and the put_* writers: the big-endian integers, counted strings and raw spans the
// binary wire formats (mesh frames, membership messages, remote envelopes) are made of. Every
// read checks the bytes left first and fails with the code and context the format gives (its
// layer's "malformed"), naming what was truncated and where; nothing is ever read past the end.
// Plain values over a borrowed view; not thread-safe (one decoder at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "troupe/base/bytes.h"
#include "troupe/base/error.h"
#include "troupe/base/result.h"

namespace troupe {

inline void put_u8(Bytes& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
inline void put_u16(Bytes& out, std::uint16_t v) {
  put_u8(out, static_cast<std::uint8_t>(v >> 8));
  put_u8(out, static_cast<std::uint8_t>(v));
}
inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) put_u8(out, static_cast<std::uint8_t>(v >> shift));
}
inline void put_u64(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) put_u8(out, static_cast<std::uint8_t>(v >> shift));
}

class ByteReader {
 public:
  // `code` and `context` make every error: "CONTEXT: truncated WHAT at byte N".
  ByteReader(BytesView bytes, ErrorCode code, std::string context)
      : bytes_(bytes), code_(code), context_(std::move(context)) {}

  std::size_t left() const { return bytes_.size() - pos_; }
  std::size_t position() const { return pos_; }

  Result<std::uint8_t> u8(const char* what) { return integer<std::uint8_t>(what); }
  Result<std::uint16_t> u16(const char* what) { return integer<std::uint16_t>(what); }
  Result<std::uint32_t> u32(const char* what) { return integer<std::uint32_t>(what); }
  Result<std::uint64_t> u64(const char* what) { return integer<std::uint64_t>(what); }
  Result<BytesView> take(std::size_t n, const char* what) {
    if (left() < n) return truncated(what);
    BytesView v = bytes_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  BytesView rest() {
    BytesView v = bytes_.substr(pos_);
    pos_ = bytes_.size();
    return v;
  }
  // An error of this format's code and context.
  Error error(const std::string& detail) const { return Error{code_, context_ + ": " + detail}; }

 private:
  template <class T>
  Result<T> integer(const char* what) {
    if (left() < sizeof(T)) return truncated(what);
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(bytes_[pos_++]));
    }
    return v;
  }
  Error truncated(const char* what) const {
    return error(std::string("truncated ") + what + " at byte " + std::to_string(pos_));
  }

  BytesView bytes_;
  std::size_t pos_ = 0;
  ErrorCode code_;
  std::string context_;
};

// Declares `var` from a Result-returning read, returning its error from the enclosing function.
// `var` is a name being declared: it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TROUPE_READ(var, expr)               \
  auto var##_r = (expr);                     \
  if (!var##_r.ok()) return var##_r.error(); \
  auto var = std::move(*var##_r)
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace troupe
