#include "troupe/cluster/cluster_error.h"

namespace troupe {

std::string_view errc_name(ClusterErrc code) {
  switch (code) {
    case ClusterErrc::kMalformed:
      return "malformed";
    case ClusterErrc::kNoConnection:
      return "noconnection";
    case ClusterErrc::kUnknownMember:
      return "unknown-member";
  }
  return "unknown";
}

}  // namespace troupe
