#include "troupe/node/control_protocol.h"

#include "troupe/base/encoding.h"

namespace troupe::control {

std::string encode_frame(std::string_view payload) {
  std::string out(kHeader, '\0');
  put_u32_be(out.data(), static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

void put_bytes(nlohmann::json& j, const std::string& field, const Bytes& bytes) {
  if (is_valid_utf8(bytes)) {
    j[field] = bytes;
  } else {
    j[field + "_b64"] = base64_encode(bytes);
  }
}

Result<Bytes> get_bytes(const nlohmann::json& j, const std::string& field) {
  if (auto it = j.find(field); it != j.end()) {
    if (!it->is_string()) return Error{Errc::kProtocol, "'" + field + "' must be a string"};
    return it->get<std::string>();
  }
  if (auto it = j.find(field + "_b64"); it != j.end()) {
    if (!it->is_string()) return Error{Errc::kProtocol, "'" + field + "_b64' must be a string"};
    auto decoded = base64_decode(it->get<std::string>());
    if (!decoded) return Error{Errc::kProtocol, "'" + field + "_b64' is not valid base64"};
    return *decoded;
  }
  return Bytes{};
}

nlohmann::json error_response(const Error& e) {
  return nlohmann::json{{"ok", false}, {"error", e.to_string()}};
}

}  // namespace troupe::control
