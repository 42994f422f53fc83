// NetworkLab: network namespaces for multi-process mesh tests. Each node gets a namespace of
// its own with one veth, eth0, at 10.X.Y.(i+1)/24 (X.Y from the test process's pid, so
// parallel runs never share a name or a subnet); the other end of each veth sits in a hub
// namespace, on the bridge "joined". partition(side) moves that side's ports to a second
// bridge, "split", so frames between the sides are dropped silently in the middle, as a
// failed switch would drop them (no RST, no ICMP: connections time out); heal() moves them
// back; cut_link(i, j) drops only what i and j send each other. Needs root and iproute2 (`ip`),
// no other package.
//
// Lifetime: the destructor deletes every namespace the lab made, which deletes its veths and
// bridges; a lab also deletes the namespaces of earlier test processes that are gone (killed
// before their destructor ran). Stop the processes running in the namespaces first.
// Not thread-safe: one test thread drives a lab.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/node_process.h"

namespace troupe::testing {

// Starts ARGV[0] (found on PATH) with its stdout and stderr into a pipe whose read end goes to
// `out_fd`; its pid, or -1 (and `out_fd` -1) if it cannot be started. In the child, exit code
// 127: the program could not be run.
inline pid_t start_program(std::vector<std::string> argv, int& out_fd) {
  out_fd = -1;
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return -1;
  }
  out_fd = fds[0];
  return pid;
}

// Runs ARGV[0] (found on PATH) to completion; stdout and stderr together in `out`. Exit code
// 127: the program could not be run.
inline CliResult run_program(std::vector<std::string> argv) {
  CliResult result;
  int fd = -1;
  const pid_t pid = start_program(std::move(argv), fd);
  if (pid < 0) return result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) result.out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class NetworkLab {
 public:
  // Why this process cannot make network namespaces (not root, `ip netns add` refused), to
  // skip with; nullopt when it can. A missing `ip` is not a reason to skip: the lab then
  // fails to build, and the test with it.
  static std::optional<std::string> namespaces_unavailable() {
    if (::geteuid() != 0) {
      return "network namespaces need root (euid " + std::to_string(::geteuid()) +
             "): partition tests skipped";
    }
    const std::string probe = prefix() + "probe";
    CliResult added = run_program({"ip", "netns", "add", probe});
    if (added.code == 127) return std::nullopt;
    if (added.code != 0) {
      return "`ip netns add` refused (" + first_line(added.out) + "): partition tests skipped";
    }
    run_program({"ip", "netns", "del", probe});
    return std::nullopt;
  }

  explicit NetworkLab(int nodes) : nodes_(nodes) {
    delete_stale_namespaces();
    const unsigned pid = static_cast<unsigned>(::getpid());
    subnet_ = "10." + std::to_string((pid >> 8) & 0xff) + "." + std::to_string(pid & 0xff) + ".";
    if (!make(hub())) return;
    for (const char* bridge : {"joined", "split"}) {
      if (!ip({"-n", hub(), "link", "add", bridge, "type", "bridge"}) ||
          !ip({"-n", hub(), "link", "set", bridge, "up"})) {
        return;
      }
    }
    for (int i = 0; i < nodes_; ++i) {
      const std::string port = "p" + std::to_string(i);
      if (!make(ns(i)) ||
          !ip({"-n", hub(), "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
               ns(i)}) ||
          !ip({"-n", hub(), "link", "set", port, "master", "joined"}) ||
          !ip({"-n", hub(), "link", "set", port, "up"}) ||
          !ip({"-n", ns(i), "addr", "add", address(i) + "/24", "dev", "eth0"}) ||
          !ip({"-n", ns(i), "link", "set", "eth0", "up"})) {
        return;
      }
    }
  }
  ~NetworkLab() {
    for (const std::string& name : made_) run_program({"ip", "netns", "del", name});
  }
  NetworkLab(const NetworkLab&) = delete;
  NetworkLab& operator=(const NetworkLab&) = delete;

  // Empty once every step succeeded; otherwise the first command that failed and its output.
  const std::string& error() const { return error_; }

  std::string ns(int i) const { return prefix() + "n" + std::to_string(i); }
  std::string address(int i) const { return subnet_ + std::to_string(i + 1); }
  // Runs a program in node i's namespace (`ip netns exec`, which execs it in the same process).
  std::vector<std::string> launcher(int i) const { return {"ip", "netns", "exec", ns(i)}; }

  // Cuts `side` off from every other node, both ways, silently.
  bool partition(const std::vector<int>& side) { return move_ports(side, "split"); }
  // Cuts only the path between nodes i and j, both ways, by a blackhole route in each of
  // their namespaces: their packets to each other are dropped, while both still reach the
  // others. restore_link() removes the routes.
  bool cut_link(int i, int j) {
    return ip({"-n", ns(i), "route", "add", "blackhole", address(j) + "/32"}) &&
           ip({"-n", ns(j), "route", "add", "blackhole", address(i) + "/32"});
  }
  bool restore_link(int i, int j) {
    return ip({"-n", ns(i), "route", "del", "blackhole", address(j) + "/32"}) &&
           ip({"-n", ns(j), "route", "del", "blackhole", address(i) + "/32"});
  }
  bool heal() {
    std::vector<int> all;
    for (int i = 0; i < nodes_; ++i) all.push_back(i);
    return move_ports(all, "joined");
  }

 private:
  static std::string prefix() { return "troupe-lab-" + std::to_string(::getpid()) + "-"; }
  std::string hub() const { return prefix() + "hub"; }

  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  bool ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    CliResult r = run_program(args);
    if (r.code == 0) return true;
    if (error_.empty()) {
      std::string command;
      for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
      error_ = "`" + command + "` failed (exit " + std::to_string(r.code) +
               "): " + (r.code == 127 ? "cannot run ip (install iproute2)" : first_line(r.out));
    }
    return false;
  }
  bool make(const std::string& name) {
    if (!ip({"netns", "add", name})) return false;
    made_.push_back(name);
    return ip({"-n", name, "link", "set", "lo", "up"});
  }
  bool move_ports(const std::vector<int>& side, const std::string& bridge) {
    for (int i : side) {
      if (!ip({"-n", hub(), "link", "set", "p" + std::to_string(i), "master", bridge})) {
        return false;
      }
    }
    return true;
  }
  // Namespaces named by an earlier lab whose process no longer exists.
  static void delete_stale_namespaces() {
    std::istringstream list(run_program({"ip", "netns", "list"}).out);
    const std::string lab = "troupe-lab-";
    for (std::string line; std::getline(list, line);) {
      const std::string name = line.substr(0, line.find(' '));
      if (name.rfind(lab, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + lab.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        run_program({"ip", "netns", "del", name});
      }
    }
  }

  int nodes_;
  std::string subnet_;
  std::string error_;
  std::vector<std::string> made_;
};

}  // namespace troupe::testing
