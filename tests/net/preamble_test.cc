#include "troupe/net/preamble.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <sstream>

#include "troupe/base/error.h"
#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

std::array<std::uint8_t, 32> some_identity(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + i);
  return key;
}

TEST(Preamble, RoundTripsByteForByteAtTheDocumentedOffsets) {
  const Preamble ours = Preamble::ours(some_identity(7));
  const auto bytes = ours.encode();
  ASSERT_EQ(bytes.size(), 64u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 6), "TROUPE");
  EXPECT_EQ(bytes[6], 0);
  EXPECT_EQ(bytes[7], kProtocolVersion);
  EXPECT_EQ(bytes[23], kOurFeatures);  // the low byte of the big-endian feature bits
  EXPECT_EQ(bytes[24], 7);             // the identity starts at 24
  auto back = Preamble::decode(bytes);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->identity, ours.identity);
  EXPECT_EQ(back->node_id, ours.node_id);
  EXPECT_EQ(back->schema_hash, wire_schema_hash());
  EXPECT_EQ(back->features, kOurFeatures);
}

TEST(Preamble, RefusesAnotherMagicALengthOtherThan64AndAForeignNodeId) {
  auto bytes = Preamble::ours(some_identity(1)).encode();
  auto wrong_magic = bytes;
  wrong_magic[0] = 'G';  // e.g. an HTTP client: "GET /..."
  EXPECT_EQ(Preamble::decode(wrong_magic).error().code, NetErrc::kMalformed);
  EXPECT_EQ(Preamble::decode(std::span(bytes).first(63)).error().code, NetErrc::kMalformed);
  auto wrong_id = bytes;
  wrong_id[63] ^= 1;  // a node id that is not the identity's
  EXPECT_EQ(Preamble::decode(wrong_id).error().code, NetErrc::kMalformed);
}

TEST(Preamble, AnotherVersionSchemaOrMissingFeatureIsATypedRefusal) {
  const Preamble ours = Preamble::ours(some_identity(1));
  Preamble theirs = Preamble::ours(some_identity(2));
  EXPECT_TRUE(check_compatible(ours, theirs).ok());
  theirs.version = 2;
  // A later version's preamble decodes as far as its version (its layout after byte 8 may
  // differ), so the refusal names the version, not a malformed preamble.
  auto decoded = Preamble::decode(theirs.encode());
  ASSERT_TRUE(decoded.ok());
  auto refused = check_compatible(ours, *decoded);
  EXPECT_EQ(refused.error().code, NetErrc::kVersionMismatch);
  EXPECT_NE(refused.error().detail.find("protocol version 2"), std::string::npos);
  theirs = Preamble::ours(some_identity(2));
  theirs.schema_hash ^= 1;
  EXPECT_EQ(check_compatible(ours, theirs).error().code, NetErrc::kSchemaMismatch);
  theirs = Preamble::ours(some_identity(2));
  theirs.features = kFeatureNoise;
  EXPECT_EQ(check_compatible(ours, theirs).error().code, NetErrc::kFeatureMismatch);
  theirs.features = kOurFeatures | (std::uint64_t{1} << 40);  // an unknown bit: ignored
  EXPECT_TRUE(check_compatible(ours, theirs).ok());
}

TEST(Preamble, TheNodeIdIsTheFirstEightBytesOfTheIdentitysBlake2b) {
  const auto key = some_identity(3);
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, key.data(), key.size(), nullptr, 0);
  NodeId want = 0;
  for (int i = 0; i < 8; ++i) want = (want << 8) | digest[i];
  EXPECT_EQ(node_id_of_identity(key), want);
}

// docs/PROTOCOL.md is what a compatible node is written from: it must give the schema text
// byte for byte (the hash of another text refuses every troupe node).
TEST(Preamble, TheProtocolDocGivesTheSchemaTextExactly) {
  std::ifstream in(TROUPE_PROTOCOL_DOC);
  ASSERT_TRUE(in) << TROUPE_PROTOCOL_DOC;
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_NE(doc.str().find("```\n" + std::string(wire_schema_text()) + "\n```"), std::string::npos)
      << wire_schema_text();
}

}  // namespace
}  // namespace troupe::net
