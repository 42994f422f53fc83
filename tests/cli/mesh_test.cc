// The mesh through the real binary: `troupe node run --listen/--join` processes on 127.0.0.1,
// `troupe node id`, `troupe cluster members|allow`. Each node prints its readiness line (with
// its mesh address) before a test talks to it; states are polled with a bound, never slept on.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/mesh_node.h"

namespace troupe::testing {
namespace {

using nlohmann::json;

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
  ASSERT_TRUE(start_pair(a, b));
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
  ASSERT_TRUE(start_pair(a, b));
  const auto first = a.members()[b.key]["incarnation"].get<std::uint64_t>();
  b.process->stop();  // SIGTERM: a clean stop announces it
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return a.state_of(b) == "left"; }));
  ASSERT_TRUE(b.start({"--listen", "127.0.0.1:0", "--join", a.address}));
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return a.state_of(b) == "alive"; }));
  EXPECT_GT(a.members()[b.key]["incarnation"].get<std::uint64_t>(), first);
}

// Signs the test guest `guest` as acme:NAME:1.0.0 with a key made in `dir`/KEYS (made on first
// use); the package's path.
std::string signed_package(const std::string& dir, const std::string& guest,
                           const std::string& name, const std::string& keys) {
  if (!std::filesystem::exists(dir + "/" + keys + "/signing.key")) {
    auto k = run_cli({"pkg", "keygen", "--out", dir + "/" + keys}, dir);
    EXPECT_EQ(k.code, 0) << k.err;
  }
  const std::string manifest = dir + "/" + name + ".toml";
  std::ofstream(manifest) << "manufacturer = \"acme\"\nname = \"" << name
                          << "\"\nversion = \"1.0.0\"\n\n[binary]\npath = \"bin/" << guest
                          << ".wasm\"\ntarget = \"wasm32-wasip1\"\n";
  const std::string out = dir + "/" + name + ".actr";
  auto b = run_cli({"pkg", "build", "--manifest", manifest, "--binary",
                    std::string(TROUPE_GUEST_DIR) + "/" + guest + ".wasm", "--key",
                    dir + "/" + keys + "/signing.key", "-o", out},
                   dir);
  EXPECT_EQ(b.code, 0) << b.err;
  return out;
}

// `troupe spawn --node ID --package FILE`: the package travels to the other node, which verifies
// it against its own trust store and spawns it only when its config accepts remote spawns; the
// actor is then reachable by name from the first node. Every refusal is one clear line.
TEST(Mesh, RemoteSpawnIsVerifiedByTheTargetsTrustStoreAndNeedsItsConsent) {
  MeshNode a("mesh-a"), b("mesh-b");
  ASSERT_TRUE(start_pair(a, b, "remote_spawn = \"signed-packages\"\n"));
  const std::string b_id = a.members()[b.key]["id"].get<std::string>();
  const std::string a_id = b.members()[a.key]["id"].get<std::string>();
  const std::string echo = signed_package(a.dir, "echo", "echo", "keys");
  auto expect_error = [](const CliResult& r, const std::string& kind, const std::string& needle) {
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(r.err.rfind("error: " + kind + ": ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };

  // b does not trust the key yet: its own trust store decides, not a's (which trusts it).
  ASSERT_EQ(a.process->cli({"trust", "add", a.dir + "/keys/signing.pub"}).code, 0);
  expect_error(a.process->cli({"spawn", "--node", b_id, "--package", echo, "--name", "re"}),
               "untrusted", "mfr-");
  ASSERT_EQ(b.process->cli({"trust", "add", a.dir + "/keys/signing.pub"}).code, 0);
  auto spawned = a.process->cli(
      {"spawn", "--node", b_id, "--package", echo, "--name", "re", "--tier", "interp"});
  ASSERT_EQ(spawned.code, 0) << spawned.err;
  EXPECT_EQ(spawned.out.rfind(b_id + ".", 0), 0u) << spawned.out;  // an actor of b
  // It runs on b, under b's supervisor, with the signed type.
  auto listed = b.process->cli({"ls"});
  EXPECT_NE(listed.out.find("acme:echo:1.0.0"), std::string::npos) << listed.out;
  auto here = b.process->cli({"ask", "re", "echo", "on-b"});
  EXPECT_EQ(here.out, "on-b\n") << here.err;
  CliResult asked;
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] {
    asked = a.process->cli({"ask", "re", "echo", "from-a"});
    return asked.code == 0;
  })) << asked.err;
  EXPECT_EQ(asked.out, "from-a\n");
  // By the id it printed, too.
  auto by_id = a.process->cli({"ask", spawned.out.substr(0, spawned.out.size() - 1), "echo", "i"});
  EXPECT_EQ(by_id.out, "i\n") << by_id.err;

  // a did not opt in: b's request is refused there, with the reason.
  ASSERT_EQ(b.process->cli({"trust", "add", a.dir + "/keys/signing.pub"}).code, 0);
  expect_error(b.process->cli({"spawn", "--node", a_id, "--package", echo}), "permission-denied",
               "remote_spawn");
  // A package signed by a key b does not trust, a name already taken there, a limit over b's
  // maxima: b's checks, b's errors.
  const std::string other = signed_package(a.dir, "echo", "other", "other-keys");
  expect_error(a.process->cli({"spawn", "--node", b_id, "--package", other}), "untrusted", "mfr-");
  expect_error(a.process->cli({"spawn", "--node", b_id, "--package", echo, "--name", "re"}),
               "invalid-argument", "is taken");
  // Only packages cross; a node id must be one; a node not in the mesh is unreachable.
  auto kind = a.process->cli({"spawn", "echo", "--node", b_id});
  EXPECT_EQ(kind.code, 1);
  EXPECT_NE(kind.err.find("--package"), std::string::npos) << kind.err;
  auto bad = a.process->cli({"spawn", "--node", "not-hex", "--package", echo});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("node id"), std::string::npos) << bad.err;
  auto nowhere = a.process->cli({"spawn", "--node", "1234abcd", "--package", echo});
  EXPECT_EQ(nowhere.code, 1);
  EXPECT_EQ(nowhere.err.find('\n'), nowhere.err.size() - 1) << nowhere.err;
  // A bad config word is refused at start, naming the key.
  std::ofstream(a.dir + "/bad.toml")
      << "[mesh]\nlisten = \"127.0.0.1:0\"\nremote_spawn = \"yes\"\n";
  auto refused = run_cli(
      {"node", "run", "--config", a.dir + "/bad.toml", "--data-dir", a.dir + "/bad"}, a.dir);
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("mesh.remote_spawn"), std::string::npos) << refused.err;
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
  // Review finding: a listen host that is a name, or every interface without [mesh] advertise,
  // was refused only after the data directory was written (keys, boot counter). Refused first.
  for (const auto& [address, says] : {std::pair{"localhost:7450", "the host must be an IP address"},
                                      std::pair{"0.0.0.0:7450", "is every interface"}}) {
    const std::string fresh = a.dir + "/fresh";
    auto refused = run_cli({"node", "run", "--data-dir", fresh, "--listen", address}, a.dir);
    EXPECT_NE(refused.code, 0) << address;
    EXPECT_NE(refused.err.find(says), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(fresh)) << address << ": the data dir was written";
  }
}

}  // namespace
}  // namespace troupe::testing
