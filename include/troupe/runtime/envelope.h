// Envelope: the one byte-level message every boundary uses (CLI, WebAssembly, network): a
// route key, opaque payload bytes, the request id and caller of an ask, and a trace context.
// A native actor serves it next to its typed messages; the reply to an Envelope ask is Bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "troupe/base/bytes.h"
#include "troupe/base/ids.h"

namespace troupe {

struct Envelope {
  std::string route;
  Bytes payload;
  std::uint64_t request_id = 0;
  ActorId caller;
  std::string trace;
};

}  // namespace troupe
