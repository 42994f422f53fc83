#include "troupe/net/noise_hash.h"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <string>

#include "net/hex.h"

namespace troupe::net {
namespace {

using test::byte_span;
using test::to_hex;

// HASH is BLAKE2b-512: RFC 7693, appendix A.
TEST(NoiseHash, IsBlake2b512) {
  NoiseHash out{};
  noise_hash({byte_span("abc")}, out);
  EXPECT_EQ(to_hex(out),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252"
            "d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  // The parts are concatenated.
  NoiseHash split{};
  noise_hash({byte_span("a"), byte_span(""), byte_span("bc")}, split);
  EXPECT_EQ(split, out);
}

// The expected values come from Python's hmac module over hashlib.blake2b (block size 128): the
// standard HMAC construction, not BLAKE2b's keyed mode (which gives 247980f0... for the first).
TEST(NoiseHash, HmacIsTheStandardConstructionWithBlockLen128) {
  std::array<unsigned char, 64> key{};
  std::iota(key.begin(), key.end(), 0);
  NoiseHash out{};
  noise_hmac(key, {byte_span("troupe noise hmac")}, out);
  EXPECT_EQ(to_hex(out),
            "1141af381e78f97082b8aca3d0cf1b5212901d760d41679de7a26964ed0bbd6253dae9838499539673aa"
            "84557a18116bc99f44d4145f278488d20a25e24c8f23");
  NoiseHash parts{};
  noise_hmac(key, {byte_span("troupe "), byte_span("noise hmac")}, parts);
  EXPECT_EQ(parts, out);

  // A key longer than a block is hashed first.
  std::array<unsigned char, 200> long_key{};
  std::iota(long_key.begin(), long_key.end(), 0);
  noise_hmac(long_key, {byte_span("troupe noise hmac")}, out);
  EXPECT_EQ(to_hex(out),
            "07aa220257c9ca69300d8195187384437a713bc8a101ebb038724d14381a102e3b87a6a08478ee292259"
            "47d0e53c62f36b02c63300bf5400d0b24e230beb8103");
}

TEST(NoiseHash, HkdfGivesNoisesTwoOutputs) {
  std::array<unsigned char, 64> chaining_key{};
  chaining_key.fill(0x11);
  std::array<unsigned char, 32> input{};
  input.fill(0x22);
  NoiseHash out1{};
  NoiseHash out2{};
  noise_hkdf(chaining_key, input, out1, out2);
  EXPECT_EQ(to_hex(out1),
            "f40cb5e07d2427ba7f73913ac1fda74f774012188c442e04d7b6738430612e573151cce099cd56d36e16"
            "7cfa2761a052518e82dd02e45be173470479d72f544c");
  EXPECT_EQ(to_hex(out2),
            "acdbfbc9fca30a9a12e37d7c6dc98d203af3dadc116d8aec4d51491ffe8c370ed6593becd2f5bbf31ca7"
            "b8983fdf4cb3031a9d331a038a007de628a416c55915");
}

}  // namespace
}  // namespace troupe::net
