#include "aot/tool_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

extern char** environ;  // NOLINT: POSIX

namespace troupe::wasm::aot {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxOutput = 64 * 1024;

// argv[0] as execve wants it: found in PATH unless it names a path already. Done before fork,
// since the child may only make async-signal-safe calls.
std::string resolve(const std::string& tool) {
  if (tool.find('/') != std::string::npos) return tool;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end == start ? "." : dirs.substr(start, end - start);
    const std::string candidate = dir + "/" + tool;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

void set_limit(int resource, rlim_t soft, rlim_t hard) {
  const struct rlimit l { soft, hard };
  ::setrlimit(resource, &l);
}

// Waits for `pid` until `deadline`; false when the deadline passed first.
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) {
      if (pidfd >= 0) ::close(pidfd);
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (pidfd >= 0) ::close(pidfd);
      return false;
    }
    if (pidfd >= 0) {
      struct pollfd p {
        pidfd, POLLIN, 0
      };
      ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    } else {  // a kernel without pidfd_open (before 5.3)
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
    }
  }
}

}  // namespace

ToolRun run_tool(const std::vector<std::string>& argv, const fs::path& log,
                 const AotToolLimits& limits) {
  ToolRun r;
  const std::string exe = argv.empty() ? std::string() : resolve(argv[0]);
  if (exe.empty()) {
    r.stopped_by = "cannot start";
    return r;
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const rlim_t cpu = limits.cpu_seconds;

  const pid_t pid = ::fork();
  if (pid < 0) {
    r.stopped_by = "cannot start";
    return r;
  }
  if (pid == 0) {
    // The child: async-signal-safe calls only, then exec.
    ::setpgid(0, 0);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
      ::_exit(127);
    }
    // A signal the parent ignores or blocks stays so across exec: SIGXFSZ and SIGXCPU must
    // stop the tool.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGXFSZ, SIG_DFL);
    ::signal(SIGXCPU, SIG_DFL);
    set_limit(RLIMIT_CPU, cpu, cpu + 1);  // SIGXCPU, then SIGKILL a second later
    set_limit(RLIMIT_AS, limits.memory_bytes, limits.memory_bytes);
    set_limit(RLIMIT_FSIZE, limits.output_bytes, limits.output_bytes);
    set_limit(RLIMIT_CORE, 0, 0);
    ::execve(exe.c_str(), args.data(), environ);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: the kill below must not race the child's own setpgid
  int status = -1;  // stays so when the child cannot be waited for (SIGCHLD ignored)
  const auto deadline = std::chrono::steady_clock::now() + limits.wall_time;
  if (!wait_until(pid, deadline, status)) {
    ::kill(-pid, SIGKILL);  // the tool and whatever it started (cc1, as, ld)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.stopped_by = "the wall-clock limit";
  } else if (WIFEXITED(status)) {
    r.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    switch (WTERMSIG(status)) {
      case SIGXFSZ:
        r.stopped_by = "the output limit";
        break;
      case SIGXCPU:
      case SIGKILL:
        r.stopped_by = "the CPU-time limit (or SIGKILL)";
        break;
      default:
        r.stopped_by = "signal " + std::to_string(WTERMSIG(status));
    }
  } else {
    r.stopped_by = "an end that could not be observed";
  }
  std::ifstream in(log, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
  const std::streamoff from = size > static_cast<std::streamoff>(kMaxOutput)
                                  ? size - static_cast<std::streamoff>(kMaxOutput)
                                  : 0;
  in.seekg(from);
  r.output.assign(std::istreambuf_iterator<char>(in), {});
  return r;
}

}  // namespace troupe::wasm::aot
