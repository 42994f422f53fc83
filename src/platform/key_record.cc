#include "key_record.h"

#include <sodium.h>

#include <cstring>

#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

constexpr std::string_view kMagic = "TRPKEY01";
constexpr std::size_t kSeedBytes = crypto_sign_SEEDBYTES;
constexpr std::size_t kRetiredBytes = 32 + 8 + 8;
constexpr std::size_t kFixedPlainBytes = kSeedBytes + 8 + 4;

void put_be(unsigned char* out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(v);
    v >>= 8;
  }
}
std::uint64_t get_be(const unsigned char* in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[i];
  return v;
}

std::string make_header(const MasterKey& master, std::string_view name) {
  std::string header(kMagic);
  header.append(reinterpret_cast<const char*>(master.key_id().data()), master.key_id().size());
  header += static_cast<char>(name.size() >> 8);
  header += static_cast<char>(name.size() & 0xff);
  header.append(name);
  return header;
}

struct ParsedHeader {
  std::string_view header;  // the whole clear header (the associated data)
  std::string_view master_key_id;
  std::string_view name;
  std::string_view sealed;
};

Result<ParsedHeader> parse_header(std::string_view file) {
  constexpr std::size_t kFixed = kMagic.size() + std::tuple_size_v<MasterKey::KeyId> + 2;
  if (file.size() > KeyRecord::kMaxFileBytes) {
    return Error{PlatformErrc::kDamaged,
                 "a key record is over " + std::to_string(KeyRecord::kMaxFileBytes) + " bytes"};
  }
  if (file.size() < kFixed || file.substr(0, kMagic.size()) != kMagic) {
    return Error{PlatformErrc::kDamaged, "not a troupe key record"};
  }
  const auto* p = reinterpret_cast<const unsigned char*>(file.data());
  const std::size_t name_size = get_be(p + kFixed - 2, 2);
  if (file.size() < kFixed + name_size) {
    return Error{PlatformErrc::kDamaged, "a key record is cut short"};
  }
  ParsedHeader out;
  out.header = file.substr(0, kFixed + name_size);
  out.master_key_id = file.substr(kMagic.size(), std::tuple_size_v<MasterKey::KeyId>);
  out.name = file.substr(kFixed, name_size);
  out.sealed = file.substr(kFixed + name_size);
  return out;
}

}  // namespace

Result<std::string> seal_key_record(const MasterKey& master, std::string_view name,
                                    const KeyRecord& record) {
  if (name.size() > 0xffff || record.retired.size() > KeyCustody::kMaxRetiredKeys) {
    return Error{BaseErrc::kInternal, "a key record over its layout's bounds"};
  }
  const std::string header = make_header(master, name);
  const std::size_t plain_size = kFixedPlainBytes + record.retired.size() * kRetiredBytes;
  // The plaintext holds the seed: built in guarded memory.
  auto plain = SecretBuffer::allocate(plain_size);
  if (!plain.ok()) return plain.error();
  unsigned char* p = plain->data();
  std::memcpy(p, record.secret_key.data(), kSeedBytes);
  p += kSeedBytes;
  put_be(p, static_cast<std::uint64_t>(record.created), 8);
  p += 8;
  put_be(p, record.retired.size(), 4);
  p += 4;
  for (const RetiredPublicKey& old : record.retired) {
    std::memcpy(p, old.public_key.data(), old.public_key.size());
    put_be(p + 32, static_cast<std::uint64_t>(old.created), 8);
    put_be(p + 40, static_cast<std::uint64_t>(old.retired), 8);
    p += kRetiredBytes;
  }
  return header + master.seal(header, plain->data(), plain->size());
}

Result<std::string> key_record_name(std::string_view file) {
  auto parsed = parse_header(file);
  if (!parsed.ok()) return parsed.error();
  return std::string(parsed->name);
}

Result<KeyRecord> open_key_record(const MasterKey& master, std::string_view name,
                                  std::string_view file) {
  auto parsed = parse_header(file);
  if (!parsed.ok()) return parsed.error();
  if (parsed->name != name) {
    return Error{PlatformErrc::kDamaged, "the record in the place of key '" + std::string(name) +
                                             "' belongs to another key"};
  }
  if (sodium_memcmp(parsed->master_key_id.data(), master.key_id().data(), master.key_id().size()) !=
      0) {
    return Error{PlatformErrc::kMasterKeyMismatch, "the record of key '" + std::string(name) +
                                                       "' was sealed under another master key"};
  }
  auto plain = master.open(parsed->header, parsed->sealed);
  if (!plain.ok()) {
    return Error{PlatformErrc::kDamaged, "the record of key '" + std::string(name) +
                                             "' is damaged (" + plain.error().detail + ")"};
  }
  const unsigned char* p = plain->data();
  const std::size_t size = plain->size();
  if (size < kFixedPlainBytes) {
    return Error{PlatformErrc::kDamaged, "the record of key '" + std::string(name) + "' is short"};
  }
  const std::size_t count = get_be(p + kSeedBytes + 8, 4);
  if (count > KeyCustody::kMaxRetiredKeys || size != kFixedPlainBytes + count * kRetiredBytes) {
    return Error{PlatformErrc::kDamaged,
                 "the record of key '" + std::string(name) + "' has a bad layout"};
  }
  KeyRecord record;
  auto secret = SecretBuffer::allocate(crypto_sign_SECRETKEYBYTES);
  if (!secret.ok()) return secret.error();
  record.secret_key = std::move(secret).value();
  crypto_sign_seed_keypair(record.public_key.data(), record.secret_key.data(), p);
  record.created = static_cast<std::int64_t>(get_be(p + kSeedBytes, 8));
  const unsigned char* q = p + kFixedPlainBytes;
  record.retired.resize(count);
  for (RetiredPublicKey& old : record.retired) {
    std::memcpy(old.public_key.data(), q, old.public_key.size());
    old.created = static_cast<std::int64_t>(get_be(q + 32, 8));
    old.retired = static_cast<std::int64_t>(get_be(q + 40, 8));
    q += kRetiredBytes;
  }
  return record;
}

}  // namespace troupe
