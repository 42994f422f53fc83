// GuestGrants (guest_grants.h): types as guests see them, call patterns, who a guest may
// reach, and the imports each capability gates. WasmActors.AGuestReachesOnlyWhatItsGrantsName
// runs the same rules through a guest's calls.
#include "troupe/wasm/guest_grants.h"

#include <gtest/gtest.h>

#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/remote_directory.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/wat.h"

namespace troupe::wasm {
namespace {

using namespace std::chrono_literals;

TEST(GuestGrants, TypesAreSeenAsTheirThreeParts) {
  auto t = guest_visible_type("acme:billing:1.2.0");
  EXPECT_EQ(t.manufacturer, "acme");
  EXPECT_EQ(t.name, "billing");
  EXPECT_EQ(t.version, "1.2.0");
  t = guest_visible_type("unsigned:0123abcd");
  EXPECT_EQ(t.manufacturer, "unsigned");
  EXPECT_EQ(t.name, "0123abcd");
  EXPECT_EQ(t.version, "");
  t = guest_visible_type("echo");
  EXPECT_EQ(t.manufacturer, "troupe");
  EXPECT_EQ(t.name, "echo");
  EXPECT_EQ(t.version, "0.1.0");
}

TEST(GuestGrants, PatternsMatchWholeComponents) {
  const GuestVisibleType billing{"acme", "billing", "1.2.0"};
  EXPECT_TRUE(type_pattern_matches("acme:billing:1.2.0", billing));
  EXPECT_TRUE(type_pattern_matches("acme:billing:*", billing));
  EXPECT_TRUE(type_pattern_matches("*:*:*", billing));
  EXPECT_TRUE(type_pattern_matches("acme:*:1.2.0", billing));
  EXPECT_FALSE(type_pattern_matches("acme:billing:1.*", billing));
  EXPECT_FALSE(type_pattern_matches("acme:bill*:*", billing));
  EXPECT_FALSE(type_pattern_matches("acme:billing", billing));
  EXPECT_FALSE(type_pattern_matches("acme:billing:1.2.0:x", billing));
  EXPECT_FALSE(type_pattern_matches("evil:billing:*", billing));
  EXPECT_FALSE(type_pattern_matches("billing", billing));
  EXPECT_FALSE(type_pattern_matches("", billing));
  EXPECT_TRUE(type_pattern_matches("troupe:echo:*", guest_visible_type("echo")));
}

class Quiet final : public Actor {
 public:
  bool receive(Message&) override { return true; }
};

TEST(GuestGrants, ReachIsSelfThenGrantsAndNeverTheNodesOwnActors) {
  ActorSystem sys{SystemConfig{.workers = 1}};
  ActorRef self =
      sys.spawn(std::make_unique<Quiet>(),
                {.name = "", .type_name = "acme:me:1.0.0", .mailbox = {}, .foreign_id = {}});
  ActorRef billing =
      sys.spawn(std::make_unique<Quiet>(),
                {.name = "", .type_name = "acme:billing:1.0.0", .mailbox = {}, .foreign_id = {}});
  ActorRef echo = sys.spawn(std::make_unique<Quiet>(),
                            {.name = "", .type_name = "echo", .mailbox = {}, .foreign_id = {}});
  ActorRef helper = sys.spawn(std::make_unique<Quiet>(), {});  // untyped: "actor"
  ASSERT_TRUE(sys.register_name("desk", echo).ok());
  ASSERT_TRUE(sys.register_name("helper", helper).ok());

  const GuestGrants none;
  EXPECT_TRUE(may_reach(none, sys, self, self));
  EXPECT_FALSE(may_reach(none, sys, self, billing));
  EXPECT_FALSE(may_reach(none, sys, self, ActorRef{}));

  GuestGrants some;
  some.call = {"acme:billing:*", "desk", "helper", "root"};
  EXPECT_TRUE(may_reach(some, sys, self, billing));
  // A native actor needs its kind exposed to guests as well as a grant naming it.
  EXPECT_FALSE(may_reach(some, sys, self, echo));
  some.native_kinds = std::make_shared<std::set<std::string, std::less<>>>(
      std::set<std::string, std::less<>>{"echo"});
  EXPECT_TRUE(may_reach(some, sys, self, echo));  // by its name
  EXPECT_FALSE(may_reach(some, sys, self, helper));
  EXPECT_FALSE(may_reach(some, sys, self, sys.root()));
  EXPECT_FALSE(may_discover(some, {"troupe", "echo", "0.1.0"}));  // names grant no discovery
  EXPECT_TRUE(may_discover(some, {"acme", "billing", "2.0.0"}));

  // A kind not exposed (one that forwards to targets it is told, say) stays out of reach
  // whatever the patterns: "troupe:*:*" does not reach it, nor discover it.
  ActorRef pinger = sys.spawn(std::make_unique<Quiet>(),
                              {.name = "", .type_name = "pinger", .mailbox = {}, .foreign_id = {}});
  GuestGrants wide;
  wide.call = {"troupe:*:*", "*:*:*"};
  wide.native_kinds = some.native_kinds;
  EXPECT_FALSE(may_reach(wide, sys, self, pinger));
  EXPECT_TRUE(may_reach(wide, sys, self, echo));
  EXPECT_FALSE(may_discover(wide, {"troupe", "pinger", "0.1.0"}));
  EXPECT_TRUE(may_discover(wide, {"troupe", "echo", "0.1.0"}));
  EXPECT_TRUE(may_discover(wide, {"acme", "billing", "1.0.0"}));

  const GuestGrants all = GuestGrants::all();
  EXPECT_TRUE(may_reach(all, sys, self, billing));
  EXPECT_FALSE(may_reach(all, sys, self, sys.root()));
  EXPECT_FALSE(may_reach(all, sys, self, helper));
  EXPECT_TRUE(is_node_internal_type("supervisor"));
  EXPECT_TRUE(is_node_internal_type("actor"));
  EXPECT_FALSE(is_node_internal_type("echo"));
  sys.shutdown();
}

// An actor of another node, by id and the type its node announced, before any stand-in exists:
// the same patterns decide; an unknown remote type is reached only with every grant; a name
// this node holds is this node's actor, never the remote one; without a remote directory no
// name reaches another node.
TEST(GuestGrants, AnActorOfAnotherNodeIsDecidedOnItsAnnouncedType) {
  ActorSystem sys{SystemConfig{.workers = 1, .node_id = 0x1111}};
  ActorRef self =
      sys.spawn(std::make_unique<Quiet>(),
                {.name = "", .type_name = "acme:me:1.0.0", .mailbox = {}, .foreign_id = {}});
  ActorRef local =
      sys.spawn(std::make_unique<Quiet>(),
                {.name = "", .type_name = "acme:desk:1.0.0", .mailbox = {}, .foreign_id = {}});
  ASSERT_TRUE(sys.register_name("desk", local).ok());
  const ActorId remote{0x2222, 7};

  GuestGrants g;
  g.call = {"acme:billing:*", "desk", "far"};
  EXPECT_TRUE(may_reach(g, sys, self.id(), remote, "acme:billing:1.0.0"));
  EXPECT_FALSE(may_reach(g, sys, self.id(), remote, "acme:secret:1.0.0"));
  EXPECT_FALSE(may_reach(g, sys, self.id(), remote, kUnknownRemoteType));
  EXPECT_FALSE(may_reach(g, sys, self.id(), remote, "supervisor"));
  EXPECT_FALSE(may_reach(g, sys, self.id(), ActorId{0x2222, 0}, "acme:billing:1.0.0"));
  // "desk" is this node's actor; "far" names nothing here and there is no remote directory.
  EXPECT_FALSE(may_reach(g, sys, self.id(), remote, "acme:desk:1.0.0"));
  EXPECT_TRUE(may_reach(g, sys, self.id(), local.id(), "acme:desk:1.0.0"));
  // A native kind of another node: this node's exposure decides.
  g.call = {"troupe:echo:*"};
  EXPECT_FALSE(may_reach(g, sys, self.id(), remote, "echo"));
  g.native_kinds = std::make_shared<std::set<std::string, std::less<>>>(
      std::set<std::string, std::less<>>{"echo"});
  EXPECT_TRUE(may_reach(g, sys, self.id(), remote, "echo"));

  const GuestGrants all = GuestGrants::all();
  EXPECT_TRUE(may_reach(all, sys, self.id(), remote, kUnknownRemoteType));
  EXPECT_FALSE(may_reach(all, sys, self.id(), remote, "actor"));
  sys.shutdown();
}

Result<GuestModule> module_importing(const std::string& imports) {
  auto bin = wat_to_wasm("(module " + imports + R"(
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))
  (func (export "cabi_post_actr:workload/workload@0.1.0#dispatch") (param i32))))");
  if (!bin.ok()) return bin.error();
  return GuestModule::load(*bin);
}

TEST(GuestGrants, EachGatedImportNeedsItsCapability) {
  struct Case {
    std::string import;
    std::string capability;
  };
  const std::vector<Case> cases = {
      {R"((import "troupe:host/clock@0.1.0" "now-wall" (func (result i64))))", "clock"},
      {R"((import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32))))",
       "clock"},
      {R"((import "troupe:host/random@0.1.0" "fill" (func (param i32 i32))))", "random"},
      {R"((import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32))))",
       "random"},
      {R"((import "troupe:host/storage@0.1.0" "delete" (func (param i32 i32 i32))))", "storage"},
      {R"((import "troupe:host/signing@0.1.0" "public-key" (func (param i32))))", "signing"},
      {R"((import "troupe:host/identity@0.1.0" "credential" (func (param i32))))", "identity"},
  };
  for (const Case& c : cases) {
    auto m = module_importing(c.import);
    ASSERT_TRUE(m.ok()) << c.import << ": " << m.error().to_string();
    auto refused = check_granted_imports(*m, {}, false, false, false, "it lacks");
    ASSERT_FALSE(refused.ok()) << c.import;
    EXPECT_EQ(refused.error().code, WasmErrc::kPermissionDenied);
    EXPECT_NE(refused.error().detail.find("it lacks the " + c.capability + " capability"),
              std::string::npos)
        << refused.error().detail;
    GuestGrants g;
    g.clock = c.capability == "clock";
    g.random = c.capability == "random";
    EXPECT_TRUE(check_granted_imports(*m, g, c.capability == "storage", c.capability == "signing",
                                      c.capability == "identity", "it lacks")
                    .ok())
        << c.import;
  }
  // A guest importing nothing gated needs nothing.
  auto plain = module_importing("");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(check_granted_imports(*plain, {}, false, false, false, "x").ok());
}

}  // namespace
}  // namespace troupe::wasm
