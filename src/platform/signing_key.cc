#include "troupe/platform/signing_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "troupe/base/encoding.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"

namespace troupe::platform {
namespace {

// A key file is one short line; anything longer is not a key file.
constexpr std::size_t kMaxKeyFileBytes = 1024;

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

Error io_error(const std::filesystem::path& file, const char* what) {
  return Error{BaseErrc::kIo,
               std::string(what) + " " + file.string() + ": " + std::strerror(errno)};
}

struct FileText {
  std::string text;
  mode_t mode = 0;
};

Result<FileText> read_key_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return io_error(file, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{BaseErrc::kIo, file.string() + " is not a regular file"};
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxKeyFileBytes) {
    ::close(fd);
    return Error{PlatformErrc::kMalformed, file.string() + " is too large for a key file"};
  }
  FileText out;
  out.mode = st.st_mode;
  out.text.resize(kMaxKeyFileBytes + 1);
  std::size_t got = 0;
  while (got < out.text.size()) {
    const ssize_t n = ::read(fd, out.text.data() + got, out.text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = io_error(file, "cannot read");
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > kMaxKeyFileBytes) {
    return Error{PlatformErrc::kMalformed, file.string() + " is too large for a key file"};
  }
  out.text.resize(got);
  return out;
}

// One base64 line (a final newline allowed) holding exactly `size` bytes.
Result<std::string> decode_line(std::string_view text, std::size_t size, const std::string& what) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != size) {
    return Error{PlatformErrc::kMalformed,
                 what + " is not one base64 line of " + std::to_string(size) + " bytes"};
  }
  return std::move(*bytes);
}

// actr's key files are JSON: `actr pkg keygen` writes {"private_key", "public_key",
// "created_at", "note"} (base64 seed and public key), and its public-key.json holds
// {"public_key"}. Both are read so that actr's keys sign and verify troupe's packages.
bool is_actr_keychain(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

struct ActrKeychain {
  std::optional<std::string> private_key;
  std::optional<std::string> public_key;
};

Result<ActrKeychain> actr_keychain_fields(const std::string& text,
                                          const std::filesystem::path& file) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return Error{PlatformErrc::kMalformed, file.string() + " is not a JSON key file"};
  }
  ActrKeychain out;
  for (const auto& [key, value] : doc.items()) {
    if (key != "private_key" && key != "public_key" && key != "created_at" && key != "note") {
      return Error{PlatformErrc::kMalformed, file.string() + ": unknown key " + key};
    }
    if (!value.is_string()) {
      return Error{PlatformErrc::kMalformed, file.string() + ": " + key + " is not a string"};
    }
    if (key == "private_key") out.private_key = value.get<std::string>();
    if (key == "public_key") out.public_key = value.get<std::string>();
  }
  return out;
}

// Creates `file` (never an existing one) holding `text`. A failed write removes the file it
// made: a full disk must not leave a half key that the next keygen refuses to replace.
Result<void> write_new_file(const std::filesystem::path& file, const std::string& text,
                            mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return io_error(file, "cannot create");
  auto failed = [&](int open_fd) {
    auto err = io_error(file, "cannot write");
    if (open_fd >= 0) ::close(open_fd);
    ::unlink(file.c_str());  // ours: made just now with O_EXCL
    return err;
  };
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed(fd);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return failed(fd);
  if (::close(fd) != 0) return failed(-1);
  return {};
}

}  // namespace

std::string key_id_of(const PublicKey& key) {
  const std::string_view bytes(reinterpret_cast<const char*>(key.data()), key.size());
  return "mfr-" + sha256_hex(bytes).substr(0, 16);
}

bool is_key_id(std::string_view text) {
  if (text.size() != 20 || text.substr(0, 4) != "mfr-") return false;
  for (char c : text.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string encode_public_key(const PublicKey& key) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

Result<PublicKey> decode_public_key(std::string_view text) {
  auto bytes = decode_line(text, crypto_sign_PUBLICKEYBYTES, "the public key");
  if (!bytes.ok()) return bytes.error();
  PublicKey key{};
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

bool verify_signature(const PublicKey& key, std::string_view message, const Signature& sig) {
  if (!sodium_ready()) return false;
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

SigningKey SigningKey::generate() {
  SigningKey key;
  if (!sodium_ready()) std::abort();  // no randomness: nothing safe to return
  crypto_sign_keypair(key.public_key_.data(), key.secret_.data());
  return key;
}

Result<SigningKey> SigningKey::from_seed(std::string_view seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return Error{PlatformErrc::kMalformed, "an Ed25519 seed is 32 bytes"};
  }
  if (!sodium_ready()) return Error{BaseErrc::kInternal, "libsodium failed to initialise"};
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return key;
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : secret_(other.secret_), public_key_(other.public_key_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    public_key_ = other.public_key_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

Signature SigningKey::sign(std::string_view message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_.data());
  return sig;
}

Result<std::string> write_key_files(const std::filesystem::path& dir, const SigningKey& key) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return io_error(dir, "cannot create");
  const auto secret_file = dir / kSecretKeyFile;
  const auto public_file = dir / kPublicKeyFile;
  // Both names must be free before either is written, so a refusal leaves nothing behind.
  struct stat st {};
  for (const auto& f : {secret_file, public_file}) {
    if (::lstat(f.c_str(), &st) == 0) {
      return Error{BaseErrc::kIo, f.string() + " exists: keygen never overwrites a key"};
    }
  }
  // The seed is the first half of libsodium's secret key.
  std::string seed_b64 = base64_encode(std::string_view(
      reinterpret_cast<const char*>(key.secret_for_file().data()), crypto_sign_SEEDBYTES));
  seed_b64 += '\n';
  auto wrote = write_new_file(secret_file, seed_b64, 0600);
  sodium_memzero(seed_b64.data(), seed_b64.size());
  if (!wrote.ok()) return wrote.error();
  if (auto r = write_new_file(public_file, encode_public_key(key.public_key()) + "\n", 0644); !r) {
    ::unlink(secret_file.c_str());  // a key pair or nothing
    return r.error();
  }
  return key.key_id();
}

Result<SigningKey> load_signing_key(const std::filesystem::path& file) {
  auto read = read_key_file(file);
  if (!read.ok()) return read.error();
  if ((read->mode & 077) != 0) {
    sodium_memzero(read->text.data(), read->text.size());
    return Error{BaseErrc::kRefused,
                 file.string() + " may be read by group or others: make it 0600"};
  }
  std::string line = std::move(read->text);
  std::optional<std::string> claimed_public;
  if (is_actr_keychain(line)) {
    auto fields = actr_keychain_fields(line, file);
    sodium_memzero(line.data(), line.size());
    if (!fields.ok()) return fields.error();
    if (!fields->private_key) {
      return Error{PlatformErrc::kMalformed, file.string() + " has no private_key"};
    }
    line = std::move(*fields->private_key);
    claimed_public = std::move(fields->public_key);
  }
  auto seed = decode_line(line, crypto_sign_SEEDBYTES, file.string());
  sodium_memzero(line.data(), line.size());
  if (!seed.ok()) return seed.error();
  auto key = SigningKey::from_seed(*seed);
  sodium_memzero(seed->data(), seed->size());
  if (key.ok() && claimed_public && *claimed_public != encode_public_key(key->public_key())) {
    return Error{PlatformErrc::kMalformed,
                 file.string() + ": public_key is not the private key's public key"};
  }
  return key;
}

Result<PublicKey> load_public_key(const std::filesystem::path& file) {
  auto read = read_key_file(file);
  if (!read.ok()) return read.error();
  std::string line = std::move(read->text);
  if (is_actr_keychain(line)) {
    auto fields = actr_keychain_fields(line, file);
    if (!fields.ok()) return fields.error();
    if (fields->private_key)
      sodium_memzero(fields->private_key->data(), fields->private_key->size());
    if (!fields->public_key) {
      return Error{PlatformErrc::kMalformed, file.string() + " has no public_key"};
    }
    line = *fields->public_key;
  }
  auto bytes = decode_line(line, crypto_sign_PUBLICKEYBYTES, file.string());
  if (!bytes.ok()) return bytes.error();
  PublicKey key{};
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

}  // namespace troupe::platform
