// The mesh through the real binary: `troupe node run --listen/--join` processes on 127.0.0.1,
// `troupe node id`, `troupe cluster members|allow`. Each node prints its readiness line (with
// its mesh address) before a test talks to it; states are polled with a bound, never slept on.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cli/node_process.h"

namespace troupe::testing {
namespace {

using nlohmann::json;

// Ten times memberlist's LAN timing: the same protocol, tests that take seconds.
constexpr const char* kFastCluster =
    "[cluster]\nprobe_interval_ms = 100\nprobe_timeout_ms = 50\ngossip_interval_ms = 20\n"
    "push_pull_interval_ms = 3000\nreconnect_interval_ms = 1000\n";

struct MeshNode {
  std::string dir;
  std::string key;
  std::unique_ptr<NodeProcess> process;
  std::string address;  // from the readiness line

  explicit MeshNode(const std::string& tag) : dir(temp_dir(tag)) {
    auto id = run_cli({"node", "id", "--data-dir", dir}, dir);
    EXPECT_EQ(id.code, 0) << id.err;
    key = id.out.substr(0, id.out.find('\n'));
  }
  ~MeshNode() {
    process.reset();
    std::filesystem::remove_all(dir);
  }
  void configure(const std::vector<const MeshNode*>& allowed) {
    std::string allow;
    for (const MeshNode* n : allowed) allow += (allow.empty() ? "\"" : ", \"") + n->key + "\"";
    std::ofstream(dir + "/node.toml") << kFastCluster << "[mesh]\nallow = [" << allow << "]\n";
  }
  bool start(std::vector<std::string> extra) {
    extra.insert(extra.begin(), {"--config", dir + "/node.toml"});
    process = std::make_unique<NodeProcess>(dir, extra);
    if (!process->wait_ready()) return false;
    std::smatch m;
    const std::string& out = process->output();
    if (!std::regex_search(out, m, std::regex("mesh=(\\S+)"))) return false;
    address = m[1];
    return true;
  }
  // Member states by key, as `troupe cluster members --json` prints them.
  std::map<std::string, json> members() const {
    std::map<std::string, json> out;
    auto r = process->cli({"cluster", "members", "--json"});
    if (r.code != 0) return out;
    for (const json& m : json::parse(r.out)) out[m["key"].get<std::string>()] = m;
    return out;
  }
  std::string state_of(const MeshNode& other) const {
    auto all = members();
    auto it = all.find(other.key);
    return it == all.end() ? "" : it->second["state"].get<std::string>();
  }
};

template <class Pred>
bool within(std::chrono::milliseconds limit, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(Mesh, ThreeNodesJoinAndAKilledNodeIsDeadAtTheOthersWithinTheBound) {
  MeshNode a("mesh-a"), b("mesh-b"), c("mesh-c");
  a.configure({&b, &c});
  b.configure({&a, &c});
  c.configure({&a, &b});
  ASSERT_TRUE(a.start({"--listen", "127.0.0.1:0"}));
  ASSERT_TRUE(b.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  ASSERT_TRUE(c.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  for (MeshNode* n : {&a, &b, &c}) {
    ASSERT_TRUE(within(std::chrono::seconds(10), [&] {
      return n->state_of(a) == "alive" && n->state_of(b) == "alive" && n->state_of(c) == "alive";
    })) << n->process->cli({"cluster", "members"}).out;
  }
  // An actor named on c after the nodes joined is reachable by name from a (the registry
  // announces a change within its check interval), through the real CLI.
  auto spawned = c.process->cli({"spawn", "echo", "--name", "far-echo"});
  ASSERT_EQ(spawned.code, 0) << spawned.err;
  CliResult asked;
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] {
    asked = a.process->cli({"ask", "far-echo", "any", "across"});
    return asked.code == 0;
  })) << asked.err;
  EXPECT_EQ(asked.out, "across\n");
  auto listed = a.process->cli({"ls", "--cluster"});
  EXPECT_NE(listed.out.find("far-echo"), std::string::npos) << listed.out;
  // The listing carries what the issue names: id, address, state, incarnation.
  const json member = a.members()[c.key];
  EXPECT_EQ(member["address"], c.address);
  EXPECT_TRUE(member["id"].is_string());
  EXPECT_GT(member["incarnation"].get<std::uint64_t>(), 0u);

  ::kill(c.process->pid(), SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  // The bound: a probe round, the probe and indirect timeouts, and the longest suspicion
  // (suspicion_max_timeout_mult * suspicion_mult * probe interval), with room for a loaded CI.
  for (MeshNode* n : {&a, &b}) {
    ASSERT_TRUE(within(std::chrono::seconds(8), [&] { return n->state_of(c) == "dead"; }));
  }
  std::printf("kill -9 to dead at both others: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
  EXPECT_EQ(a.state_of(b), "alive");
}

// A WebAssembly guest on one node calls an actor of another, within its grants: the example
// pinger package on a discovers the example echo package spawned on b (the cluster registry)
// and calls it; the example counter on b, outside the pinger's grants, is refused.
TEST(Mesh, AGuestCallsAnActorOfAnotherNodeWithinItsGrants) {
  const std::string pkgs = TROUPE_PACKAGE_DIR;
  MeshNode a("mesh-a"), b("mesh-b");
  a.configure({&b});
  b.configure({&a});
  ASSERT_TRUE(a.start({"--listen", "127.0.0.1:0"}));
  ASSERT_TRUE(b.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return a.state_of(b) == "alive"; }));
  for (MeshNode* n : {&a, &b}) {
    auto t = n->process->cli({"trust", "add", pkgs + "/dev-key/signing.pub"});
    ASSERT_EQ(t.code, 0) << t.err;
  }
  auto spawn = [&](MeshNode& n, const std::string& package, const std::string& name) {
    auto s = n.process->cli(
        {"spawn", "--package", pkgs + "/" + package + ".actr", "--name", name, "--tier", "interp"});
    EXPECT_EQ(s.code, 0) << name << ": " << s.err;
  };
  spawn(b, "echo", "far-echo");
  spawn(b, "counter", "far-counter");
  spawn(a, "pinger", "pinger");
  CliResult pong;
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] {
    pong = a.process->cli({"ask", "pinger", "ping"});
    return pong.code == 0;
  })) << pong.err;
  EXPECT_EQ(pong.out, "pong: ping\n");
  auto refused = a.process->cli({"ask", "pinger", "ping", "counter"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("permission-denied"), std::string::npos) << refused.err;
  // a has no echo of its own: the answer came from b's.
  EXPECT_EQ(a.process->cli({"ls"}).out.find("example:echo"), std::string::npos);
}

// Five processes: every node sees all five alive; a kill -9 is dead at the four others within
// the bound, and the others stay alive. Prints the figures it saw.
TEST(Mesh, FiveNodesConvergeAndAKilledOneIsDeadAtTheOtherFour) {
  std::vector<std::unique_ptr<MeshNode>> nodes;
  for (int i = 0; i < 5; ++i)
    nodes.push_back(std::make_unique<MeshNode>("mesh5-" + std::to_string(i)));
  for (auto& n : nodes) {
    std::vector<const MeshNode*> others;
    for (auto& o : nodes) {
      if (o != n) others.push_back(o.get());
    }
    n->configure(others);
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(nodes[0]->start({"--listen", "127.0.0.1:0"}));
  for (int i = 1; i < 5; ++i) {
    ASSERT_TRUE(nodes[i]->start({"--listen", "127.0.0.1:0", "--join", nodes[0]->address}));
  }
  auto alive_everywhere = [&](std::size_t skip, std::size_t want) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i == skip) continue;
      std::size_t alive = 0;
      for (auto& [key, m] : nodes[i]->members()) alive += m["state"] == "alive";
      if (alive != want) return false;
    }
    return true;
  };
  ASSERT_TRUE(within(std::chrono::seconds(15), [&] { return alive_everywhere(99, 5); }));
  std::printf("5 processes started and alive at all five: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
  ::kill(nodes[4]->process->pid(), SIGKILL);
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(within(std::chrono::seconds(8), [&] {
    for (int i = 0; i < 4; ++i) {
      if (nodes[i]->state_of(*nodes[4]) != "dead") return false;
    }
    return true;
  }));
  std::printf("kill -9 to dead at the other four: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t1)
                                         .count()));
  EXPECT_TRUE(alive_everywhere(4, 4));
}

TEST(Mesh, AnUnlistedNodeIsRefusedAndLoggedUntilClusterAllowAdmitsIt) {
  MeshNode a("mesh-a"), d("mesh-d");
  a.configure({});  // lists nobody
  d.configure({&a});
  ASSERT_TRUE(a.start({"--listen", "127.0.0.1:0"}));
  ASSERT_TRUE(d.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  // a refuses d after the handshake, naming d's key in its log; d hears why.
  ASSERT_TRUE(a.process->wait_line("not-allowed", std::chrono::seconds(10)));
  EXPECT_NE(a.process->output().find("refused peer " + d.key), std::string::npos)
      << a.process->output();
  ASSERT_TRUE(d.process->wait_line("refused this node", std::chrono::seconds(10)))
      << d.process->output();
  EXPECT_EQ(a.state_of(d), "");
  // A key that is not one is refused with a one-line error; the real one admits d, whose
  // join (still dialling, with backoff) then succeeds. a must also be allowed by d: it is.
  auto bad = a.process->cli({"cluster", "allow", "not-a-key"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("invalid-argument"), std::string::npos) << bad.err;
  auto allowed = a.process->cli({"cluster", "allow", d.key});
  ASSERT_EQ(allowed.code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "allowed\n");
  ASSERT_TRUE(within(std::chrono::seconds(20), [&] { return a.state_of(d) == "alive"; }))
      << a.process->errors();
  // Kept across a restart of a (mesh.allow in its data directory).
  // A node that left is not dialled again by the others: the restarted a joins through d.
  a.process->stop();
  ASSERT_TRUE(a.start({"--listen", a.address, "--join", d.address}));
  auto again = a.process->cli({"cluster", "allow", d.key});
  EXPECT_EQ(again.out, "already allowed\n");
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return a.state_of(d) == "alive"; }));
  // Taken off again: its connections close and it fails at a like any node that is gone.
  auto disallowed = a.process->cli({"cluster", "disallow", d.key});
  ASSERT_EQ(disallowed.code, 0) << disallowed.err;
  EXPECT_EQ(disallowed.out, "disallowed\n");
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return a.state_of(d) == "dead"; }))
      << a.process->cli({"cluster", "members"}).out << a.process->output();
}

TEST(Mesh, ARestartedNodeRejoinsWithAHigherIncarnationAndALeaveIsLeft) {
  MeshNode a("mesh-a"), b("mesh-b");
  a.configure({&b});
  b.configure({&a});
  ASSERT_TRUE(a.start({"--listen", "127.0.0.1:0"}));
  ASSERT_TRUE(b.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return a.state_of(b) == "alive"; }));
  const auto first = a.members()[b.key]["incarnation"].get<std::uint64_t>();
  b.process->stop();  // SIGTERM: a clean stop announces it
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return a.state_of(b) == "left"; }));
  ASSERT_TRUE(b.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return a.state_of(b) == "alive"; }));
  EXPECT_GT(a.members()[b.key]["incarnation"].get<std::uint64_t>(), first);
}

TEST(Mesh, NodeIdPrintsTheKeyStatusReportsAndMeshCommandsNeedAMesh) {
  MeshNode a("mesh-a");
  std::ofstream(a.dir + "/node.toml") << "[node]\n";
  a.process = std::make_unique<NodeProcess>(a.dir, std::vector<std::string>{});
  ASSERT_TRUE(a.process->wait_ready());
  auto status = a.process->cli({"status"});
  ASSERT_EQ(status.code, 0);
  auto members = a.process->cli({"cluster", "members"});
  EXPECT_NE(members.code, 0);
  EXPECT_NE(members.err.find("unavailable"), std::string::npos) << members.err;
  const std::string boot_before = read_file(a.dir + "/node.boot");
  auto id = run_cli({"node", "id", "--data-dir", a.dir}, a.dir);  // beside the running node
  EXPECT_EQ(id.out, a.key + "\n");
  // Review finding: it raised the running node's boot counter.
  EXPECT_EQ(read_file(a.dir + "/node.boot"), boot_before);
  auto bad_listen =
      run_cli({"node", "run", "--data-dir", a.dir + "/x", "--listen", "nowhere"}, a.dir);
  EXPECT_NE(bad_listen.code, 0);
  EXPECT_NE(bad_listen.err.find("--listen"), std::string::npos) << bad_listen.err;
}

}  // namespace
}  // namespace troupe::testing
