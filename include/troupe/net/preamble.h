// Preamble: the fixed-layout greeting each side of a mesh connection sends first, in the clear
// (docs/PROTOCOL.md, "Preamble"): magic, protocol version, wire schema hash, feature bits and the
// node's public identity (its Ed25519 key, and the node id derived from it). Both preambles
// become the Noise prologue, so a preamble changed in transit breaks the handshake.
//
// The first 8 bytes (magic and version) keep their place in every version: a node reads them to
// refuse a peer of another version with a typed error before it parses anything else.
// Plain values and pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"

namespace troupe::net {

inline constexpr std::size_t kPreambleBytes = 64;
inline constexpr std::uint16_t kProtocolVersion = 1;

// Feature bits (docs/PROTOCOL.md, "Feature bits"). kRequiredFeatures must all be offered by
// the peer; an unknown bit is ignored (it belongs to a later version of the protocol).
enum FeatureBit : std::uint64_t {
  kFeatureNoise = 1u << 0,  // Noise_XX_25519_ChaChaPoly_BLAKE2b after the preambles
  kFeatureLanes = 1u << 1,  // lane-multiplexed frames (docs/PROTOCOL.md, "Chunks and lanes")
};
inline constexpr std::uint64_t kOurFeatures = kFeatureNoise | kFeatureLanes;
inline constexpr std::uint64_t kRequiredFeatures = kFeatureNoise | kFeatureLanes;

// The hash of the frame schema this build speaks (docs/PROTOCOL.md, "Schema hash"): the first
// 8 bytes, big-endian, of BLAKE2b-256 over kWireSchemaText.
std::uint64_t wire_schema_hash();
std::string_view wire_schema_text();

struct Preamble {
  std::uint16_t version = kProtocolVersion;
  std::uint64_t schema_hash = 0;
  std::uint64_t features = kOurFeatures;
  std::array<std::uint8_t, 32> identity{};  // Ed25519 public key
  NodeId node_id = 0;                       // derived from `identity`; checked on decode

  // This build's preamble for a node with `identity`.
  static Preamble ours(const std::array<std::uint8_t, 32>& identity);

  std::array<std::uint8_t, kPreambleBytes> encode() const;
  // Errors: net malformed (wrong magic; a node id that is not the identity's).
  // Version and schema are not judged here: see check_compatible.
  static Result<Preamble> decode(std::span<const std::uint8_t> bytes);
};

// Whether a peer that sent `theirs` can talk to us. Errors: net version-mismatch,
// schema-mismatch (same version, another frame schema), feature-mismatch (a required
// feature missing); the detail names both sides' values.
Result<void> check_compatible(const Preamble& ours, const Preamble& theirs);

// The node id of an Ed25519 public key: the first 8 bytes (big-endian) of BLAKE2b-256 over it.
NodeId node_id_of_identity(const std::array<std::uint8_t, 32>& identity);

}  // namespace troupe::net
