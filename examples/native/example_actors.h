// The native example actors compiled into the node: echo, counter, crasher, pinger. Each serves
// Envelopes (so the CLI can drive it) and is registered as a kind by register_example_kinds().
#pragma once

#include "troupe/node/kind_registry.h"

namespace troupe::examples {

void register_example_kinds(KindRegistry& kinds);

}  // namespace troupe::examples
