#include "troupe/base/toml_key_depth.h"

#include <string>

namespace troupe {

Result<void> check_toml_key_depth(std::string_view text) {
  // Outside strings and comments a '.' only joins key parts or sits in a number (one per
  // number); a key ends at '=', and a header at ']'. Counting the dots since the last such
  // boundary bounds every key's parts, whatever the whitespace around the dots.
  std::size_t dots = 0, line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      dots = 0;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      // Basic or literal string, single- or multi-line; basic strings have escapes.
      const bool multi = text.substr(i, 3) == std::string(3, c);
      const std::string_view close = multi ? std::string_view(c == '"' ? "\"\"\"" : "'''")
                                           : std::string_view(c == '"' ? "\"" : "'");
      std::size_t j = i + (multi ? 3 : 1);
      for (; j < text.size(); ++j) {
        if (c == '"' && text[j] == '\\') {
          ++j;
          continue;
        }
        if (text[j] == '\n') ++line;
        if (text.substr(j, close.size()) == close) break;
      }
      i = j + close.size() - 1;  // past the end when unterminated: toml++ reports it
    } else if (c == '=' || c == ']' || c == '[' || c == '{' || c == '}' || c == ',') {
      dots = 0;
    } else if (c == '.') {
      if (++dots >= kMaxTomlKeyParts) {
        return Error{BaseErrc::kInvalidArgument,
                     "line " + std::to_string(line) + ": a key with more than " +
                         std::to_string(kMaxTomlKeyParts) + " dotted parts"};
      }
    }
  }
  return {};
}

}  // namespace troupe
