#include "troupe/platform/master_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cstring>

#include "troupe/platform/platform_error.h"
#include "troupe/platform/private_file.h"

namespace troupe {
namespace {

constexpr std::string_view kSaltMagic = "TRPSALT1";
constexpr std::size_t kSaltFileBytes =
    kSaltMagic.size() + 8 + 8 + MasterKey::kSaltBytes + std::tuple_size_v<MasterKey::KeyId>;
constexpr std::size_t kMaxPassphraseBytes = 4096;
// What the fingerprint hashes, under the key itself.
constexpr std::string_view kKeyIdContext = "troupe master key id v1";

static_assert(MasterKey::kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(MasterKey::kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(MasterKey::kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(MasterKey::kSaltBytes == crypto_pwhash_SALTBYTES);

void put_u64(std::string& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>(v >> s);
}
std::uint64_t get_u64(const char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

bool exists_in(const PrivateDir& dir, std::string_view name) {
  struct stat st {};
  return ::fstatat(dir.fd(), std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Result<void> check_limits(const PassphraseLimits& limits, const std::string& where) {
  if (limits.ops < PassphraseLimits::kMinOps || limits.ops > PassphraseLimits::kMaxOps) {
    return Error{BaseErrc::kInvalidArgument, where + "Argon2id ops limit " +
                                                 std::to_string(limits.ops) + " is outside " +
                                                 std::to_string(PassphraseLimits::kMinOps) + ".." +
                                                 std::to_string(PassphraseLimits::kMaxOps)};
  }
  if (limits.mem_bytes < PassphraseLimits::kMinMemBytes ||
      limits.mem_bytes > PassphraseLimits::kMaxMemBytes) {
    return Error{BaseErrc::kInvalidArgument,
                 where + "Argon2id memory limit " + std::to_string(limits.mem_bytes) +
                     " bytes is outside " + std::to_string(PassphraseLimits::kMinMemBytes) + ".." +
                     std::to_string(PassphraseLimits::kMaxMemBytes)};
  }
  return {};
}

}  // namespace

void MasterKey::compute_key_id() {
  crypto_generichash(key_id_.data(), key_id_.size(),
                     reinterpret_cast<const unsigned char*>(kKeyIdContext.data()),
                     kKeyIdContext.size(), key_.data(), key_.size());
}

std::string MasterKey::key_id_hex() const {
  char hex[2 * std::tuple_size_v<KeyId> + 1];
  sodium_bin2hex(hex, sizeof hex, key_id_.data(), key_id_.size());
  return hex;
}

Result<MasterKey> MasterKey::load_or_create(const std::string& dir_path) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  auto dir = PrivateDir::open(dir_path);
  if (!dir.ok()) return dir.error();
  if (exists_in(*dir, kSaltFileName)) {
    return Error{BaseErrc::kRefused, dir->path_of(kSaltFileName) +
                                         " exists: this node's master key comes from a passphrase"};
  }
  MasterKey key;
  // Read, or make and publish (never over an existing file); a start that lost the race to
  // another reads the winner's key on the second pass.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto read = read_private_secret(*dir, kKeyFileName, private_file_rule(kKeyBytes, kKeyBytes));
    if (read.ok()) {
      key.key_ = std::move(read).value();
      key.compute_key_id();
      return key;
    }
    if (read.error().code != BaseErrc::kNotFound) return read.error();
    auto fresh = SecretBuffer::allocate(kKeyBytes);
    if (!fresh.ok()) return fresh.error();
    crypto_aead_xchacha20poly1305_ietf_keygen(fresh->data());
    auto written = write_private_file(
        *dir, kKeyFileName,
        std::string_view(reinterpret_cast<const char*>(fresh->data()), fresh->size()),
        WriteMode::kCreateOnly);
    if (!written.ok()) return written.error();
    if (!written->exists) {
      key.key_ = std::move(fresh).value();
      key.compute_key_id();
      return key;
    }
  }
  return Error{BaseErrc::kIo, dir->path_of(kKeyFileName) + " appeared and vanished while read"};
}

Result<MasterKey> MasterKey::derive(std::string_view passphrase,
                                    const std::array<std::uint8_t, kSaltBytes>& salt,
                                    const PassphraseLimits& limits) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  if (passphrase.empty()) return Error{BaseErrc::kInvalidArgument, "the passphrase is empty"};
  if (passphrase.size() > kMaxPassphraseBytes) {
    return Error{BaseErrc::kInvalidArgument,
                 "the passphrase is over " + std::to_string(kMaxPassphraseBytes) + " bytes"};
  }
  if (auto ok = check_limits(limits, ""); !ok.ok()) return ok.error();
  auto buffer = SecretBuffer::allocate(kKeyBytes);
  if (!buffer.ok()) return buffer.error();
  if (crypto_pwhash(buffer->data(), buffer->size(), passphrase.data(), passphrase.size(),
                    salt.data(), limits.ops, limits.mem_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error{BaseErrc::kInternal, "Argon2id ran out of memory (" +
                                          std::to_string(limits.mem_bytes) + " bytes asked)"};
  }
  MasterKey key;
  key.key_ = std::move(buffer).value();
  key.compute_key_id();
  return key;
}

Result<MasterKey> MasterKey::from_passphrase(const std::string& dir_path,
                                             std::string_view passphrase,
                                             const PassphraseLimits& limits_if_new) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  auto dir = PrivateDir::open(dir_path);
  if (!dir.ok()) return dir.error();
  if (exists_in(*dir, kKeyFileName)) {
    return Error{BaseErrc::kRefused,
                 dir->path_of(kKeyFileName) + " exists: this node's master key is a key file"};
  }
  const std::string salt_path = dir->path_of(kSaltFileName);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto text =
        read_private_file(*dir, kSaltFileName, private_file_rule(kSaltFileBytes, kSaltFileBytes));
    if (text.ok()) {
      const char* p = text->data();
      if (std::string_view(p, kSaltMagic.size()) != kSaltMagic) {
        return Error{PlatformErrc::kMalformed, salt_path + " is not a troupe passphrase salt"};
      }
      p += kSaltMagic.size();
      PassphraseLimits limits;
      limits.ops = get_u64(p);
      const std::uint64_t mem = get_u64(p + 8);
      if (mem > PassphraseLimits::kMaxMemBytes) {
        return Error{PlatformErrc::kMalformed,
                     salt_path + " asks for " + std::to_string(mem) + " bytes of Argon2id memory"};
      }
      limits.mem_bytes = static_cast<std::size_t>(mem);
      if (auto ok = check_limits(limits, salt_path + ": "); !ok.ok()) {
        return Error{PlatformErrc::kMalformed, ok.error().detail};
      }
      p += 16;
      std::array<std::uint8_t, kSaltBytes> salt{};
      std::memcpy(salt.data(), p, salt.size());
      p += salt.size();
      auto key = derive(passphrase, salt, limits);
      if (!key.ok()) return key.error();
      if (sodium_memcmp(key->key_id().data(), p, key->key_id().size()) != 0) {
        return Error{PlatformErrc::kMasterKeyMismatch,
                     "the passphrase does not match the one " + salt_path + " was made with"};
      }
      return key;
    }
    if (text.error().code != BaseErrc::kNotFound) return text.error();
    if (auto ok = check_limits(limits_if_new, ""); !ok.ok()) return ok.error();
    std::array<std::uint8_t, kSaltBytes> salt{};
    randombytes_buf(salt.data(), salt.size());
    auto key = derive(passphrase, salt, limits_if_new);
    if (!key.ok()) return key.error();
    std::string file(kSaltMagic);
    put_u64(file, limits_if_new.ops);
    put_u64(file, limits_if_new.mem_bytes);
    file.append(reinterpret_cast<const char*>(salt.data()), salt.size());
    file.append(reinterpret_cast<const char*>(key->key_id().data()), key->key_id().size());
    auto written = write_private_file(*dir, kSaltFileName, file, WriteMode::kCreateOnly);
    if (!written.ok()) return written.error();
    if (!written->exists) return key;
  }
  return Error{BaseErrc::kIo, salt_path + " appeared and vanished while read"};
}

std::string MasterKey::seal(std::string_view associated, const unsigned char* plain,
                            std::size_t plain_size) const {
  std::string out(kNonceBytes + plain_size + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceBytes, &written, plain, plain_size,
      reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nullptr, nonce,
      key_.data());
  return out;
}

Result<SecretBuffer> MasterKey::open(std::string_view associated, std::string_view sealed) const {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Error{PlatformErrc::kDamaged, "the sealed bytes are too short"};
  }
  auto plain = SecretBuffer::allocate(sealed.size() - kNonceBytes - kTagBytes);
  if (!plain.ok()) return plain.error();
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  unsigned long long got = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain->data(), &got, nullptr, nonce + kNonceBytes, sealed.size() - kNonceBytes,
          reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nonce,
          key_.data()) != 0) {
    return Error{PlatformErrc::kDamaged, "authentication failed"};
  }
  return std::move(plain).value();
}

}  // namespace troupe
