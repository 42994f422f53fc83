// The mesh across a real network: five `troupe node run` processes, each in a network
// namespace of its own, wired to one bridge (tests/cli/network_lab.h). A 2|3 partition drops
// every frame between the sides; each side must see the other dead, and after the heal all
// five must see all five alive again. Under CPU stress on every core (stress-ng), no node may
// be declared dead. Skipped, with the reason, only where network namespaces cannot be made;
// a missing tool (ip, stress-ng) fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <thread>

#include "cli/mesh_node.h"
#include "cli/network_lab.h"

namespace troupe::testing {
namespace {

constexpr int kNodes = 5;

// Five nodes in a lab, node 0 the seed; every node allows the four others.
class FiveNodes {
 public:
  // `mesh_extra`: lines appended to each node's [mesh] table.
  explicit FiveNodes(NetworkLab& lab, const std::string& mesh_extra = "") {
    for (int i = 0; i < kNodes; ++i) {
      nodes_.push_back(std::make_unique<MeshNode>("partition-" + std::to_string(i)));
      nodes_.back()->launcher = lab.launcher(i);
    }
    for (auto& n : nodes_) {
      std::vector<const MeshNode*> others;
      for (auto& o : nodes_) {
        if (o != n) others.push_back(o.get());
      }
      n->configure(others);
      std::ofstream(n->dir + "/node.toml", std::ios::app) << mesh_extra;
    }
  }
  // Starts node i listening on its lab address, joining through node 0.
  bool start(NetworkLab& lab, int i) {
    std::vector<std::string> args{"--listen", lab.address(i) + ":7946"};
    if (i > 0) args.insert(args.end(), {"--join", nodes_[0]->address});
    return nodes_[i]->start(args);
  }
  // Starts all five and waits (15 s at most) until each sees all five alive.
  ::testing::AssertionResult start_all(NetworkLab& lab) {
    for (int i = 0; i < kNodes; ++i) {
      if (!start(lab, i)) {
        return ::testing::AssertionFailure()
               << "node " << i << ": " << nodes_[i]->process->errors();
      }
    }
    if (!within(std::chrono::seconds(15), [&] { return all_alive_everywhere(); })) {
      return ::testing::AssertionFailure() << tables();
    }
    return ::testing::AssertionSuccess();
  }
  MeshNode& operator[](int i) { return *nodes_[i]; }

  // Every member listed at every node, for failure messages.
  std::string tables() const {
    std::string out;
    for (int i = 0; i < kNodes; ++i) {
      out += "node " + std::to_string(i) + " (" + nodes_[i]->address + "):\n";
      for (auto& [key, m] : nodes_[i]->members()) {
        out += "  " + m["address"].get<std::string>() + " " + m["state"].get<std::string>() +
               " incarnation " + std::to_string(m["incarnation"].get<std::uint64_t>()) + "\n";
      }
    }
    return out;
  }
  // Whether node `at` holds each of `of` in `want`.
  bool all_in(int at, const std::vector<int>& of, const std::string& want) const {
    auto members = nodes_[at]->members();
    for (int o : of) {
      auto it = members.find(nodes_[o]->key);
      if (it == members.end() || it->second["state"] != want) return false;
    }
    return true;
  }
  bool all_alive_everywhere() const {
    for (int i = 0; i < kNodes; ++i) {
      if (!all_in(i, {0, 1, 2, 3, 4}, "alive")) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<MeshNode>> nodes_;
};

TEST(MeshPartition, SplitTwoThreeEachSideSeesTheOtherDeadAndAllConvergeAfterTheHeal) {
  if (auto why = NetworkLab::namespaces_unavailable()) GTEST_SKIP() << *why;
  NetworkLab lab(kNodes);
  ASSERT_EQ(lab.error(), "");
  FiveNodes nodes(lab);
  ASSERT_TRUE(nodes.start_all(lab));

  const std::vector<int> a{0, 1}, b{2, 3, 4};
  ASSERT_TRUE(lab.partition(b)) << lab.error();
  const auto split = std::chrono::steady_clock::now();
  // The bound: suspicion at its longest (suspicion_max_timeout_mult * suspicion_mult * probe
  // interval: 2.4 s at this timing) after a probe round, with room for a loaded CI machine.
  ASSERT_TRUE(within(std::chrono::seconds(15),
                     [&] {
                       for (int i : a) {
                         if (!nodes.all_in(i, b, "dead")) return false;
                       }
                       for (int i : b) {
                         if (!nodes.all_in(i, a, "dead")) return false;
                       }
                       return true;
                     }))
      << "after the split:\n"
      << nodes.tables();
  std::printf("split 2|3 to each side seeing the other dead: %lld ms\n", ms_since(split));
  for (int i : a) EXPECT_TRUE(nodes.all_in(i, a, "alive")) << nodes.tables();
  for (int i : b) EXPECT_TRUE(nodes.all_in(i, b, "alive")) << nodes.tables();

  // Held until every node has forgotten the other side (a dead member is reaped
  // gossip_to_the_dead_time after its death: 30 s, this timing leaves memberlist's default), so
  // the heal rests on the reconnect loop alone. By then a TCP connection kept across the split
  // could wait tens of seconds for its next retransmission (the backoff doubles from about
  // 200 ms), which is why a member declared dead has its connections closed
  // (ClusterMesh.AMemberDeclaredDeadHasItsConnectionClosedAndIsDialledAfresh).
  EXPECT_TRUE(within(std::chrono::seconds(45),
                     [&] {
                       for (int i : a) {
                         if (nodes[i].members().size() != a.size()) return false;
                       }
                       for (int i : b) {
                         if (nodes[i].members().size() != b.size()) return false;
                       }
                       return true;
                     }))
      << "the other side still listed after the reap time:\n"
      << nodes.tables();
  std::printf("split to every node having reaped the other side: %lld ms\n", ms_since(split));

  ASSERT_TRUE(lab.heal()) << lab.error();
  const auto healed = std::chrono::steady_clock::now();
  // Each node pushes-pulls with a member it held dead every reconnect interval (1 s here); its
  // dial may wait out a connect attempt made during the split (the handshake timeout, 5 s).
  EXPECT_TRUE(within(std::chrono::seconds(15), [&] { return nodes.all_alive_everywhere(); }))
      << "after the heal:\n"
      << nodes.tables();
  std::printf("heal to all five alive at all five: %lld ms\n", ms_since(healed));
}

// stress-ng with one CPU hog per hardware thread and as many again, so that every core, and
// with it every node, is short of CPU. Stopped (SIGTERM, then waited for) when it goes away.
class CpuStress {
 public:
  CpuStress(unsigned hogs, int seconds) {
    pid_ = start_program(
        {"stress-ng", "--cpu", std::to_string(hogs), "--timeout", std::to_string(seconds) + "s"},
        out_fd_);
  }
  ~CpuStress() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  CpuStress(const CpuStress&) = delete;
  CpuStress& operator=(const CpuStress&) = delete;

  // Reads stress-ng's output until it says it started its hogs; false if it exited first.
  bool wait_started() {
    while (output_.find("dispatching hogs") == std::string::npos) {
      char buf[1024];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return false;
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  bool running() {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) != 0) pid_ = -1;
    return pid_ > 0;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
};

TEST(MeshPartition, UnderCpuStressOnEveryCoreNoNodeIsDeclaredDead) {
  if (auto why = NetworkLab::namespaces_unavailable()) GTEST_SKIP() << *why;
  const CliResult version = run_program({"stress-ng", "--version"});
  ASSERT_EQ(version.code, 0) << "stress-ng is needed (scripts/setup.sh installs it): "
                             << version.out;
  NetworkLab lab(kNodes);
  ASSERT_EQ(lab.error(), "");
  FiveNodes nodes(lab);
  ASSERT_TRUE(nodes.start_all(lab));

  // 10 s at this timing is 100 probe rounds per node, each with a 50 ms ack timeout: tighter
  // than memberlist's LAN timing, so a starved node has less room, not more.
  constexpr auto kStressed = std::chrono::seconds(10);
  const unsigned hogs = 2 * std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::size_t> log_start;
  for (int i = 0; i < kNodes; ++i) {
    nodes[i].process->read_available();
    log_start.push_back(nodes[i].process->output().size());
  }
  CpuStress stress(hogs, 15);
  ASSERT_TRUE(stress.wait_started()) << stress.output();
  const auto start = std::chrono::steady_clock::now();
  int polls = 0;
  while (std::chrono::steady_clock::now() - start < kStressed) {
    ASSERT_TRUE(stress.running()) << "stress-ng stopped early: " << stress.output();
    for (int at = 0; at < kNodes; ++at) {
      auto members = nodes[at].members();
      ASSERT_EQ(members.size(), static_cast<std::size_t>(kNodes)) << nodes.tables();
      for (int of = 0; of < kNodes; ++of) {
        ASSERT_NE(members[nodes[of].key]["state"], "dead")
            << "node " << of << " declared dead at node " << at << " after " << ms_since(start)
            << " ms of stress:\n"
            << nodes.tables();
      }
      nodes[at].process->read_available();
    }
    ++polls;
  }
  const long long stressed_ms = ms_since(start);
  ASSERT_TRUE(stress.running()) << "stress-ng stopped early: " << stress.output();
  // Between polls too: every membership event a node logs ("cluster: KEY dead (ADDRESS) ...").
  int suspect_events = 0;
  for (int i = 0; i < kNodes; ++i) {
    nodes[i].process->read_available();
    const std::string log = nodes[i].process->output().substr(log_start[i]);
    EXPECT_EQ(log.find(" dead ("), std::string::npos) << "node " << i << " logged:\n" << log;
    for (std::size_t at = log.find(" suspect ("); at != std::string::npos;
         at = log.find(" suspect (", at + 1)) {
      ++suspect_events;
    }
  }
  std::printf(
      "%u CPU hogs on %u hardware threads for %lld ms: %d polls of all five tables, %d suspect "
      "events logged, no dead\n",
      hogs, std::thread::hardware_concurrency(), stressed_ms, polls, suspect_events);
}

// A cut between two nodes that both stay alive through the others is never closed by the
// membership; without a TCP user timeout their connection would sit in TCP's retransmission
// backoff for a quarter of an hour, and traffic between them with it. With one (2 s here) both
// ends close it, and once the path is back they connect afresh.
TEST(MeshPartition, ALinkCutBetweenTwoLiveNodesClosesTheirConnectionWithinTheTcpUserTimeout) {
  if (auto why = NetworkLab::namespaces_unavailable()) GTEST_SKIP() << *why;
  NetworkLab lab(kNodes);
  ASSERT_TRUE(lab.error().empty()) << lab.error();
  FiveNodes nodes(lab, "tcp_user_timeout_ms = 2000\n");
  ASSERT_TRUE(nodes.start_all(lab));
  nodes[1].process->read_available();
  const std::size_t log_start = nodes[1].process->output().size();
  auto log_since = [&](std::size_t from) {
    nodes[1].process->read_available();
    return nodes[1].process->output().substr(from);
  };
  const std::string gone = "mesh: disconnected from " + nodes[2].key;
  const auto cut_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(lab.cut_link(1, 2)) << lab.error();
  ASSERT_TRUE(within(std::chrono::seconds(15), [&] {
    return log_since(log_start).find(gone) != std::string::npos;
  })) << log_since(log_start);
  const auto closed_ms = ms_since(cut_at);
  // Through the other three, each still holds the other as a member, not dead.
  EXPECT_NE(nodes[1].members()[nodes[2].key]["state"], "dead") << nodes.tables();
  EXPECT_NE(nodes[2].members()[nodes[1].key]["state"], "dead") << nodes.tables();
  const std::size_t healed_from = nodes[1].process->output().size();
  ASSERT_TRUE(lab.restore_link(1, 2)) << lab.error();
  const auto restored_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(within(std::chrono::seconds(20), [&] {
    return log_since(healed_from).find("mesh: connected to " + nodes[2].key) != std::string::npos;
  })) << log_since(healed_from);
  std::printf("cut 1-2: connection closed after %lld ms; reconnected %lld ms after the restore\n",
              closed_ms, ms_since(restored_at));
}

}  // namespace
}  // namespace troupe::testing
