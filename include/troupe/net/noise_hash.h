// The hash functions of Noise_*_BLAKE2b (Noise spec rev 34, sections 4.3 and 12.8): HASH is
// BLAKE2b with a 64-byte output; HMAC-HASH is the standard HMAC construction (RFC 2104) over
// it with BLOCKLEN 128 — not BLAKE2b's own keyed mode, which Noise does not use; HKDF is
// Noise's two-output HKDF. Outputs that are key material go to caller-owned buffers, and every
// intermediate (hash states, padded keys, the HKDF temporary key) is wiped before returning.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace troupe::net {

inline constexpr std::size_t kNoiseHashSize = 64;    // HASHLEN
inline constexpr std::size_t kNoiseBlockSize = 128;  // BLOCKLEN
using NoiseHash = std::array<std::uint8_t, kNoiseHashSize>;
using NoiseHashOut = std::span<unsigned char, kNoiseHashSize>;
using NoiseBytesIn = std::span<const unsigned char>;

// out = HASH(parts[0] || parts[1] || ...). `out` may alias no input.
void noise_hash(std::initializer_list<NoiseBytesIn> parts, NoiseHashOut out);

// out = HMAC-HASH(key, data[0] || data[1] || ...). `out` may alias no input.
void noise_hmac(NoiseBytesIn key, std::initializer_list<NoiseBytesIn> data, NoiseHashOut out);

// (out1, out2) = HKDF(chaining_key, input_key_material, 2). The outputs may alias no input
// (MixKey writes the new chaining key to a temporary first).
void noise_hkdf(std::span<const unsigned char, kNoiseHashSize> chaining_key,
                NoiseBytesIn input_key_material, NoiseHashOut out1, NoiseHashOut out2);

}  // namespace troupe::net
