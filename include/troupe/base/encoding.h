// Text encodings used at the edges: UTF-8 validation, base64 (RFC 4648, with padding), and
// big-endian integers for wire headers. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

bool is_valid_utf8(std::string_view s);
// `text` as an error line shows it (a file name a user gave): every C0 control character, DEL
// and the backslash as \xNN, so that a hostile name can neither start a second line that reads
// like another error nor send terminal escapes, and two names never show alike.
std::string printable_line(std::string_view text);
// Whether `text` is valid UTF-8 with no control character (C0, DEL, C1): text another party
// chose that may be shown in a terminal or a table as it is.
bool is_plain_text(std::string_view text);
// `text` with every byte outside printable ASCII (and the backslash) as \xNN: what another
// party sent, shown without trusting its encoding at all.
std::string escaped_ascii(std::string_view text);
std::string base64_encode(std::string_view bytes);
// nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

inline void put_u32_be(char* out, std::uint32_t v) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}
inline std::uint32_t get_u32_be(const char* in) {
  auto b = [in](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

}  // namespace troupe
