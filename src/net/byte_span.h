// Views of Bytes (std::string) as the unsigned bytes libsodium takes, for src/net's Noise code.
// Internal to src/net. Pure functions; thread-safe.
#pragma once

#include <span>

#include "troupe/base/bytes.h"

namespace troupe::net {

inline std::span<const unsigned char> byte_span(BytesView bytes) {
  return {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()};
}

inline unsigned char* byte_data(Bytes& bytes) {
  return reinterpret_cast<unsigned char*>(bytes.data());
}

}  // namespace troupe::net
