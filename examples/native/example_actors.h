// The native example actors compiled into the node: echo, counter, crasher, pinger, and notary
// (which keeps its notes in its own store and signs them with its custodial key: granted
// storage and signing). Each serves Envelopes (so the CLI can drive it) and is registered as a
// kind by register_example_kinds().
#pragma once

#include "troupe/node/kind_registry.h"

namespace troupe::examples {

void register_example_kinds(KindRegistry& kinds);

}  // namespace troupe::examples
