#include "troupe/net/noise_hash.h"

#include <sodium.h>

#include <algorithm>

namespace troupe::net {

static_assert(crypto_generichash_BYTES_MAX >= kNoiseHashSize);

namespace {

// Unkeyed BLAKE2b-512 over a sequence of parts. The state is wiped on destruction: inside
// HMAC it has absorbed the padded key.
class Blake2b512 {
 public:
  Blake2b512() { crypto_generichash_init(&state_, nullptr, 0, kNoiseHashSize); }
  ~Blake2b512() { sodium_memzero(&state_, sizeof state_); }
  Blake2b512(const Blake2b512&) = delete;
  Blake2b512& operator=(const Blake2b512&) = delete;

  void update(NoiseBytesIn bytes) {
    crypto_generichash_update(&state_, bytes.data(), bytes.size());
  }
  void final(NoiseHashOut out) { crypto_generichash_final(&state_, out.data(), out.size()); }

 private:
  crypto_generichash_state state_{};
};

}  // namespace

void noise_hash(std::initializer_list<NoiseBytesIn> parts, NoiseHashOut out) {
  Blake2b512 hash;
  for (NoiseBytesIn part : parts) hash.update(part);
  hash.final(out);
}

void noise_hmac(NoiseBytesIn key, std::initializer_list<NoiseBytesIn> data, NoiseHashOut out) {
  // RFC 2104: K0 is the key zero-padded to a block (hashed first when longer than a block);
  // HMAC = H((K0 ^ opad) || H((K0 ^ ipad) || data)).
  unsigned char pad[kNoiseBlockSize] = {};
  if (key.size() > kNoiseBlockSize) {
    noise_hash({key}, NoiseHashOut(pad, kNoiseHashSize));
  } else {
    std::copy(key.begin(), key.end(), pad);
  }
  unsigned char inner[kNoiseHashSize];

  for (unsigned char& b : pad) b ^= 0x36;
  {
    Blake2b512 hash;
    hash.update(pad);
    for (NoiseBytesIn part : data) hash.update(part);
    hash.final(inner);
  }
  // (K0 ^ ipad) ^ (0x36 ^ 0x5c) = K0 ^ opad.
  for (unsigned char& b : pad) b ^= 0x36 ^ 0x5c;
  {
    Blake2b512 hash;
    hash.update(pad);
    hash.update(inner);
    hash.final(out);
  }
  sodium_memzero(pad, sizeof pad);
  sodium_memzero(inner, sizeof inner);
}

void noise_hkdf(std::span<const unsigned char, kNoiseHashSize> chaining_key,
                NoiseBytesIn input_key_material, NoiseHashOut out1, NoiseHashOut out2) {
  unsigned char temp_key[kNoiseHashSize];
  noise_hmac(chaining_key, {input_key_material}, temp_key);
  const unsigned char one = 0x01;
  const unsigned char two = 0x02;
  noise_hmac(temp_key, {NoiseBytesIn(&one, 1)}, out1);
  noise_hmac(temp_key, {out1, NoiseBytesIn(&two, 1)}, out2);
  sodium_memzero(temp_key, sizeof temp_key);
}

}  // namespace troupe::net
