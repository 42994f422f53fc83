// MemberEvent: what Membership reports when its view of a member changes — the hooks the
// registry, remote monitors and the management API react to. For one member: kJoined when it
// becomes alive (first seen, or back after dead/left with a higher incarnation), kSuspect,
// kAliveAgain when it refutes a suspicion, kDead and kLeft at most once per incarnation, and
// kUpdated when an alive member's address or incarnation changes. Plain values; thread-safe.
#pragma once

#include <string_view>

#include "troupe/cluster/member.h"

namespace troupe {

enum class MemberEventKind {
  kJoined,
  kSuspect,
  kAliveAgain,
  kDead,
  kLeft,
  kUpdated,
};

std::string_view member_event_name(MemberEventKind kind);  // "joined", "suspect", ...

struct MemberEvent {
  MemberEventKind kind;
  Member member;  // the record after the change
};

}  // namespace troupe
