// Operations called directly, with no socket: the typed layer the control socket, the gateway
// and remote nodes share. Each operation, the names and values it refuses, ask timeouts, the
// listing limit and the node-wide budget on reply bytes held for clients.
#include "troupe/node/operations.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <thread>

#include "node/completion.h"
#include "troupe/platform/platform_error.h"
#include "troupe/runtime/envelope.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Replies with as many bytes as its payload's number says (payload "4194304": 4 MiB).
class BigReplier final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m, [](Envelope& e) -> Result<Bytes> { return Bytes(std::stoul(e.payload), 'x'); });
  }
};

// Takes every request's reply slot and never answers it.
class Silent final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m, [this](Envelope&) { held_.push_back(take_reply()); });
  }

 private:
  std::vector<ReplyPromise> held_;
};

// Ends on demand: route "crash" throws (an abnormal exit), "quit" replies and stops normally;
// any other route replies "pong".
class Quitter final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m, [this](Envelope& e) -> Result<Bytes> {
      if (e.route == "crash") throw std::runtime_error("crash requested");
      if (e.route == "quit") stop();
      return std::string(e.route == "quit" ? "bye" : "pong");
    });
  }
};

using testing::Completion;

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troupe-ops-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto id = NodeIdentity::load_or_create(dir_ + "/data");
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    identity_.emplace(std::move(id).value());
    kinds_.add("big", "replies with N bytes", [] { return std::make_unique<BigReplier>(); });
    kinds_.add("silent", "never replies", [] { return std::make_unique<Silent>(); });
    system_ = std::make_unique<ActorSystem>(SystemConfig{.workers = 2});
  }
  void TearDown() override {
    if (ops_) ops_->shutdown();
    system_->shutdown();
    ops_.reset();
    fs::remove_all(dir_);
  }
  // Unsigned modules allowed: these tests spawn bare .wasm files.
  static Operations::Config allowing_unsigned() {
    Operations::Config c;
    c.allow_unsigned = true;
    return c;
  }
  Operations& ops(Operations::Config config = allowing_unsigned()) {
    ops_ = std::make_unique<Operations>(*system_, kinds_, policy_, *identity_, config);
    return *ops_;
  }
  Result<SpawnResult> spawn(SpawnRequest r) {
    Completion<SpawnResult> c;
    ops_->spawn(std::move(r), c.callback());
    return c.get();
  }
  Result<AskReply> ask(const std::string& actor, Bytes payload,
                       std::chrono::milliseconds timeout = 0ms, const std::string& route = "r") {
    Completion<AskReply> c;
    ops_->ask(AskRequest{SendRequest{actor, route, std::move(payload), ""}, timeout}, c.callback());
    return c.get();
  }

  std::string dir_;
  std::optional<NodeIdentity> identity_;
  KindRegistry kinds_;
  wasm::GuestPolicy policy_;
  std::unique_ptr<ActorSystem> system_;
  std::unique_ptr<Operations> ops_;
};

// A module spawn after shutdown() is told the node is shutting down, not to try again later
// because too many loads are pending (none are).
TEST_F(OperationsTest, AModuleSpawnAfterShutdownSaysTheNodeIsShuttingDown) {
  ops().shutdown();
  auto s = spawn(SpawnRequest{.wasm_path = dir_ + "/m.wasm"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("shutting down"), std::string::npos) << s.error().to_string();
}

TEST_F(OperationsTest, SpawnTellAskListStatusStop) {
  ops();
  auto s = spawn(SpawnRequest{.kind = "big", .name = "b"});
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->type_name, "big");
  EXPECT_TRUE(s->id.valid());
  EXPECT_TRUE(ops_->tell(SendRequest{"b", "r", "1", ""}).ok());
  auto r = ask("b", "5");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->payload, "xxxxx");
  EXPECT_EQ(r->hold.bytes(), 5u);

  ActorListing ls = ops_->list();
  bool found = false;
  for (const ActorEntry& e : ls.actors) {
    for (const ActorEntry& c : e.children) found |= c.stats.name == "b" && c.stats.alive;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(ls.omitted, 0u);

  auto st = ops_->status();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->node, system_->node_id());
  EXPECT_EQ(st->boot, identity_->boot());
  EXPECT_EQ(st->kinds.size(), 2u);
  EXPECT_GE(st->stats.live, 2u);  // root and b

  auto stopped = ops_->stop("b");
  ASSERT_TRUE(stopped.ok()) << stopped.error().to_string();
  EXPECT_EQ(*stopped, s->id);
  EXPECT_FALSE(ops_->stop("root").ok());
}

TEST_F(OperationsTest, BadNamesAndUnknownKindsAreRefused) {
  ops();
  for (const std::string& bad :
       {std::string(), std::string("a\nb"), std::string(300, 'n'), std::string("\xff\xfe")}) {
    auto tell = ops_->tell(SendRequest{bad, "r", "", ""});
    ASSERT_FALSE(tell.ok());
    EXPECT_EQ(tell.error().code, BaseErrc::kInvalidArgument) << tell.error().to_string();
    auto a = ask(bad, "");
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code, BaseErrc::kInvalidArgument);
    EXPECT_FALSE(ops_->stop(bad).ok());
    auto sp = spawn(SpawnRequest{.kind = bad});
    ASSERT_FALSE(sp.ok());
    EXPECT_EQ(sp.error().code, BaseErrc::kInvalidArgument) << sp.error().to_string();
    if (!bad.empty()) {
      auto named = spawn(SpawnRequest{.kind = "big", .name = bad});
      ASSERT_FALSE(named.ok());
      EXPECT_NE(named.error().detail.find("actor name"), std::string::npos);
    }
  }
  auto unknown = spawn(SpawnRequest{.kind = "nosuch"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, BaseErrc::kNotFound);
  EXPECT_NE(unknown.error().detail.find("known: big, silent"), std::string::npos)
      << unknown.error().detail;
  auto no_actor = ops_->tell(SendRequest{"nobody", "r", "", ""});
  ASSERT_FALSE(no_actor.ok());
  EXPECT_EQ(no_actor.error().code, BaseErrc::kNotFound);
  ASSERT_TRUE(spawn(SpawnRequest{.kind = "big", .name = "dup"}).ok());
  auto taken = spawn(SpawnRequest{.kind = "big", .name = "dup"});
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().detail.find("is taken"), std::string::npos);
  auto no_sup = spawn(SpawnRequest{.kind = "big", .supervisor = "nosup"});
  ASSERT_FALSE(no_sup.ok());
  EXPECT_EQ(no_sup.error().code, BaseErrc::kNotFound);
}

// The request's restart policy is the one its supervisor applies (OTP): permanent comes back
// after any exit, transient only after a crash, temporary never. Each next ask waits in the
// mailbox, which a restart keeps, so no sleep is needed to see whether it came back.
TEST_F(OperationsTest, TheRequestsRestartPolicyDecidesWhetherTheActorComesBack) {
  kinds_.add("quitter", "ends on demand", [] { return std::make_unique<Quitter>(); });
  ops();
  struct Case {
    RestartPolicy policy;
    const char* name;
    bool after_crash, after_quit;
  };
  for (const Case& c : {Case{RestartPolicy::kPermanent, "permanent", true, true},
                        Case{RestartPolicy::kTransient, "transient", true, false},
                        Case{RestartPolicy::kTemporary, "temporary", false, false}}) {
    const std::string crashed = std::string(c.name) + "-crashed";
    const std::string quit = std::string(c.name) + "-quit";
    for (const std::string& name : {crashed, quit}) {
      ASSERT_TRUE(spawn(SpawnRequest{.kind = "quitter", .name = name, .restart = c.policy}).ok());
    }
    EXPECT_FALSE(ask(crashed, "", 0ms, "crash").ok());
    EXPECT_EQ(ask(crashed, "", 0ms, "ping").ok(), c.after_crash) << crashed;
    ASSERT_TRUE(ask(quit, "", 0ms, "quit").ok());
    EXPECT_EQ(ask(quit, "", 0ms, "ping").ok(), c.after_quit) << quit;
  }
}

// A module spawn completes later, on the loader thread; a file that is no module is refused
// through the same callback.
TEST_F(OperationsTest, AModuleThatCannotBeReadFailsThroughTheCallback) {
  ops();
  auto missing = spawn(SpawnRequest{.wasm_path = dir_ + "/missing.wasm"});
  ASSERT_FALSE(missing.ok());
  auto directory = spawn(SpawnRequest{.wasm_path = dir_});
  ASSERT_FALSE(directory.ok());
  std::ofstream(dir_ + "/junk.wasm") << "not a module";
  auto junk = spawn(SpawnRequest{.wasm_path = dir_ + "/junk.wasm"});
  ASSERT_FALSE(junk.ok());
  EXPECT_TRUE(system_->root().alive());
}

// Fail closed: without allow_unsigned a bare module is refused before it is read, and nobody
// chooses the type of a module or a package.
TEST_F(OperationsTest, UnsignedModulesAreRefusedByDefaultAndTakeNoTypeName) {
  ops(Operations::Config{});
  std::ofstream(dir_ + "/junk.wasm") << "not a module";
  auto s = spawn(SpawnRequest{.wasm_path = dir_ + "/junk.wasm"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, PlatformErrc::kPermissionDenied) << s.error().to_string();
  EXPECT_NE(s.error().detail.find("allow_unsigned"), std::string::npos) << s.error().detail;
  ops();
  auto typed = spawn(SpawnRequest{.wasm_path = dir_ + "/junk.wasm", .type_name = "j"});
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.error().detail.find("takes no type name"), std::string::npos);
  // No platform services: a package is refused, not crashed on.
  auto pkg = spawn(SpawnRequest{.package_path = dir_ + "/p.actr"});
  ASSERT_FALSE(pkg.ok());
  EXPECT_EQ(pkg.error().code, BaseErrc::kUnavailable);
}

TEST_F(OperationsTest, AnAskTimesOutAndTimeoutsAreRangeChecked) {
  ops();
  ASSERT_TRUE(spawn(SpawnRequest{.kind = "silent", .name = "s"}).ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = ask("s", "", 100ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, BaseErrc::kTimedOut) << r.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  for (auto bad : {-1ms, Operations::kMaxAskTimeout + 1ms}) {
    auto b = ask("s", "", bad);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code, BaseErrc::kInvalidArgument) << b.error().to_string();
  }
}

TEST_F(OperationsTest, TheListingStopsAtItsLimitAndCountsTheRest) {
  ops(Operations::Config{.listing_limit = 5});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(spawn(SpawnRequest{.kind = "big"}).ok());
  ActorListing ls = ops_->list();
  std::size_t listed = 0;
  std::function<void(const ActorEntry&)> count = [&](const ActorEntry& e) {
    ++listed;
    for (const ActorEntry& c : e.children) count(c);
  };
  for (const ActorEntry& e : ls.actors) count(e);
  EXPECT_EQ(listed, 5u);
  EXPECT_EQ(ls.omitted, 6u);  // root + 10 children = 11 actors
}

// The node-wide budget on reply bytes held for clients: a reply past it is refused at once
// (kUnavailable, saying why), not buffered; released holds make room again.
TEST_F(OperationsTest, RepliesPastTheHeldReplyBudgetAreRefused) {
  ops(Operations::Config{.max_held_reply_bytes = 10 << 20});
  ASSERT_TRUE(spawn(SpawnRequest{.kind = "big", .name = "b"}).ok());
  auto first = ask("b", std::to_string(6 << 20));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(ops_->reply_budget().held(), std::size_t{6} << 20);
  auto second = ask("b", std::to_string(6 << 20));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, BaseErrc::kUnavailable);
  EXPECT_NE(second.error().detail.find("max_held_reply_bytes"), std::string::npos)
      << second.error().detail;
  auto small = ask("b", std::to_string(1 << 20));  // what fits still passes
  ASSERT_TRUE(small.ok()) << small.error().to_string();
  first = Error{BaseErrc::kInternal};  // the client has the first reply: its hold goes
  small = Error{BaseErrc::kInternal};
  EXPECT_EQ(ops_->reply_budget().held(), 0u);
  auto third = ask("b", std::to_string(6 << 20));
  EXPECT_TRUE(third.ok()) << third.error().to_string();
  // A reply larger than the whole budget never fits.
  auto huge = ask("b", std::to_string(11 << 20));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, BaseErrc::kUnavailable);
}

// Callable from any thread: many threads at once, each spawning, asking and listing.
TEST_F(OperationsTest, ManyThreadsCallAtOnce) {
  ops();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "t" + std::to_string(t);
      if (!spawn(SpawnRequest{.kind = "big", .name = name}).ok()) return;
      for (int i = 0; i < 50; ++i) {
        if (ask(name, "3").ok()) ok.fetch_add(1);
        (void)ops_->list();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
// Review findings: what another node's SPAWN may ask for is checked before anything runs — no
// supervisor of its choosing (one that escalates would take its other children down), limits in
// their ranges (0 fuel, a memory size past u32), known keys once each.
TEST_F(OperationsTest, AnotherNodesSpawnCannotPickASupervisorOrLimitsOutOfRange) {
  ops();
  auto peer_spawn = [&](RemoteSpawn r) {
    r.package = "not read: refused before";
    Completion<RemoteSpawned> c;
    ops_->spawn_for_peer(0x1234, std::move(r), c.callback());
    return c.get();
  };
  RemoteSpawn sup;
  sup.supervisor = "workers";
  auto refused = peer_spawn(sup);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, PlatformErrc::kPermissionDenied);
  EXPECT_NE(refused.error().detail.find("root supervisor"), std::string::npos);
  RemoteSpawn zero;
  zero.limits = {RemoteSpawnLimit{static_cast<std::uint8_t>(wasm::LimitKey::kFuel), false, 0}};
  EXPECT_EQ(peer_spawn(zero).error().code, BaseErrc::kInvalidArgument);
  RemoteSpawn huge;
  huge.limits = {RemoteSpawnLimit{static_cast<std::uint8_t>(wasm::LimitKey::kMemoryPages), false,
                                  (std::uint64_t{1} << 32) + 1}};
  EXPECT_EQ(peer_spawn(huge).error().code, BaseErrc::kInvalidArgument);
  RemoteSpawn unknown;
  unknown.limits = {RemoteSpawnLimit{9, false, 1}};
  EXPECT_EQ(peer_spawn(unknown).error().code, BaseErrc::kInvalidArgument);
  RemoteSpawn twice;
  twice.limits = {RemoteSpawnLimit{0, false, 1000}, RemoteSpawnLimit{0, false, 1000}};
  EXPECT_EQ(peer_spawn(twice).error().code, BaseErrc::kInvalidArgument);
  // In range, the request goes on to the spawn (which has no platform here to verify it).
  RemoteSpawn fine;
  fine.limits = {RemoteSpawnLimit{0, false, 1000}};
  EXPECT_EQ(peer_spawn(fine).error().code, BaseErrc::kUnavailable);
}

}  // namespace troupe
