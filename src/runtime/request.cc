#include "troupe/runtime/request.h"

#include <string>

#include "troupe/runtime/message.h"

namespace troupe {

bool Request::complete(MessagePtr reply) {
  if (!claim()) return false;
  if (reply->type != expected_) {
    deliver(Error{Errc::kBadReply, std::string("expected reply of type ") + expected_name_ +
                                       ", got " + reply->type_name()});
  } else {
    deliver(std::move(reply));
  }
  return true;
}

bool Request::fail(Error error) {
  if (!claim()) return false;
  deliver(std::move(error));
  return true;
}

}  // namespace troupe
