#include "troupe/node/node_error.h"

namespace troupe {

std::string_view errc_name(NodeErrc code) {
  switch (code) {
    case NodeErrc::kProtocol:
      return "protocol";
  }
  return "unknown";
}

}  // namespace troupe
