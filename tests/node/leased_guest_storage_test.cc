// A WebAssembly actor's troupe:host/storage served from its platform store (the kv guest,
// tests/wasm/guests/kv.c): the calls, the output gate (writes commit with a successful
// invocation; its tells wait for the commit), quota, persistence across incarnations, and the
// refusal of a guest that imports storage it was not granted.
#include "troupe/node/leased_guest_storage.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "platform/temp_storage_root.h"
#include "probe.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/supervisor.h"
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

class GuestStorage : public wasm::testing::TierTest {
 protected:
  void SetUp() override {
    TierTest::SetUp();
    auto service = StorageService::open(root_.path(), 1 << 20);
    ASSERT_TRUE(service.ok()) << service.error().to_string();
    storage_ = std::move(service).value();
    kv_ = guest("kv");
    ASSERT_NE(kv_, nullptr);
    wasm::testing::prepare(*kv_, GetParam());
    // The witness: a native actor the kv guest tells (found by its type, troupe/witness).
    SpawnOptions witness_options;
    witness_options.type_name = "witness";
    witness_ = sys_.spawn_fn(
        [this](Actor&) {
          return Behavior([this](Envelope& e) {
            seen_.push(e.route + " " + e.payload);
            return Bytes("ok");
          });
        },
        witness_options);
  }

  // A kv actor whose store is (kv, name) with `quota` bytes; empty ref when its start failed.
  ActorRef start(const std::string& name, std::uint64_t quota = 4096, bool grant = true) {
    wasm::WasmActorOptions options;
    options.type_name = "kv";
    options.tier = GetParam();
    options.grants = wasm::GuestGrants::all();  // it tells and calls a witness
    if (grant) {
      options.services = [this, name, quota](ActorId) -> Result<wasm::GuestServices> {
        auto lease = storage_->open_store({"acme:kv:1.0.0", name}, quota);
        if (!lease.ok()) return lease.error();
        wasm::GuestServices s;
        s.storage = std::make_unique<LeasedGuestStorage>(std::move(lease).value());
        return s;
      };
    }
    ChildSpec spec;
    spec.type_name = "kv";
    spec.factory = wasm::wasm_actor_factory(kv_, options);
    auto r = sys_.ask<ActorRef>(sys_.root(), StartChild{std::move(spec)}, 5s).get();
    return r.ok() ? *r : ActorRef{};
  }
  std::string ask(const ActorRef& to, std::string route, std::string payload = {}) {
    Envelope e;
    e.route = std::move(route);
    e.payload = std::move(payload);
    e.request_id = sys_.next_request_id();
    auto r = sys_.ask<Bytes>(to, std::move(e), 10s).get();
    return r.ok() ? *r : "error " + r.error().to_string();
  }

  TempStorageRoot root_;
  std::unique_ptr<StorageService> storage_;
  std::shared_ptr<const GuestModule> kv_;
  ActorSystem sys_{SystemConfig{.workers = 2}};
  ActorRef witness_;
  testing::Probe seen_;
};

TEST_P(GuestStorage, TheGuestGetsPutsDeletesAndListsItsKeys) {
  ActorRef kv = start("a");
  ASSERT_TRUE(kv);
  EXPECT_EQ(ask(kv, "put", "b=2"), "");
  EXPECT_EQ(ask(kv, "put", "a=1"), "");
  EXPECT_EQ(ask(kv, "put", "c=3"), "");
  EXPECT_EQ(ask(kv, "get", "a"), "1");
  EXPECT_EQ(ask(kv, "list", ""), "a\nb\nc\n");
  EXPECT_EQ(ask(kv, "del", "b"), "1");
  EXPECT_EQ(ask(kv, "del", "b"), "0");
  EXPECT_EQ(ask(kv, "list", ""), "a\nc\n");
  EXPECT_EQ(ask(kv, "get", "b"), "error not-found: no key");
}

TEST_P(GuestStorage, AFailedOrTrappedInvocationKeepsNoneOfItsWrites) {
  ActorRef kv = start("b");
  ASSERT_TRUE(kv);
  EXPECT_EQ(ask(kv, "put", "kept=1"), "");
  EXPECT_NE(ask(kv, "put-fail", "lost=1").find("failing after the put"), std::string::npos);
  EXPECT_EQ(ask(kv, "get", "lost"), "error not-found: no key");
  // A trap fails the incarnation; the next one (the supervisor's restart) sees exactly what was
  // committed.
  EXPECT_NE(ask(kv, "put-trap", "lost=2").find("error"), std::string::npos);
  EXPECT_EQ(ask(kv, "get", "lost"), "error not-found: no key");
  EXPECT_EQ(ask(kv, "get", "kept"), "1");
}

// The output gate: a tell made by an invocation whose writes roll back never goes out; one made
// by an invocation that commits goes out after the commit. Tells from one sender arrive in
// order, so had the first gone out it would be seen before the second.
TEST_P(GuestStorage, TellsWaitForTheInvocationsCommitAndDieWithItsRollback) {
  ActorRef kv = start("c");
  ASSERT_TRUE(kv);
  EXPECT_NE(ask(kv, "put-tell-fail", "x=1").find("failing after the put and the tell"),
            std::string::npos);
  EXPECT_EQ(ask(kv, "put-tell", "y=2"), "");
  ASSERT_TRUE(seen_.wait_count(1));
  EXPECT_EQ(seen_.events(), std::vector<std::string>{"seen y=2"});
  EXPECT_EQ(ask(kv, "get", "x"), "error not-found: no key");
  EXPECT_EQ(ask(kv, "get", "y"), "2");
}

// A call cannot wait for the end of the invocation (the guest needs its answer): what was
// written before it commits first, the held tells go out before it, and a failure after it
// rolls back only what came after.
TEST_P(GuestStorage, ACallCommitsWhatCameBeforeItAndKeepsTheTellsOrder) {
  ActorRef kv = start("cp");
  ASSERT_TRUE(kv);
  EXPECT_NE(ask(kv, "put-call-put-fail", "a=1").find("failing after the call"), std::string::npos);
  ASSERT_TRUE(seen_.wait_count(2));
  EXPECT_EQ(seen_.events(), (std::vector<std::string>{"seen a=1", "asked a=1"}));
  EXPECT_EQ(ask(kv, "get", "a"), "1");
  EXPECT_EQ(ask(kv, "get", "after"), "error not-found: no key");
}

// Held tells are bounded (count and bytes): past the bound the tell fails for the guest, and
// the invocation's writes and tells go with its failure.
TEST_P(GuestStorage, TellsHeldForTheCommitAreBounded) {
  ActorRef kv = start("many");
  ASSERT_TRUE(kv);
  const std::string r = ask(kv, "tell-many", "5000");
  EXPECT_NE(r.find("too many tells held"), std::string::npos) << r;
  EXPECT_EQ(ask(kv, "get", "x"), "error not-found: no key");
  EXPECT_EQ(ask(kv, "tell-many", "3"), "");
  ASSERT_TRUE(seen_.wait_count(3));
  EXPECT_EQ(seen_.count("many "), 3u);
}

TEST_P(GuestStorage, APutPastTheQuotaFailsWithQuotaExceededAndWritesNothing) {
  ActorRef kv = start("d", /*quota=*/10);
  ASSERT_TRUE(kv);
  EXPECT_EQ(ask(kv, "put", "k=12345678"), "");  // 1 + 8 bytes of 10
  const std::string over = ask(kv, "put", "j=12");
  EXPECT_NE(over.find("quota-exceeded"), std::string::npos) << over;
  EXPECT_EQ(ask(kv, "get", "j"), "error not-found: no key");
  EXPECT_EQ(ask(kv, "del", "k"), "1");
  EXPECT_EQ(ask(kv, "put", "j=12"), "");
}

TEST_P(GuestStorage, AKeyOverTheCapIsAnInvalidArgumentForTheGuest) {
  ActorRef kv = start("e");
  ASSERT_TRUE(kv);
  const std::string r = ask(kv, "put", std::string(kMaxStoreKeyBytes + 1, 'k') + "=v");
  EXPECT_NE(r.find("invalid-argument"), std::string::npos) << r;
}

TEST_P(GuestStorage, ANamedActorFindsItsDataAgainInItsNextSpawn) {
  {
    ActorRef kv = start("f");
    ASSERT_TRUE(kv);
    EXPECT_EQ(ask(kv, "put", "stays=yes"), "");
    sys_.stop(kv);
    for (int i = 0; i < 500 && storage_->live_stores() != 0; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(storage_->live_stores(), 0u) << "the stopped actor's lease was not released";
  }
  ActorRef again = start("f");
  ASSERT_TRUE(again);
  EXPECT_EQ(ask(again, "get", "stays"), "yes");
  ActorRef other = start("g");  // another name: another store
  EXPECT_EQ(ask(other, "get", "stays"), "error not-found: no key");
}

// Refused at its start, before its guest runs at all: spawned bare (no supervisor to restart
// it), it dies with the reason naming the capability.
TEST_P(GuestStorage, AGuestImportingStorageItWasNotGrantedNeverRuns) {
  wasm::WasmActorOptions options;
  options.type_name = "kv";
  options.tier = GetParam();
  ActorRef kv = sys_.spawn(wasm::wasm_actor_factory(kv_, options)());
  ASSERT_TRUE(kv);
  for (int i = 0; i < 500 && kv.alive(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(kv.alive());
  EXPECT_EQ(kv.cell()->exit_reason().detail,
            "handler-error: on_start: permission-denied: the module imports "
            "troupe:host/storage.delete but it was not granted the storage capability");
  EXPECT_EQ(storage_->live_stores(), 0u);
}

TROUPE_BOTH_TIERS(GuestStorage);

// Outside an invocation (a cm32p2 initializer runs before any) a write would commit on its
// own, past the output gate: it is refused; reads are served.
TEST(LeasedGuestStorage, WritesOutsideAnInvocationAreRefused) {
  TempStorageRoot root;
  auto service = StorageService::open(root.path(), 1 << 20);
  ASSERT_TRUE(service.ok());
  auto lease = (*service)->open_store({"acme:kv:1.0.0", "z"}, 4096);
  ASSERT_TRUE(lease.ok());
  LeasedGuestStorage s(std::move(lease).value());
  auto put = s.put("k", "v");
  ASSERT_TRUE(std::holds_alternative<wasm::HostError>(put));
  EXPECT_EQ(std::get<wasm::HostError>(put).kind, wasm::HostErrorKind::kDenied);
  ASSERT_TRUE(std::holds_alternative<wasm::HostError>(s.remove("k")));
  auto got = s.get("k");
  ASSERT_TRUE(std::holds_alternative<std::optional<std::string>>(got));
  EXPECT_FALSE(std::get<0>(got).has_value());
  s.begin_dispatch();
  EXPECT_FALSE(std::holds_alternative<wasm::HostError>(s.put("k", "v")));
  ASSERT_TRUE(s.commit_dispatch().ok());
  EXPECT_EQ(std::get<0>(s.get("k")), std::optional<std::string>("v"));
  EXPECT_TRUE(std::holds_alternative<wasm::HostError>(s.put("k", "w")));  // after the commit
}

}  // namespace
}  // namespace troupe
