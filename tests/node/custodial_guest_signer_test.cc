// A WebAssembly actor's troupe:host/signing served from the node's KeyCustody (the signer
// guest, tests/wasm/guests/signer.c): signatures an independent verifier accepts under the
// public key the guest reads and the custody holds, the same key after a respawn, and the
// refusal of a guest that imports signing it was not granted.
#include "troupe/node/custodial_guest_signer.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "platform/temp_storage_root.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/wasm/wasm_actor.h"
#include "wasm/built_guest.h"
#include "wasm/tiers.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;
using wasm::GuestModule;
using wasm::Tier;

std::shared_ptr<const GuestModule> guest(const std::string& name) {
  return wasm::testing::built_guest(name);
}

class GuestSigning : public wasm::testing::TierTest {
 protected:
  void SetUp() override {
    TierTest::SetUp();
    auto master = MasterKey::load_or_create(scratch_.path() + "/master");
    ASSERT_TRUE(master.ok()) << master.error().to_string();
    auto custody = KeyCustody::open(scratch_.path() + "/keys",
                                    std::make_shared<const MasterKey>(std::move(master).value()),
                                    UnixClock(clock_));
    ASSERT_TRUE(custody.ok()) << custody.error().to_string();
    custody_ = std::move(custody).value();
    signer_ = guest("signer");
    ASSERT_NE(signer_, nullptr);
    wasm::testing::prepare(*signer_, GetParam());
  }

  ActorRef start(const std::string& key_name, bool grant = true) {
    wasm::WasmActorOptions options;
    options.type_name = "signer";
    options.tier = GetParam();
    options.limits = limits_;
    if (grant) {
      options.services = [this, key_name](ActorId) -> Result<wasm::GuestServices> {
        auto signer = CustodialGuestSigner::open(*custody_, key_name);
        if (!signer.ok()) return signer.error();
        wasm::GuestServices s;
        s.signing = std::move(signer).value();
        return s;
      };
    }
    return sys_.spawn(wasm::wasm_actor_factory(signer_, options)());
  }
  std::string ask(const ActorRef& to, std::string route, std::string payload = {}) {
    Envelope e;
    e.route = std::move(route);
    e.payload = std::move(payload);
    e.request_id = sys_.next_request_id();
    auto r = sys_.ask<Bytes>(to, std::move(e), 10s).get();
    return r.ok() ? *r : "error " + r.error().to_string();
  }
  static bool verifies(const std::string& sig, const std::string& message, const std::string& key) {
    return sig.size() == crypto_sign_BYTES && key.size() == crypto_sign_PUBLICKEYBYTES &&
           crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                       reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(),
                                       reinterpret_cast<const unsigned char*>(key.data())) == 0;
  }

  TempStorageRoot scratch_;
  SteadyClock clock_;
  std::unique_ptr<KeyCustody> custody_;
  std::shared_ptr<const GuestModule> signer_;
  wasm::Limits limits_;
  ActorSystem sys_{SystemConfig{.workers = 2}};
};

TEST_P(GuestSigning, SignaturesVerifyUnderTheKeyTheNodeKeepsForTheActor) {
  ActorRef a = start("acme:signer:1.0.0/alice");
  ASSERT_TRUE(a);
  const std::string key = ask(a, "pubkey");
  auto held = custody_->public_key("acme:signer:1.0.0/alice");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(key, std::string(reinterpret_cast<const char*>(held->data()), held->size()));
  const std::string sig = ask(a, "sign", "pay 10 to bob");
  EXPECT_TRUE(verifies(sig, "pay 10 to bob", key));
  EXPECT_FALSE(verifies(sig, "pay 99 to bob", key));
  // Another actor, another key.
  ActorRef b = start("acme:signer:1.0.0/bob");
  ASSERT_TRUE(b);
  EXPECT_NE(ask(b, "pubkey"), key);
  EXPECT_FALSE(verifies(ask(b, "sign", "pay 10 to bob"), "pay 10 to bob", key));
  // A respawn of alice signs with the same key.
  sys_.stop(a);
  ActorRef again = start("acme:signer:1.0.0/alice");
  EXPECT_EQ(ask(again, "pubkey"), key);
  EXPECT_TRUE(verifies(ask(again, "sign", "later"), "later", key));
}

TEST_P(GuestSigning, AGuestImportingSigningItWasNotGrantedNeverRuns) {
  ActorRef a = start("acme:signer:1.0.0/carol", /*grant=*/false);
  ASSERT_TRUE(a);
  for (int i = 0; i < 500 && a.alive(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(a.alive());
  EXPECT_EQ(a.cell()->exit_reason().detail,
            "handler-error: on_start: permission-denied: the module imports "
            "troupe:host/signing.public-key but it was not granted the signing capability");
  auto listed = custody_->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());  // no key was made for it
}

// A message over the cap is an invalid argument for the guest; a guest signing in a loop is
// stopped by its deadline (host calls charge no fuel: the deadline is checked after each).
TEST_P(GuestSigning, SigningIsBoundedInSizeAndByTheDeadline) {
  ActorRef a = start("acme:signer:1.0.0/dave");
  ASSERT_TRUE(a);
  const std::string big = ask(a, "sign", std::string(wasm::GuestSigner::kMaxMessageBytes + 1, 'm'));
  EXPECT_NE(big.find("at most 1048576 bytes"), std::string::npos) << big;
  limits_.timeout = 300ms;
  ActorRef b = start("acme:signer:1.0.0/erin");
  ASSERT_TRUE(b);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string looped = ask(b, "sign-loop", "100000");
  EXPECT_NE(looped.find("deadline"), std::string::npos) << looped;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TROUPE_BOTH_TIERS(GuestSigning);

TEST(CustodialGuestSigner, TheNodesOwnKeysSignForNoActor) {
  TempStorageRoot scratch;
  auto master = MasterKey::load_or_create(scratch.path() + "/master");
  ASSERT_TRUE(master.ok());
  SteadyClock clock;
  auto custody = KeyCustody::open(scratch.path() + "/keys",
                                  std::make_shared<const MasterKey>(std::move(master).value()),
                                  UnixClock(clock));
  ASSERT_TRUE(custody.ok());
  auto s = CustodialGuestSigner::open(**custody, "node/identity-service");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, BaseErrc::kRefused);
}

}  // namespace
}  // namespace troupe
