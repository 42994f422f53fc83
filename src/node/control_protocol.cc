#include "troupe/node/control_protocol.h"

#include <cxxabi.h>

#include <cctype>
#include <cstdlib>
#include <optional>

#include "troupe/base/encoding.h"
#include "troupe/node/node_error.h"

namespace troupe::control {

std::string encode_frame(std::string_view payload) {
  std::string out(kHeader, '\0');
  put_u32_be(out.data(), static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

namespace {

// The size of `bytes` as a JSON string body (control characters take up to six bytes each).
std::size_t escaped_size(const Bytes& bytes) {
  std::size_t n = 0;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      ++n;
    }
  }
  return n;
}

}  // namespace

std::size_t put_bytes(nlohmann::json& j, const std::string& field, const Bytes& bytes) {
  const std::size_t escaped = escaped_size(bytes);
  const std::size_t base64 = (bytes.size() + 2) / 3 * 4;
  if (escaped <= base64 && is_valid_utf8(bytes)) {
    j[field] = bytes;
    return escaped;
  }
  j[field + "_b64"] = base64_encode(bytes);
  return base64;
}

Result<Bytes> get_bytes(const nlohmann::json& j, const std::string& field) {
  if (auto it = j.find(field); it != j.end()) {
    if (!it->is_string()) return Error{NodeErrc::kProtocol, "'" + field + "' must be a string"};
    return it->get<std::string>();
  }
  if (auto it = j.find(field + "_b64"); it != j.end()) {
    if (!it->is_string()) return Error{NodeErrc::kProtocol, "'" + field + "_b64' must be a string"};
    auto decoded = base64_decode(it->get<std::string>());
    if (!decoded) return Error{NodeErrc::kProtocol, "'" + field + "_b64' is not valid base64"};
    return *decoded;
  }
  return Bytes{};
}

namespace {

// Whether the demangled form of `name` stays about as long as `name`. The text comes from
// anyone (a guest's error, a control request's unknown op): a back-reference (S_, S0_, ...) or
// a template parameter (T_, T0_, ...) names an earlier part again, and nesting them doubles
// the output per level, so 200 bytes would demangle to gigabytes. Names without them print
// each part once; longer names than a type's are not worth a demangler run either.
bool demangles_small(const std::string& name) {
  constexpr std::size_t kMostNameBytes = 512;
  if (name.size() > kMostNameBytes) return false;
  for (std::size_t i = 0; i + 1 < name.size(); ++i) {
    const auto next = static_cast<unsigned char>(name[i + 1]);
    const bool reference = next == '_' || std::isdigit(next) != 0 || std::isupper(next) != 0;
    if ((name[i] == 'S' || name[i] == 'T') && reference) return false;
  }
  return true;
}

// The demangled form of a typeid name; nullopt for anything that is not one.
std::optional<std::string> demangled_type(const std::string& name) {
  // typeid names of classes start with a length (global) or N (nested) or S (std).
  const char first = name[0];
  if (std::isdigit(static_cast<unsigned char>(first)) == 0 && first != 'N' && first != 'S') {
    return std::nullopt;
  }
  if (!demangles_small(name)) return std::nullopt;
  int status = -1;
  char* text = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  std::optional<std::string> out;
  if (status == 0 && text != nullptr) out = text;
  std::free(text);
  return out;
}

}  // namespace

std::string readable_detail(std::string detail) {
  for (std::string_view lead : {"no handler for ", "expected reply of type ", ", got "}) {
    for (std::size_t at = detail.find(lead); at != std::string::npos;
         at = detail.find(lead, at + 1)) {
      std::size_t begin = at + lead.size();
      std::size_t end = begin;
      while (end < detail.size() &&
             (std::isalnum(static_cast<unsigned char>(detail[end])) || detail[end] == '_')) {
        ++end;
      }
      if (end == begin) continue;
      if (auto name = demangled_type(detail.substr(begin, end - begin))) {
        detail.replace(begin, end - begin, *name);
      }
    }
  }
  return detail;
}

nlohmann::json error_response(const Error& e) {
  return nlohmann::json{{"ok", false},
                        {"error", Error{e.code, readable_detail(e.detail)}.to_string()}};
}

}  // namespace troupe::control
