// toml_quote: a string as a TOML basic string ("..."), escaping quotes, backslashes and control
// characters, for the manifests the builder writes. Internal to the platform library; pure.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace troupe::platform {

inline std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace troupe::platform
