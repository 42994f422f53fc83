// base64url without padding (RFC 4648 §5, as JOSE uses it: RFC 7515 §2). Decoding is strict:
// only the URL-safe alphabet, no padding, no whitespace, no non-zero trailing bits, so one
// byte string has exactly one text form (a JWS cannot be altered into an equal one).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace troupe {

std::string base64url_encode(std::string_view bytes);
// nullopt on anything but the canonical encoding of some bytes.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace troupe
