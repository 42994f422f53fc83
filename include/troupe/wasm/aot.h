// The AOT tier: wasm2c translates a module (already checked and instrumented by the limits
// pass) to C, the system C compiler builds a shared object together with a per-module glue
// file and troupe's own wasm-rt.h runtime (src/wasm/aot/), and the object is loaded with
// dlopen. Objects are cached on disk under a BLAKE2b key over the module, the compiler's and
// wasm2c's version lines, the flags and troupe's runtime sources, so a module compiles once
// per machine; a cache hit is a dlopen.
//
// Running code: traps unwind (siglongjmp) to the export call that entered the guest, tracked
// per thread and per instance (a guest suspended on a fiber may resume on another worker).
// Linear memory is an 8 GiB PROT_NONE reservation per memory with the live pages read-write,
// so out-of-bounds accesses fault on a guard page; a SIGSEGV/SIGBUS handler (on an alternate
// stack, chaining to the previous one for faults that are not a guest's) turns such a fault
// into an out-of-bounds trap, and a fault on a stack guard page while guest code runs into
// "call stack exhausted". The page limit caps every memory's maximum.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/wasm/guest_module.h"

namespace troupe::wasm {

// One module's loaded shared object. Immutable; shared by every instance made from it.
class AotCode {
 public:
  ~AotCode();
  AotCode(const AotCode&) = delete;
  AotCode& operator=(const AotCode&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  friend class AotCompiler;
  friend struct AotAccess;  // aot_instance.cc
  AotCode() = default;
  std::filesystem::path path_;
  void* handle_ = nullptr;
  const void* table_ = nullptr;  // the object's troupe_aot_module
  // Export index by name, built once at load (the names live in the loaded object): every
  // instance looks its exports up here instead of indexing them again.
  std::unordered_map<std::string_view, std::uint32_t> exports_by_name_;
  // CoreInstance::functions answers, by the address of the (static) name table asked about.
  mutable std::mutex functions_mutex_;
  mutable std::vector<std::pair<const void*, std::shared_ptr<const std::vector<int>>>> functions_;
  // The sealed memfd the object was loaded from, open while it is loaded: dlopen finds an
  // already loaded object by its name ("/proc/self/fd/N"), so N must not name another one.
  int memfd_ = -1;
};

// Limits on each run of wasm2c and of the C compiler (and on every process the compiler
// starts). A tool over one fails the compile cleanly; the module stays on the interpreter.
struct AotToolLimits {
  std::uint64_t cpu_seconds = 300;                      // RLIMIT_CPU
  std::uint64_t memory_bytes = std::uint64_t{4} << 30;  // RLIMIT_AS
  // RLIMIT_FSIZE: the largest file a tool may write, so also the largest object loaded.
  std::uint64_t output_bytes = std::uint64_t{512} << 20;
  std::chrono::milliseconds wall_time = std::chrono::minutes(10);  // then the group is killed
};

struct AotOptions {
  std::filesystem::path cache_dir;  // empty: default_cache_dir()
  std::string cc = "cc";
  std::string wasm2c = "wasm2c";
  // -fsignaling-nans and -frounding-math keep the C compiler from folding float operations
  // WebAssembly defines exactly (x * 1.0 must still quiet a signalling NaN).
  std::vector<std::string> cflags = {"-O2", "-fsignaling-nans", "-frounding-math"};
  AotToolLimits limits{};
};

class AotCompiler {
 public:
  explicit AotCompiler(AotOptions options = {});
  ~AotCompiler();  // waits for the background compile in progress, drops the queued ones
  AotCompiler(const AotCompiler&) = delete;
  AotCompiler& operator=(const AotCompiler&) = delete;

  // $TROUPE_AOT_CACHE, else $XDG_CACHE_HOME/troupe/aot, else $HOME/.cache/troupe/aot; empty
  // when none is set (no shared /tmp fallback: the AOT tier is then unavailable and modules
  // run on the interpreter).
  static std::filesystem::path default_cache_dir();
  // The process-wide compiler (default options), made on first use.
  static AotCompiler& shared();

  // Whether wasm2c, the C compiler, wasm-rt.h and a trusted cache directory (with its key) are
  // all there; why not, when they are not.
  bool available() const { return unavailable_.empty(); }
  const std::string& unavailable_reason() const { return unavailable_; }

  // The module's code: attached to it already, found in the cache, or built now (seconds for
  // a large module). Attaches it to the module, so Instance's kAuto picks it up. kRefused
  // when the module cannot go through wasm2c (see aot.cc), kUnavailable without a compiler,
  // kInternal when a tool fails (its output in the detail).
  Result<std::shared_ptr<const AotCode>> compile(const GuestModule& module);
  // The same for any module already validated and instrumented by the limits pass (the
  // conformance runner's spec modules); nothing is attached anywhere.
  Result<std::shared_ptr<const AotCode>> compile_binary(std::span<const std::uint8_t> binary);
  // compile() on the compiler's own thread; failures are logged and leave the module on the
  // interpreter.
  void compile_in_background(std::shared_ptr<const GuestModule> module);
  // Blocks until the background queue is empty (tests, benchmarks).
  void drain();

  // Whether the last compile() was served from the disk cache.
  bool last_was_cache_hit() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string unavailable_;
};

}  // namespace troupe::wasm
