#include "troupe/runtime/runtime_error.h"

namespace troupe {

std::string_view errc_name(RuntimeErrc code) {
  switch (code) {
    case RuntimeErrc::kDead:
      return "dead";
    case RuntimeErrc::kHandlerError:
      return "handler-error";
    case RuntimeErrc::kCallCycle:
      return "call-cycle";
    case RuntimeErrc::kMailboxFull:
      return "mailbox-full";
    case RuntimeErrc::kBadReply:
      return "bad-reply";
  }
  return "unknown";
}

}  // namespace troupe
