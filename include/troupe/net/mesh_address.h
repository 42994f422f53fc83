// MeshAddress: where a node listens for, or dials, mesh connections: "HOST:PORT" for TCP (an
// IPv4 literal, a bracketed IPv6 literal "[::1]:7400", or a host name resolved when dialled) or
// "unix:PATH" for a Unix-domain socket (nodes on one host). Parsing refuses everything else
// with a one-line reason: no port, a port out of 1..65535 (0 only where `allow_port_zero`, for a
// listener that lets the kernel choose), control characters, over-long hosts or paths.
// Plain value; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::net {

struct MeshAddress {
  enum class Kind : std::uint8_t { kTcp, kUnix };
  Kind kind = Kind::kTcp;
  std::string host;  // kTcp: without brackets
  std::uint16_t port = 0;
  std::string path;  // kUnix

  // Errors: base invalid-argument naming what is wrong.
  static Result<MeshAddress> parse(std::string_view text, bool allow_port_zero = false);
  std::string to_string() const;

  friend bool operator==(const MeshAddress&, const MeshAddress&) = default;
};

// Whether a node may listen on `listen`, advertising `advertised` (empty: the first listen
// address): each TCP host an IP literal (a listener binds, it resolves no names), and a first
// one on every interface (0.0.0.0, [::]) only with an advertised address, since other nodes
// need one to reach this node. Checked before a node writes anything. Errors: base
// invalid-argument naming the address.
Result<void> check_listen_addresses(const std::vector<MeshAddress>& listen,
                                    const std::string& advertised);

inline constexpr std::size_t kMaxMeshAddressBytes = 255;

}  // namespace troupe::net
