// MembershipTransport: how the membership state machine hands a message to the connection
// layer. Best effort: the transport may drop a message (no connection, a full queue) and
// reports nothing — SWIM's probes and retransmissions absorb losses. It must not block and
// must not call back into the Membership from send() (it is called in the middle of a state
// change). Implementations decide their own threading; Membership calls send() on its caller's
// thread, one call at a time.
#pragma once

#include "troupe/base/bytes.h"
#include "troupe/cluster/member.h"

namespace troupe {

class MembershipTransport {
 public:
  virtual ~MembershipTransport() = default;
  // `to` is the member's current record (id, identity, address); `message` an encoded
  // membership message (membership_codec.h) for the peer's Membership::on_message.
  virtual void send(const Member& to, Bytes message) = 0;
};

}  // namespace troupe
