// parse_strict_json_object: parses text the platform must judge exactly (a JWS header or
// payload): one JSON object, valid UTF-8, nesting at most `max_depth` deep, and no member name
// twice in one object — so no two readers can disagree on what it says (nlohmann's parser
// would keep the last of two "alg" members). Internal to src/platform; pure, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace troupe::platform_detail {

std::optional<nlohmann::json> parse_strict_json_object(std::string_view text, int max_depth);

}  // namespace troupe::platform_detail
