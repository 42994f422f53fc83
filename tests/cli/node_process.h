// Test helpers that run the real `troupe` binary: NodeProcess starts `troupe node run` and
// waits for its readiness line (never a sleep); run_cli runs one CLI command to completion.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace troupe::testing {

// The processes these tests start keep their AOT objects in the build tree, not in ~/.cache.
inline const bool kAotCacheInBuildTree =
    ::setenv("TROUPE_AOT_CACHE", TROUPE_TEST_AOT_CACHE, 1) == 0;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string temp_dir(const std::string& tag) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("troupe-" + tag + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  return ::mkdtemp(buf.data());
}

// In a forked child: runs `troupe ARGS...` (TROUPE_BIN); exits 127 if it cannot. A non-empty
// `launcher` runs it through another program (`ip netns exec NS`), found on PATH, that execs
// troupe in the same process.
[[noreturn]] inline void exec_troupe(std::vector<std::string> args,
                                     std::vector<std::string> launcher = {}) {
  std::vector<char*> argv;
  std::string bin = TROUPE_BIN;
  for (auto& l : launcher) argv.push_back(l.data());
  argv.push_back(bin.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (launcher.empty()) {
    ::execv(bin.c_str(), argv.data());
  } else {
    ::execvp(argv[0], argv.data());
  }
  ::_exit(127);
}

// Runs `troupe ARGS...` and captures stdout, stderr and the exit code.
inline CliResult run_cli(const std::vector<std::string>& args, const std::string& dir) {
  std::string out = dir + "/cli.out", err = dir + "/cli.err";
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    exec_troupe(args);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return CliResult{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

class NodeProcess {
 public:
  // `env` is set in the node's environment only (e.g. its own TROUPE_AOT_CACHE). Nodes run
  // unsigned modules (`--allow-unsigned`, as most tests spawn bare .wasm files) unless
  // `allow_unsigned` is false: the default of a real node. `launcher` as for exec_troupe.
  explicit NodeProcess(const std::string& dir, std::vector<std::string> extra = {},
                       std::vector<std::pair<std::string, std::string>> env = {},
                       bool allow_unsigned = true, std::vector<std::string> launcher = {})
      : dir_(dir) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      int e = ::open((dir + "/node.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(e, 2);
      ::close(fds[0]);
      for (auto& [key, value] : env) ::setenv(key.c_str(), value.c_str(), 1);
      std::vector<std::string> args{"--socket", socket(), "node", "run", "--data-dir", dir};
      if (allow_unsigned) args.push_back("--allow-unsigned");
      args.insert(args.end(), extra.begin(), extra.end());
      exec_troupe(std::move(args), std::move(launcher));
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
  }
  ~NodeProcess() { stop(); }

  std::string socket() const { return dir_ + "/control.sock"; }

  // Reads the node's stdout until a line containing `needle`; false on timeout or exit.
  bool wait_line(const std::string& needle,
                 std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (out_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return false;
      out_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  bool wait_ready() { return wait_line("troupe node ready"); }
  // Appends to output() what the node has written so far, without waiting for more.
  void read_available() {
    pollfd p{out_fd_, POLLIN, 0};
    char buf[4096];
    while (out_fd_ >= 0 && ::poll(&p, 1, 0) > 0) {
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return;
      out_.append(buf, static_cast<std::size_t>(n));
    }
  }

  // SIGTERM, then the exit status (-1 if it did not exit normally).
  int stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (out_fd_ >= 0) {
      wait_line("troupe node stopped", std::chrono::milliseconds(1000));
      ::close(out_fd_);
      out_fd_ = -1;
    }
    return exit_code_;
  }
  // Closes the reading end of the node's stdout: its next line goes to a broken pipe.
  void close_stdout() {
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }
  const std::string& output() const { return out_; }
  std::string errors() const { return read_file(dir_ + "/node.err"); }

  CliResult cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--socket", socket()});
    return run_cli(args, dir_);
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_code_ = -1;
  std::string out_;
};

}  // namespace troupe::testing
