#include "troupe/platform/actor_store_path.h"

#include <algorithm>
#include <vector>

namespace troupe {
namespace {

bool allowed_byte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Printable in an error message whatever it holds: bytes outside the allowed set as \xNN, and
// no more than the cap plus a marker.
std::string quoted(std::string_view s) {
  std::string out = "'";
  const std::size_t shown = std::min(s.size(), kMaxStoragePathComponentBytes);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (shown < s.size()) out += "...";
  return out + "'";
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

Result<void> check_type(std::string_view type) {
  // Bounded before splitting, so a hostile type costs at most this much work.
  constexpr std::size_t kMaxTypeBytes = 3 * kMaxStoragePathComponentBytes + 2;
  if (type.size() > kMaxTypeBytes) {
    return Error{BaseErrc::kInvalidArgument, "actor type is " + std::to_string(type.size()) +
                                                 " bytes (at most " +
                                                 std::to_string(kMaxTypeBytes) + ")"};
  }
  const std::vector<std::string_view> parts = split(type, ':');
  // A native kind's registered name: one component (its stores live under a root of their
  // own, storage/native/, but no ':' keeps the shape apart from the others anyway).
  if (parts.size() == 1) return check_storage_component(parts[0], "native kind");
  if (parts.size() == 2 && parts[0] == kUnsignedTypePrefix) {
    if (Result<void> ok = check_storage_component(parts[1], "unsigned type's hash prefix");
        !ok.ok()) {
      return ok;
    }
    for (char c : parts[1]) {
      if (!lower_hex(c)) {
        return Error{BaseErrc::kInvalidArgument,
                     "unsigned type's hash prefix " + quoted(parts[1]) + " is not lowercase hex"};
      }
    }
    return {};
  }
  if (parts.size() != 3) {
    return Error{BaseErrc::kInvalidArgument,
                 "actor type " + quoted(type) +
                     " is neither manufacturer:name:version, unsigned:<hex> nor a native kind"};
  }
  if (parts[0] == kUnsignedTypePrefix) {
    return Error{BaseErrc::kInvalidArgument,
                 "actor type " + quoted(type) + ": the manufacturer 'unsigned' is reserved"};
  }
  static constexpr std::string_view kWhat[] = {"manufacturer", "package name", "version"};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (Result<void> ok = check_storage_component(parts[i], kWhat[i]); !ok.ok()) return ok;
  }
  return {};
}

}  // namespace

Result<void> check_storage_component(std::string_view component, std::string_view what) {
  const std::string name(what);
  if (component.empty()) return Error{BaseErrc::kInvalidArgument, name + " is empty"};
  if (component.size() > kMaxStoragePathComponentBytes) {
    return Error{BaseErrc::kInvalidArgument,
                 name + " " + quoted(component) + " is " + std::to_string(component.size()) +
                     " bytes (at most " + std::to_string(kMaxStoragePathComponentBytes) + ")"};
  }
  if (component == "." || component == "..") {
    return Error{BaseErrc::kInvalidArgument, name + " may not be " + quoted(component)};
  }
  for (char c : component) {
    if (!allowed_byte(c)) {
      return Error{BaseErrc::kInvalidArgument,
                   name + " " + quoted(component) + " has a byte outside [A-Za-z0-9._-]"};
    }
  }
  return {};
}

Result<ActorStoreDirs> actor_store_dirs(const ActorStoreId& id) {
  if (Result<void> ok = check_type(id.type); !ok.ok()) return ok.error();
  if (Result<void> ok = check_storage_component(id.name, "actor name"); !ok.ok()) {
    return ok.error();
  }
  return ActorStoreDirs{id.type, id.name};
}

std::string actor_store_file_path(const std::string& root, const ActorStoreDirs& dirs) {
  std::string path = root;
  if (path.empty() || path.back() != '/') path += '/';
  return path + dirs.type_dir + '/' + dirs.actor_dir + '/' + std::string(kStoreFileName);
}

}  // namespace troupe
