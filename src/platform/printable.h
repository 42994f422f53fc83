// printable: a value from a package (an entry name, a manifest string) made safe to put in a
// one-line error message — quoted, bytes outside printable ASCII as \xNN, cut after 80 — so a
// hostile name can neither break the line nor send escape sequences to a terminal. Internal to
// the platform library; pure.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace troupe::platform {

inline std::string printable(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

// The text itself when it is short printable ASCII (a key name as written), else printable():
// for messages that name what the input called something.
inline std::string shown(std::string_view text) {
  constexpr std::size_t kMaxPlain = 80;
  bool plain = text.size() <= kMaxPlain;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    plain = plain && c >= 0x20 && c < 0x7F;
  }
  return plain ? std::string(text) : printable(text);
}

}  // namespace troupe::platform
