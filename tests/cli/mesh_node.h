// Test helpers for the mesh through the real binary: MeshNode is one `troupe node run --listen`
// process with its own data directory, allowlist and `[cluster]` timing, read back through
// `troupe cluster members --json`; within() polls a predicate with a bound (never a sleep on
// the outcome). Used by tests/cli/mesh_test.cc and tests/cli/mesh_partition_test.cc.
// Not thread-safe: one test thread drives its nodes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli/node_process.h"

namespace troupe::testing {

// Ten times memberlist's LAN timing: the same protocol, tests that take seconds.
inline constexpr const char* kFastCluster =
    "[cluster]\nprobe_interval_ms = 100\nprobe_timeout_ms = 50\ngossip_interval_ms = 20\n"
    "push_pull_interval_ms = 3000\nreconnect_interval_ms = 1000\n";

struct MeshNode {
  std::string dir;
  std::string key;
  std::unique_ptr<NodeProcess> process;
  std::string address;                // from the readiness line
  std::vector<std::string> launcher;  // e.g. {"ip", "netns", "exec", NS}: see exec_troupe

  explicit MeshNode(const std::string& tag) : dir(temp_dir(tag)) {
    auto id = run_cli({"node", "id", "--data-dir", dir}, dir);
    EXPECT_EQ(id.code, 0) << id.err;
    key = id.out.substr(0, id.out.find('\n'));
  }
  ~MeshNode() {
    process.reset();
    std::filesystem::remove_all(dir);
  }
  MeshNode(const MeshNode&) = delete;
  MeshNode& operator=(const MeshNode&) = delete;

  void configure(const std::vector<const MeshNode*>& allowed,
                 const std::string& cluster = kFastCluster) {
    std::string allow;
    for (const MeshNode* n : allowed) allow += (allow.empty() ? "\"" : ", \"") + n->key + "\"";
    std::ofstream(dir + "/node.toml") << cluster << "[mesh]\nallow = [" << allow << "]\n";
  }
  bool start(std::vector<std::string> extra) {
    extra.insert(extra.begin(), {"--config", dir + "/node.toml"});
    process = std::make_unique<NodeProcess>(
        dir, extra, std::vector<std::pair<std::string, std::string>>{}, true, launcher);
    if (!process->wait_ready()) return false;
    std::smatch m;
    const std::string& out = process->output();
    if (!std::regex_search(out, m, std::regex("mesh=(\\S+)"))) return false;
    address = m[1];
    return true;
  }
  // Member states by key, as `troupe cluster members --json` prints them.
  std::map<std::string, nlohmann::json> members() const {
    std::map<std::string, nlohmann::json> out;
    auto r = process->cli({"cluster", "members", "--json"});
    if (r.code != 0) return out;
    for (const nlohmann::json& m : nlohmann::json::parse(r.out)) {
      out[m["key"].get<std::string>()] = m;
    }
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

// Two nodes that allow each other, `a` listening and `b` joining it: success once `a` sees `b`
// alive (within 10 s). `b_config` is appended to b's config, inside its [mesh] table.
inline ::testing::AssertionResult start_pair(MeshNode& a, MeshNode& b,
                                             const std::string& b_config = "") {
  a.configure({&b});
  b.configure({&a});
  if (!b_config.empty()) std::ofstream(b.dir + "/node.toml", std::ios::app) << b_config;
  if (!a.start({"--listen", "127.0.0.1:0"})) return ::testing::AssertionFailure() << "a: no start";
  if (!b.start({"--listen", "127.0.0.1:0", "--join", a.address})) {
    return ::testing::AssertionFailure() << "b: no start";
  }
  if (!within(std::chrono::seconds(10), [&] { return a.state_of(b) == "alive"; })) {
    return ::testing::AssertionFailure()
           << "b not alive at a: " << a.process->cli({"cluster", "members"}).out;
  }
  return ::testing::AssertionSuccess();
}

inline long long ms_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

}  // namespace troupe::testing
