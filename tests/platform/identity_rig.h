// IdentityRig: what the identity tests share — enrollments of test actors, and a scratch directory
// holding a key custody under a fresh master key, and an identity service on it, both reading a
// ManualClock anchored at `t0` Unix seconds (the test moves it with clock.advance). Not thread-safe
// to set up; the objects it makes are as thread-safe as they are.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "platform/scratch_dir.h"
#include "troupe/base/clock.h"
#include "troupe/platform/actor_identities.h"
#include "troupe/platform/identity_service.h"
#include "troupe/platform/key_custody.h"
#include "troupe/platform/master_key.h"
#include "troupe/platform/unix_clock.h"

namespace troupe {

inline constexpr const char* kRigPackageHash =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
inline constexpr const char* kRigKeyId = "mfr-0123456789abcdef";

// Actor `serial` of node 0xaa, an acme:echo:1.0.0 signed by kRigKeyId, with its own key name
// (an unnamed actor's, removed when forgotten, when `ephemeral`).
inline Enrollment rig_enrollment(std::uint64_t serial, bool ephemeral) {
  return Enrollment{ActorId{0xaa, serial},
                    "acme:echo:1.0.0",
                    kRigPackageHash,
                    kRigKeyId,
                    std::string(ephemeral ? "ephemeral/" : "") + kRigKeyId + "/acme:echo:1.0.0/a" +
                        std::to_string(serial),
                    ephemeral};
}

struct IdentityRig {
  // Opens the custody and the service; a failure fails the calling test (check with
  // ASSERT_NO_FATAL_FAILURE).
  void open(std::int64_t t0, IdentityServiceOptions options) {
    auto master = MasterKey::load_or_create(scratch / "master");
    ASSERT_TRUE(master.ok()) << master.error().to_string();
    auto opened = KeyCustody::open(scratch / "keys",
                                   std::make_shared<const MasterKey>(std::move(master).value()),
                                   UnixClock(clock, t0));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    custody = std::move(opened).value();
    auto made = IdentityService::open(*custody, UnixClock(clock, t0), std::move(options));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    service.emplace(std::move(made).value());
  }

  ScratchDir scratch;
  ManualClock clock;
  std::unique_ptr<KeyCustody> custody;
  std::optional<IdentityService> service;
};

}  // namespace troupe
