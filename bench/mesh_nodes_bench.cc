// The mesh's membership figures, with real `troupe node run` processes on 127.0.0.1 at the
// default [cluster] timing (memberlist's LAN profile): each node is started and waited for by
// its readiness line (never a sleep); what each node sees is read with
// `troupe cluster members --json`, polled.
//   mesh_nodes_bench converge   5 nodes: from the first node's launch until every node sees
//                               all 5 alive
//   mesh_nodes_bench detect     5 nodes, converged; kill -9 of one, until each of the other 4
//                               reports it dead
// A figure is an upper bound by at most one polling round (a CLI run per node, then 10 ms).
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <thread>

#include "bench_common.h"
#include "cli/node_process.h"

using nlohmann::json;
using troupe::testing::NodeProcess;
using troupe::testing::run_cli;
using troupe::testing::temp_dir;

namespace {

constexpr int kNodes = 5;
// How long a step may take before the run fails (a figure past it is a broken cluster).
constexpr auto kLimit = std::chrono::seconds(60);
constexpr auto kPollPause = std::chrono::milliseconds(10);

// Thrown to main, so the nodes' destructors stop the processes on the way.
[[noreturn]] void fail(const std::string& why) { throw std::runtime_error(why); }

struct Node {
  std::string dir = temp_dir("bench-mesh");
  std::string key;
  std::string address;  // from the readiness line
  std::unique_ptr<NodeProcess> process;

  Node() {
    auto id = run_cli({"node", "id", "--data-dir", dir}, dir);
    if (id.code != 0) fail("troupe node id: " + id.err);
    key = id.out.substr(0, id.out.find('\n'));
  }
  ~Node() {
    process.reset();
    std::filesystem::remove_all(dir);
  }
  // [mesh] allow lists the others; no [cluster] table: the default (LAN) timing.
  void configure(const std::vector<std::unique_ptr<Node>>& all) {
    std::string allow;
    for (const auto& n : all) {
      if (n.get() != this) allow += (allow.empty() ? "\"" : ", \"") + n->key + "\"";
    }
    std::ofstream(dir + "/node.toml") << "[mesh]\nallow = [" << allow << "]\n";
  }
  // Launches the node; ready() waits for its readiness line.
  void launch(const std::string& join) {
    std::vector<std::string> args{"--config", dir + "/node.toml", "--listen", "127.0.0.1:0"};
    if (!join.empty()) args.insert(args.end(), {"--join", join});
    process =
        std::make_unique<NodeProcess>(dir, args, std::vector<std::pair<std::string, std::string>>{},
                                      /*allow_unsigned=*/false);
  }
  void ready() {
    if (!process->wait_ready()) fail("a node did not get ready: " + process->errors());
    std::smatch m;
    const std::string& out = process->output();
    if (!std::regex_search(out, m, std::regex("mesh=(\\S+)"))) fail("no mesh= in " + out);
    address = m[1];
  }
  // The states this node holds, by key ({} if the CLI failed).
  std::map<std::string, std::string> states() const {
    std::map<std::string, std::string> out;
    auto r = process->cli({"cluster", "members", "--json"});
    if (r.code != 0) return out;
    for (const json& m : json::parse(r.out)) {
      out[m["key"].get<std::string>()] = m["state"].get<std::string>();
    }
    return out;
  }
};

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Polls each node in `watch` until `done(node)`; the time (ms since t0) at which the last one
// was seen done.
template <class Done>
double poll_until(const std::vector<Node*>& watch, Clock::time_point t0, Done done) {
  std::vector<Node*> left = watch;
  const auto deadline = Clock::now() + kLimit;
  while (!left.empty()) {
    if (Clock::now() > deadline) fail("a node did not get there within the limit");
    std::erase_if(left, [&](Node* n) { return done(*n); });
    if (!left.empty()) std::this_thread::sleep_for(kPollPause);
  }
  return ms_since(t0);
}

// Launches the nodes (the first, then the others joining it) and waits for every one to see
// all alive; ms from the first launch.
double start_cluster(std::vector<std::unique_ptr<Node>>& nodes) {
  for (auto& n : nodes) n->configure(nodes);
  const auto t0 = Clock::now();
  nodes[0]->launch("");
  nodes[0]->ready();
  for (std::size_t i = 1; i < nodes.size(); ++i) nodes[i]->launch(nodes[0]->address);
  for (std::size_t i = 1; i < nodes.size(); ++i) nodes[i]->ready();
  std::vector<Node*> all;
  for (auto& n : nodes) all.push_back(n.get());
  return poll_until(all, t0, [&](Node& n) {
    auto states = n.states();
    int alive = 0;
    for (auto& o : nodes) alive += states[o->key] == "alive";
    return alive == static_cast<int>(nodes.size());
  });
}

}  // namespace

int run(const std::string& w) {
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(std::make_unique<Node>());
  const double converge_ms = start_cluster(nodes);
  if (w == "converge") {
    bench::report("troupe", "mesh_converge", "ms", converge_ms);
    return 0;
  }
  Node& victim = *nodes.back();
  ::kill(victim.process->pid(), SIGKILL);
  const auto t0 = Clock::now();
  std::vector<Node*> others;
  for (auto& n : nodes) {
    if (n.get() != &victim) others.push_back(n.get());
  }
  const double detect_ms =
      poll_until(others, t0, [&](Node& n) { return n.states()[victim.key] == "dead"; });
  bench::report("troupe", "mesh_detect", "ms", detect_ms);
  return 0;
}

int main(int argc, char** argv) {
  const std::string w = argc == 2 ? argv[1] : "";
  if (w != "converge" && w != "detect") {
    std::fprintf(stderr, "usage: mesh_nodes_bench converge|detect\n");
    return 1;
  }
  try {
    return run(w);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mesh_nodes_bench: %s\n", e.what());
    return 1;
  }
}
