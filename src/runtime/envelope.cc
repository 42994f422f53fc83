#include "troupe/runtime/envelope.h"

namespace troupe {

std::string_view envelope_kind_name(EnvelopeKind kind) {
  switch (kind) {
    case EnvelopeKind::kRequest:
      return "request";
    case EnvelopeKind::kReply:
      return "reply";
    case EnvelopeKind::kTell:
      return "tell";
    case EnvelopeKind::kSystem:
      return "system";
  }
  return "unknown";
}

}  // namespace troupe
