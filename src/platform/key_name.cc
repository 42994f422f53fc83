#include "troupe/platform/key_name.h"

#include <sodium.h>

#include "troupe/base/encoding.h"

namespace troupe {
namespace {
constexpr std::string_view kRecordSuffix = ".key";
constexpr std::size_t kHashBytes = 16;
// Separates these hashes from any other BLAKE2b use of the same names.
constexpr unsigned char kPersonal[crypto_generichash_blake2b_PERSONALBYTES] = {
    't', 'r', 'o', 'u', 'p', 'e', '-', 'k', 'e', 'y', '-', 'n', 'a', 'm', 'e', '1'};
}  // namespace

Result<void> check_key_name(std::string_view name) {
  if (name.empty()) return Error{BaseErrc::kInvalidArgument, "a key name is empty"};
  if (name.size() > kMaxKeyNameBytes) {
    return Error{BaseErrc::kInvalidArgument, "a key name is " + std::to_string(name.size()) +
                                                 " bytes (at most " +
                                                 std::to_string(kMaxKeyNameBytes) + ")"};
  }
  if (!is_valid_utf8(name)) {
    return Error{BaseErrc::kInvalidArgument, "a key name is not valid UTF-8"};
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    // C0 and DEL as bytes; C1 (U+0080..U+009F) is encoded as 0xC2 0x80..0x9F.
    const bool c1 = c == 0xC2 && i + 1 < name.size() &&
                    static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(name[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      return Error{BaseErrc::kInvalidArgument, "a key name holds a control character"};
    }
  }
  return {};
}

std::string key_record_file_name(std::string_view name) {
  unsigned char hash[kHashBytes];
  crypto_generichash_blake2b_salt_personal(hash, sizeof hash,
                                           reinterpret_cast<const unsigned char*>(name.data()),
                                           name.size(), nullptr, 0, nullptr, kPersonal);
  char hex[2 * kHashBytes + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string(hex) + std::string(kRecordSuffix);
}

bool is_key_record_file_name(std::string_view file_name) {
  if (file_name.size() != 2 * kHashBytes + kRecordSuffix.size()) return false;
  if (file_name.substr(2 * kHashBytes) != kRecordSuffix) return false;
  for (char c : file_name.substr(0, 2 * kHashBytes)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace troupe
