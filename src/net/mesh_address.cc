#include "troupe/net/mesh_address.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <charconv>

#include "troupe/base/error.h"

namespace troupe::net {
namespace {

Error invalid(std::string_view text, const std::string& why) {
  std::string shown;
  for (char c : text.substr(0, 80)) shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return Error{BaseErrc::kInvalidArgument, "mesh address '" + shown + "': " + why};
}

bool printable(std::string_view text) {
  for (char c : text) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

Result<MeshAddress> MeshAddress::parse(std::string_view text, bool allow_port_zero) {
  if (text.empty()) return invalid(text, "empty");
  if (text.size() > kMaxMeshAddressBytes) {
    return invalid(text, "longer than " + std::to_string(kMaxMeshAddressBytes) + " bytes");
  }
  if (!printable(text)) return invalid(text, "spaces or control characters");
  MeshAddress a;
  if (text.starts_with("unix:")) {
    a.kind = Kind::kUnix;
    a.path = std::string(text.substr(5));
    if (a.path.empty()) return invalid(text, "no socket path after 'unix:'");
    if (a.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return invalid(text, "the socket path is longer than " +
                               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
    }
    return a;
  }
  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid(text, "want [IPV6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return invalid(text, "no port (want HOST:PORT or unix:PATH)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return invalid(text, "an IPv6 host needs brackets");
  }
  if (host.empty()) return invalid(text, "no host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535 ||
      (value == 0 && !allow_port_zero)) {
    return invalid(text,
                   allow_port_zero ? "the port must be 0..65535" : "the port must be 1..65535");
  }
  a.host = std::string(host);
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

std::string MeshAddress::to_string() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<void> check_listen_addresses(const std::vector<MeshAddress>& listen,
                                    const std::string& advertised) {
  for (std::size_t i = 0; i < listen.size(); ++i) {
    const MeshAddress& a = listen[i];
    if (a.kind != MeshAddress::Kind::kTcp) continue;
    in6_addr v6{};
    in_addr v4{};
    const bool is_v4 = ::inet_pton(AF_INET, a.host.c_str(), &v4) == 1;
    // An IPv6 literal may name its zone ("fe80::1%eth0"): the address is what comes before.
    const std::string v6_text = a.host.substr(0, a.host.find('%'));
    const bool is_v6 = !is_v4 && ::inet_pton(AF_INET6, v6_text.c_str(), &v6) == 1;
    if (!is_v4 && !is_v6) {
      return Error{BaseErrc::kInvalidArgument,
                   "mesh listen address " + a.to_string() + ": the host must be an IP address"};
    }
    const bool every_interface = is_v4 ? v4.s_addr == INADDR_ANY : IN6_IS_ADDR_UNSPECIFIED(&v6);
    if (i == 0 && every_interface && advertised.empty()) {
      return Error{BaseErrc::kInvalidArgument,
                   "mesh listen address " + a.to_string() +
                       " is every interface: say where other nodes reach this one ([mesh] "
                       "advertise)"};
    }
  }
  return {};
}

}  // namespace troupe::net
