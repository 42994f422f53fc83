// The node config's [[actor]] entries: read strictly (each bad value is one line naming the
// entry), then started by Node::start, in order, before it returns, through the same spawn path
// as `troupe spawn`; a failed entry fails the start and leaves nothing running; each entry's
// restart policy is the one its supervisor applies. (Packages at boot, through the real binary:
// tests/cli/boot_actor_test.cc.)
#include "troupe/node/boot_actor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "example_actors.h"
#include "troupe/node/boot_actor_table.h"
#include "troupe/node/node.h"
#include "troupe/runtime/envelope.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Result<NodeConfig> parse(const std::string& text, const std::string& base_dir = "/etc/troupe") {
  return NodeConfig::parse(text, "t.toml", base_dir);
}

TEST(BootActorConfig, ReadsPackagesAndKindsInOrderWithTheirSettings) {
  auto c = parse(R"(
[[actor]]
kind = "echo"
name = "e"

[[actor]]
package = "pkgs/counter.actr"
name = "c"
fuel = 5000
timeout_ms = "unlimited"
memory_pages = 16
tier = "interp"
restart = "transient"

[[actor]]
package = "/srv/p.actr"
restart = "temporary"

[wasm]
allow_unlimited = true
)");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->actors.size(), 3u);
  const BootActor& e = c->actors[0];
  EXPECT_EQ(e.kind, "echo");
  EXPECT_EQ(e.name, "e");
  EXPECT_TRUE(e.package.empty());
  EXPECT_EQ(e.restart, RestartPolicy::kPermanent);  // what `troupe spawn` gives
  EXPECT_EQ(e.tier, wasm::Tier::kAuto);
  for (const auto& limit : e.limits) EXPECT_FALSE(limit.has_value());
  const BootActor& p = c->actors[1];
  EXPECT_EQ(p.package, "/etc/troupe/pkgs/counter.actr");  // relative to the config's directory
  EXPECT_EQ(p.restart, RestartPolicy::kTransient);
  EXPECT_EQ(p.tier, wasm::Tier::kInterp);
  using wasm::LimitKey;
  EXPECT_EQ(p.limits[static_cast<std::size_t>(LimitKey::kFuel)], (wasm::LimitValue{false, 5000}));
  EXPECT_EQ(p.limits[static_cast<std::size_t>(LimitKey::kTimeoutMs)], (wasm::LimitValue{true, 0}));
  EXPECT_EQ(p.limits[static_cast<std::size_t>(LimitKey::kMemoryPages)],
            (wasm::LimitValue{false, 16}));
  EXPECT_FALSE(p.limits[static_cast<std::size_t>(LimitKey::kCallDepth)].has_value());
  EXPECT_EQ(c->actors[2].package, "/srv/p.actr");
  EXPECT_EQ(c->actors[2].restart, RestartPolicy::kTemporary);
  EXPECT_EQ(c->actors[2].label(2), "actor[2]");
  EXPECT_EQ(p.label(1), "actor[1] (c)");

  // The spawn request is what `troupe spawn --package` would send.
  SpawnRequest r = p.spawn_request();
  EXPECT_EQ(r.package_path, p.package);
  EXPECT_EQ(r.name, "c");
  EXPECT_EQ(r.limits, p.limits);
  EXPECT_EQ(r.tier, wasm::Tier::kInterp);
  EXPECT_EQ(r.restart, RestartPolicy::kTransient);
  EXPECT_TRUE(r.kind.empty());

  // Without a base directory (NodeConfig::parse alone), a relative path stays relative.
  auto bare = NodeConfig::parse("[[actor]]\npackage = \"p.actr\"\n", "t.toml");
  ASSERT_TRUE(bare.ok()) << bare.error().to_string();
  EXPECT_EQ(bare->actors[0].package, "p.actr");
  // No entries: none.
  EXPECT_TRUE(parse("[node]\nworkers = 1\n")->actors.empty());
}

// Every refusal is invalid-argument, one line, naming the file and the entry (by its index,
// and its name once that is read).
TEST(BootActorConfig, RefusesEachBadEntryWithALineNamingIt) {
  const std::string kFuel = R"(fuel must be an integer in 1..9223372036854775807 or "unlimited")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"actor = 5\n", "t.toml: actor must be an array of tables ([[actor]] entries)"},
      {"[actor]\nkind = \"echo\"\n",
       "t.toml: actor must be an array of tables ([[actor]] entries)"},
      {"actor = [1]\n", "t.toml: actor[0] must be a table ([[actor]])"},
      {"[[actor]]\nkind = \"echo\"\nname = \"e\"\nbogus = 1\n",
       "t.toml: actor[0] (e): unknown key bogus"},
      {"[[actor]]\nkind = \"echo\"\n\"a\\nb\" = 1\n",
       "t.toml: actor[0]: unknown key (a key that is empty, too long or not printable)"},
      {"[[actor]]\nname = \"e\"\n",
       "t.toml: actor[0] (e): give package (a package file) or kind (a native kind)"},
      {"[[actor]]\nkind = \"echo\"\npackage = \"p.actr\"\n",
       "t.toml: actor[0]: give package or kind, not both"},
      {"[[actor]]\nkind = \"echo\"\nname = \"e\"\nfuel = 10\n",
       "t.toml: actor[0] (e): fuel is a package's: a native kind takes no WebAssembly limits or "
       "tier"},
      {"[[actor]]\nkind = \"echo\"\ntier = \"aot\"\n",
       "t.toml: actor[0]: tier is a package's: a native kind takes no WebAssembly limits or tier"},
      {"[[actor]]\nkind = \"\"\n", "t.toml: actor[0]: kind is empty"},
      {"[[actor]]\nkind = 5\n", "t.toml: actor[0]: kind must be a string (a native actor kind)"},
      {"[[actor]]\nkind = \"a\\u001bb\"\n", "t.toml: actor[0]: kind contains a control character"},
      {"[[actor]]\npackage = \"\"\n",
       "t.toml: actor[0]: package must be a non-empty string without NUL bytes (a package file)"},
      {"[[actor]]\npackage = \"a\\u0000b\"\n",
       "t.toml: actor[0]: package must be a non-empty string without NUL bytes (a package file)"},
      {"[[actor]]\npackage = [\"p.actr\"]\n",
       "t.toml: actor[0]: package must be a non-empty string without NUL bytes (a package file)"},
      {"[[actor]]\nkind = \"echo\"\nname = \"\"\n", "t.toml: actor[0]: name is empty"},
      {"[[actor]]\nkind = \"echo\"\nname = 7\n", "t.toml: actor[0]: name must be a string"},
      {"[[actor]]\nkind = \"echo\"\nname = \"a\\nb\"\n",
       "t.toml: actor[0]: name contains a control character"},
      {"[[actor]]\nkind = \"echo\"\nname = \"" + std::string(256, 'n') + "\"\n",
       "t.toml: actor[0]: name is 256 bytes (at most 255)"},
      {"[[actor]]\nkind = \"echo\"\nname = \"1f.2\"\n",
       "t.toml: actor[0]: name '1f.2' reads as an actor id: names must not"},
      {"[[actor]]\nkind = \"echo\"\nrestart = \"always\"\n",
       R"(t.toml: actor[0]: restart must be "permanent", "transient" or "temporary")"},
      {"[[actor]]\nkind = \"echo\"\nrestart = true\n",
       R"(t.toml: actor[0]: restart must be "permanent", "transient" or "temporary")"},
      {"[[actor]]\npackage = \"p.actr\"\ntier = \"jit\"\n",
       R"(t.toml: actor[0]: tier must be "auto", "aot" or "interp")"},
      {"[[actor]]\npackage = \"p.actr\"\nname = \"p\"\nfuel = 0\n",
       "t.toml: actor[0] (p): " + kFuel},
      {"[[actor]]\npackage = \"p.actr\"\nname = \"p\"\nfuel = -1\n",
       "t.toml: actor[0] (p): " + kFuel},
      {"[[actor]]\npackage = \"p.actr\"\nname = \"p\"\nfuel = 1.5\n",
       "t.toml: actor[0] (p): " + kFuel},
      {"[[actor]]\npackage = \"p.actr\"\nname = \"p\"\nfuel = true\n",
       "t.toml: actor[0] (p): " + kFuel},
      {"[[actor]]\npackage = \"p.actr\"\nname = \"p\"\nfuel = \"lots\"\n",
       "t.toml: actor[0] (p): " + kFuel},
      {"[[actor]]\npackage = \"p.actr\"\ncall_depth = \"unlimited\"\n",
       "t.toml: actor[0]: call_depth must be an integer in 1..100000"},
      // Within the node's [wasm] policy, wherever the [wasm] table is in the file.
      {"[[actor]]\npackage = \"p.actr\"\nfuel = \"unlimited\"\n",
       "t.toml: actor[0]: 'fuel' unlimited: this node does not allow unlimited guests ([wasm] "
       "allow_unlimited = false)"},
      {"[wasm]\nmemory_pages = 16\nmax_memory_pages = 64\n[[actor]]\npackage = "
       "\"p.actr\"\nmemory_pages = 65\n",
       "t.toml: actor[0]: 'memory_pages' 65 is above this node's maximum of 64 ([wasm] "
       "max_memory_pages)"},
      {"[[actor]]\nkind = \"echo\"\nname = \"e\"\n[[actor]]\nkind = \"counter\"\nname = \"c\"\n"
       "[[actor]]\nkind = \"echo\"\nname = \"e\"\n",
       "t.toml: actor[2] (e): the name is taken by actor[0]"},
  };
  for (const auto& [text, message] : cases) {
    auto c = parse(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, BaseErrc::kInvalidArgument) << text;
    EXPECT_EQ(c.error().detail, message) << text;
    EXPECT_EQ(c.error().detail.find('\n'), std::string::npos) << text;
  }
}

TEST(BootActorConfig, RefusesMoreEntriesThanTheCap) {
  std::string text;
  for (std::size_t i = 0; i <= kMaxBootActors; ++i) text += "[[actor]]\nkind = \"echo\"\n";
  auto c = parse(text);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().detail, "t.toml: " + std::to_string(kMaxBootActors + 1) +
                                  " [[actor]] entries (at most " + std::to_string(kMaxBootActors) +
                                  ")");
}

// load() resolves relative package paths against the file's own directory, whatever the
// working directory.
TEST(BootActorConfig, LoadResolvesPackagesAgainstTheConfigFilesDirectory) {
  std::string tmpl = (fs::temp_directory_path() / "troupe-bootcfg-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  fs::create_directories(dir / "etc");
  std::ofstream(dir / "etc" / "node.toml") << "[[actor]]\npackage = \"../pkgs/e.actr\"\n";
  const fs::path cwd = fs::current_path();
  fs::current_path(dir / "etc");
  auto c = NodeConfig::load("node.toml");
  fs::current_path(cwd);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->actors[0].package, (dir / "etc" / "../pkgs/e.actr").string());
  fs::remove_all(dir);
}

// The example config scripts/up.sh runs with: it loads, and every kind it names exists.
TEST(BootActorConfig, TheExampleConfigLoadsAndNamesExistingKinds) {
  auto c = NodeConfig::load(std::string(TROUPE_SOURCE_DIR) + "/examples/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->actors.size(), 4u);
  KindRegistry kinds;
  examples::register_example_kinds(kinds);
  for (const BootActor& a : c->actors) EXPECT_NE(kinds.find(a.kind), nullptr) << a.kind;
}

// Node::start with [[actor]] entries, in-process.
class BootActorNode : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troupe-boot-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    config_.data_dir = root_ + "/data";
    config_.workers = 2;
  }
  void TearDown() override { fs::remove_all(root_); }

  static BootActor kind(const std::string& kind, const std::string& name,
                        RestartPolicy restart = RestartPolicy::kPermanent) {
    BootActor a;
    a.kind = kind;
    a.name = name;
    a.restart = restart;
    return a;
  }
  Result<std::unique_ptr<Node>> start(std::function<bool()> interrupted = {}) {
    KindRegistry kinds;
    examples::register_example_kinds(kinds);
    return Node::start(config_, std::move(kinds), std::move(interrupted));
  }
  static Result<Bytes> ask(Node& node, const std::string& actor, const std::string& route,
                           Bytes payload = {}) {
    std::promise<Result<AskReply>> p;
    node.operations().ask(AskRequest{SendRequest{actor, route, std::move(payload), ""}, 5s},
                          [&p](Result<AskReply> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    if (!r.ok()) return r.error();
    return r->payload;
  }

  std::string root_;
  NodeConfig config_;
};

// When start() returns, every entry runs, spawned in the file's order under the root.
TEST_F(BootActorNode, EveryEntryRunsWhenStartReturnsInTheirOrder) {
  config_.actors = {kind("counter", "c"), kind("echo", "e"), kind("echo", "")};
  auto node = start();
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  ActorRef c = (*node)->system().resolve("c");
  ActorRef e = (*node)->system().resolve("e");
  ASSERT_TRUE(c && c.alive());
  ASSERT_TRUE(e && e.alive());
  EXPECT_LT(c.id().serial, e.id().serial);
  EXPECT_EQ(c.type_name(), "counter");
  auto r = ask(**node, "e", "x", "hello");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "hello");
  // Children of the root: the two named ones and the unnamed echo.
  std::size_t children = 0;
  for (const ActorEntry& top : (*node)->operations().list().actors) {
    children += top.children.size();
  }
  EXPECT_EQ(children, 3u);
}

// A stop requested during a boot ends it between entries (a SIGTERM must not wait for hundreds
// of entries): the start fails "interrupted", and nothing keeps running.
TEST_F(BootActorNode, AStopRequestedDuringBootEndsItBetweenEntries) {
  config_.actors = {kind("echo", "a"), kind("echo", "b"), kind("echo", "c")};
  int asked = 0;
  auto node = start([&asked] { return ++asked > 2; });  // a stop arrives after two entries
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().code, BaseErrc::kUnavailable);
  EXPECT_EQ(node.error().detail, "interrupted: asked to stop before actor[2] (c) (2 of 3 started)");
  EXPECT_FALSE(fs::exists(config_.socket_path()));
  // Not asked: the boot runs whole.
  node = start([] { return false; });
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  EXPECT_TRUE((*node)->system().resolve("c"));
}

// A failed entry fails the start with its code and label; the entries before it are stopped,
// the socket never opens, and the data directory is free for the next start.
TEST_F(BootActorNode, AFailedEntryFailsTheStartAndLeavesNothingRunning) {
  config_.actors = {kind("echo", "first"), kind("nosuch", "x")};
  auto node = start();
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().code, BaseErrc::kNotFound) << node.error().to_string();
  EXPECT_EQ(node.error().to_string(),
            "not-found: actor[1] (x): no actor kind 'nosuch' (known: counter, crasher, echo, notary, "
            "pinger)");
  EXPECT_FALSE(fs::exists(config_.socket_path()));
  // Refused before the data directory is written: no identity made, no boot counted.
  EXPECT_FALSE(fs::exists(config_.data_dir + "/node.key"));
  EXPECT_FALSE(fs::exists(config_.data_dir + "/node.boot"));
  // So is a name a granted kind could not keep its data under.
  config_.actors = {kind("notary", "../x")};
  node = start();
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().detail.rfind("actor[0] (../x): ", 0), 0u) << node.error().to_string();
  EXPECT_FALSE(fs::exists(config_.data_dir + "/node.key"));

  // A package that is not there: the spawn's own error, with the entry's label.
  BootActor missing;
  missing.package = root_ + "/missing.actr";
  config_.actors = {kind("echo", "first"), missing};
  node = start();
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().detail.rfind("actor[1]: ", 0), 0u) << node.error().to_string();
  EXPECT_NE(node.error().detail.find("missing.actr"), std::string::npos)
      << node.error().to_string();
  // A directory is no package either.
  missing.package = root_;
  config_.actors = {missing};
  node = start();
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().detail.rfind("actor[0]: ", 0), 0u) << node.error().to_string();

  // Built by hand (a config file's duplicates are refused when it is read): the second spawn
  // finds the name taken, as `troupe spawn` would.
  config_.actors = {kind("echo", "twin"), kind("counter", "twin")};
  node = start();
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().to_string(), "invalid-argument: actor[1] (twin): name 'twin' is taken");

  config_.actors = {kind("echo", "first")};
  node = start();
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  EXPECT_TRUE((*node)->system().resolve("first"));
}

// Each entry's restart policy is its supervisor's rule: a permanent crasher comes back after a
// crash (the ask after it waits in the kept mailbox), a temporary one does not.
TEST_F(BootActorNode, TheEntrysRestartPolicyApplies) {
  config_.actors = {kind("crasher", "perm", RestartPolicy::kPermanent),
                    kind("crasher", "trans", RestartPolicy::kTransient),
                    kind("crasher", "temp", RestartPolicy::kTemporary)};
  auto node = start();
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  for (const char* name : {"perm", "trans", "temp"}) {
    auto crashed = ask(**node, name, "crash", "now");
    ASSERT_FALSE(crashed.ok()) << name;
    EXPECT_EQ(crashed.error().to_string(), "handler-error: crash requested: now") << name;
  }
  for (const char* name : {"perm", "trans"}) {
    auto r = ask(**node, name, "ping");
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().to_string();
    EXPECT_EQ(*r, "pong after 1 messages") << name;  // a fresh instance
  }
  EXPECT_FALSE(ask(**node, "temp", "ping").ok());
  EXPECT_FALSE((*node)->system().resolve("temp"));
}

}  // namespace
}  // namespace troupe
