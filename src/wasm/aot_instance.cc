#include "aot_instance.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/detail/exception.hpp>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "aot/troupe_aot.h"
#include "linear_memory_pool.h"

namespace troupe::wasm {

struct AotAccess {
  static const troupe_aot_module& table(const AotCode& code) {
    return *static_cast<const troupe_aot_module*>(code.table_);
  }
  static const std::unordered_map<std::string_view, std::uint32_t>& exports(const AotCode& code) {
    return code.exports_by_name_;
  }
  // The memo of CoreInstance::functions for `names` (a static table), made by `make` once.
  template <class Make>
  static std::shared_ptr<const std::vector<int>> functions(const AotCode& code,
                                                           const std::vector<std::string>& names,
                                                           Make&& make) {
    std::lock_guard lock(code.functions_mutex_);
    for (const auto& [key, answer] : code.functions_) {
      if (key == &names) return answer;
    }
    code.functions_.emplace_back(&names, make());
    return code.functions_.back().second;
  }
  static void index(AotCode& code) {
    const troupe_aot_module& t = table(code);
    code.exports_by_name_.reserve(t.export_count);
    for (std::uint32_t i = 0; i < t.export_count; ++i) code.exports_by_name_[t.exports[i].name] = i;
  }
};

void index_aot_exports(AotCode& code) { AotAccess::index(code); }

namespace {

constexpr std::uint64_t kPageBytes = kWasmPageBytes;
constexpr std::uint32_t kMaxPages = 65536;
constexpr std::size_t kReservation = kLinearMemoryReservation;

struct Frame {
  void* target;  // sigjmp_buf of the export call that entered the guest
  void* unwind;  // exception-handling unwind target (starts as `target`)
};

class AotInstance;

// The instance whose guest code this thread is running now, if any. Null while the host runs
// an import for it (so a fault in host code is never taken for the guest's).
thread_local AotInstance* tl_active = nullptr;

class AotInstance final : public core::CoreInstance {
 public:
  AotInstance(std::shared_ptr<const AotCode> code, std::uint32_t max_pages)
      : code_(std::move(code)),
        t_(AotAccess::table(*code_)),
        by_name_(AotAccess::exports(*code_)),
        max_pages_(max_pages) {}

  ~AotInstance() override {
    if (instance_ != nullptr) {
      AotInstance* saved = std::exchange(tl_active, this);  // free_memory finds its owner
      t_.destroy(instance_);
      tl_active = saved;
    }
    for (const Reservation& r : reservations_) {
      LinearMemoryPool::node().release(r.base, r.accessible, r.clean);
    }
  }

  bool create(const core::Resolver& resolve, std::string& error) {
    for (std::uint32_t i = 0; i < t_.import_count; ++i) {
      imports_.push_back(resolve(t_.imports[i].module, t_.imports[i].name));
    }
    instance_ = t_.create(this);
    if (instance_ == nullptr) {
      error = "instantiation trapped: " + take_trap_message();
      return false;
    }
    // Memories and globals live inside the instance: their addresses never change.
    storage_.resize(t_.export_count, nullptr);
    for (std::uint32_t i = 0; i < t_.export_count; ++i) {
      if (t_.exports[i].kind == TROUPE_AOT_MEMORY) storage_[i] = t_.memory(instance_, i);
      if (t_.exports[i].kind == TROUPE_AOT_GLOBAL) storage_[i] = t_.global(instance_, i);
    }
    return true;
  }

  int function(const std::string& name) const override { return find(name, TROUPE_AOT_FUNC); }
  std::shared_ptr<const std::vector<int>> functions(
      const std::vector<std::string>& names) const override {
    return AotAccess::functions(*code_, names, [&] { return CoreInstance::functions(names); });
  }

  std::size_t param_count(int function) const override { return t_.exports[function].params; }
  std::size_t result_count(int function) const override { return t_.exports[function].results; }

  using CoreInstance::call;
  bool call(int function, const std::uint64_t* args, std::uint64_t* results,
            std::string& trap) override {
    if (t_.call(instance_, static_cast<std::uint32_t>(function), args, results) != 0) {
      trap = take_trap_message();
      return false;
    }
    return true;
  }

  LowerOutcome call_lowered(int function, int realloc, int memory, const Lowered* strings,
                            std::size_t n, std::uint64_t* results, std::string& trap,
                            std::uint32_t& bad, std::uint32_t& bad_ptr) override {
    static_assert(kMaxLowered == TROUPE_AOT_MAX_LOWERED);
    troupe_aot_bytes in[TROUPE_AOT_MAX_LOWERED];
    for (std::size_t i = 0; i < n; ++i) in[i] = {strings[i].data, strings[i].size};
    switch (t_.call_lowered(instance_, static_cast<std::uint32_t>(function),
                            static_cast<std::uint32_t>(realloc), static_cast<std::uint32_t>(memory),
                            in, static_cast<std::uint32_t>(n), results, &bad, &bad_ptr)) {
      case 0:
        return LowerOutcome::kReturned;
      case 2:
        return LowerOutcome::kOutOfBounds;
      default:
        trap = take_trap_message();
        return LowerOutcome::kTrapped;
    }
  }

  int memory(const std::string& name) const override { return find(name, TROUPE_AOT_MEMORY); }
  Bytes memory_bytes(int memory) override {
    const auto* m = static_cast<const wasm_rt_memory_t*>(storage_[memory]);
    return {m->data, m->size};
  }

  int global(const std::string& name) const override { return find(name, TROUPE_AOT_GLOBAL); }
  bool set_global(int global, std::uint64_t value) override {
    const troupe_aot_export& e = t_.exports[global];
    if (e.is_mutable == 0) return false;
    void* p = storage_[global];
    if (wide(e)) {
      std::memcpy(p, &value, 8);
    } else {
      const auto low = static_cast<std::uint32_t>(value);
      std::memcpy(p, &low, 4);
    }
    return true;
  }
  std::uint64_t get_global(int global) override {
    const void* p = storage_[global];
    std::uint64_t value = 0;
    std::memcpy(&value, p, wide(t_.exports[global]) ? 8 : 4);
    return value;
  }

  // --- the host table's entry points, for this instance ---

  void* enter(void* target) {
    install_fault_handling();
    // Instance bounds how deeply host and guest calls nest (kMaxHostNesting), far below this.
    if (depth_ == kMaxFrames) std::abort();
    Frame& f = frames_[depth_++];
    f.target = target;
    f.unwind = target;
    AotInstance* saved = tl_active;
    tl_active = this;
    return saved;
  }
  void leave(void* saved) {
    --depth_;
    tl_active = static_cast<AotInstance*>(saved);
  }

  // Called from the generated C code: nothing may be thrown from here (an exception crossing
  // those frames would skip leave() and unwind through code built without exception support),
  // so anything the host throws becomes a trap.
  // (Not noexcept: Boost.Context's forced unwinding of a destroyed fiber must pass.)
  int call_import(std::uint32_t index, const std::uint64_t* args, std::uint64_t* results) {
    const troupe_aot_import& imp = t_.imports[index];
    tl_active = nullptr;  // host code from here on
    int status = 1;
    try {
      std::vector<std::uint64_t> params(args, args + imp.params);
      std::vector<std::uint64_t> out;
      std::string message;
      if (imports_[index] && imports_[index](params, out, message)) {
        for (std::uint32_t i = 0; i < imp.results; ++i) results[i] = i < out.size() ? out[i] : 0;
        status = 0;
      } else {
        host_trap_ = message.empty()
                         ? "host call " + std::string(imp.module) + "." + imp.name + " failed"
                         : std::move(message);
      }
    } catch (const boost::context::detail::forced_unwind&) {
      throw;  // a suspended guest fiber being destroyed: GuestFiber's own unwinding
    } catch (const std::exception& e) {
      set_host_trap(imp, e.what());  // here: what() dies with the exception
    } catch (...) {
      set_host_trap(imp, "an exception that is not a std::exception");
    }
    tl_active = this;  // maybe on another thread: the guest's fiber may have moved
    install_fault_handling();
    return status;
  }

  void record(const char* message) noexcept {
    try {
      host_trap_ = message;
    } catch (...) {
      host_trap_.clear();
    }
  }

  // The trap message for an import that threw; when even that cannot be allocated, a fixed
  // one (take_trap_message).
  void set_host_trap(const troupe_aot_import& imp, const char* what) noexcept {
    try {
      host_trap_ = "host call " + std::string(imp.module) + "." + imp.name + " threw: " + what;
    } catch (...) {
      host_trap_.clear();
    }
  }

  [[noreturn]] void trap(wasm_rt_trap_t code) {
    trap_code_ = code;
    siglongjmp(*static_cast<sigjmp_buf*>(top().target), 1);
  }

  // From the signal handler: whether `addr` is in one of this instance's memories.
  bool owns(std::uintptr_t addr) const {
    return std::any_of(reservations_.begin(), reservations_.end(), [addr](const Reservation& r) {
      auto b = reinterpret_cast<std::uintptr_t>(r.base);
      return addr >= b && addr < b + kReservation;
    });
  }
  bool running() const { return depth_ != 0; }

  // Called from the generated C code: traps instead of throwing (see call_import). A trap
  // never leaves from inside a catch block, whose exception would then never be released.
  void allocate_memory(wasm_rt_memory_t* mem, std::uint32_t initial, std::uint32_t max) noexcept {
    std::uint32_t cap = std::min(max, kMaxPages);
    if (max_pages_ != 0) cap = std::min(cap, max_pages_);
    if (initial > cap) {
      try {
        host_trap_ = "the module's memory starts with " + std::to_string(initial) +
                     " pages; the limit is " + std::to_string(cap);
      } catch (...) {
        host_trap_.clear();
      }
      trap(WASM_RT_TRAP_NONE);
    }
    // From the pool: zero up to `initial` pages, PROT_NONE past them.
    const std::uint64_t bytes = std::uint64_t{initial} * kPageBytes;
    std::uint8_t* base = LinearMemoryPool::node().acquire(bytes);
    if (base == nullptr) {
      record("cannot reserve address space for a linear memory");
      trap(WASM_RT_TRAP_NONE);
    }
    bool recorded = true;
    try {
      reservations_.push_back({base, bytes, true});
    } catch (...) {
      recorded = false;
    }
    if (!recorded) {
      LinearMemoryPool::node().release(base, bytes, true);
      host_trap_.clear();
      trap(WASM_RT_TRAP_NONE);
    }
    mem->data = base;
    mem->pages = initial;
    mem->max_pages = cap;
    mem->size = static_cast<std::uint32_t>(initial * kPageBytes);
  }

  std::uint32_t grow_memory(wasm_rt_memory_t* mem, std::uint32_t delta) {
    const std::uint32_t old = mem->pages;
    const std::uint64_t pages = std::uint64_t{old} + delta;
    if (pages > mem->max_pages) return static_cast<std::uint32_t>(-1);
    if (delta == 0) return old;
    Reservation* r = reservation(mem->data);
    if (r == nullptr) return static_cast<std::uint32_t>(-1);
    // Counted before the call: a failed mprotect may have applied to part of the range, and
    // the pool must reset (or drop) every byte a guest could have written.
    r->accessible = std::max(r->accessible, pages * kPageBytes);
    if (mprotect(mem->data + std::uint64_t{old} * kPageBytes, std::uint64_t{delta} * kPageBytes,
                 PROT_READ | PROT_WRITE) != 0) {
      r->clean = false;  // its protection is unknown: the pool unmaps it
      return static_cast<std::uint32_t>(-1);
    }
    mem->pages = static_cast<std::uint32_t>(pages);
    mem->size = static_cast<std::uint32_t>(pages * kPageBytes);  // 65536 pages: wraps to 0
    if (pages == kMaxPages) mem->size = UINT32_MAX;
    return old;
  }

  void free_memory(wasm_rt_memory_t* mem) {
    auto it = std::find_if(reservations_.begin(), reservations_.end(),
                           [mem](const Reservation& r) { return r.base == mem->data; });
    if (it == reservations_.end()) return;
    const Reservation r = *it;
    reservations_.erase(it);
    LinearMemoryPool::node().release(r.base, r.accessible, r.clean);
    mem->data = nullptr;
  }

  void* unwind_target() const { return top().unwind; }
  void set_unwind_target(void* target) { top().unwind = target; }

  void fault(bool in_memory) {
    trap_code_ = in_memory ? WASM_RT_TRAP_OOB : WASM_RT_TRAP_EXHAUSTION;
    siglongjmp(*static_cast<sigjmp_buf*>(top().target), 1);
  }

 private:
  Frame& top() { return frames_[depth_ - 1]; }
  const Frame& top() const { return frames_[depth_ - 1]; }

  static void install_fault_handling();

  std::string take_trap_message() {
    if (trap_code_ == WASM_RT_TRAP_NONE) {
      if (host_trap_.empty()) return "a host call failed (out of memory to say why)";
      return std::exchange(host_trap_, {});
    }
    return trap_message(trap_code_);
  }

 public:
  // The interpreter's wording, so both tiers report a trap the same way.
  static const char* trap_message(wasm_rt_trap_t code) {
    switch (code) {
      case WASM_RT_TRAP_OOB:
        return "out of bounds memory access";
      case WASM_RT_TRAP_INT_OVERFLOW:
        return "integer overflow";
      case WASM_RT_TRAP_DIV_BY_ZERO:
        return "integer divide by zero";
      case WASM_RT_TRAP_INVALID_CONVERSION:
        return "invalid conversion to integer";
      case WASM_RT_TRAP_UNREACHABLE:
        return "unreachable executed";
      case WASM_RT_TRAP_CALL_INDIRECT:
        return "indirect call signature mismatch";
      case WASM_RT_TRAP_UNCAUGHT_EXCEPTION:
        return "uncaught exception";
      case WASM_RT_TRAP_EXHAUSTION:
        return "call stack exhausted";
      default:
        return "trap";
    }
  }

 private:
  int find(const std::string& name, std::uint32_t kind) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end() || t_.exports[it->second].kind != kind) return -1;
    return static_cast<int>(it->second);
  }
  static bool wide(const troupe_aot_export& e) {
    return e.type == TROUPE_AOT_I64 || e.type == TROUPE_AOT_F64;
  }

  std::shared_ptr<const AotCode> code_;
  const troupe_aot_module& t_;
  const std::unordered_map<std::string_view, std::uint32_t>& by_name_;  // the code's
  std::uint32_t max_pages_;
  void* instance_ = nullptr;
  std::vector<void*> storage_;  // by export index: the memory's or global's address
  std::vector<core::HostCallback> imports_;
  // One per guest call running on this instance, innermost last (nested through imports).
  static constexpr std::size_t kMaxFrames = 64;
  Frame frames_[kMaxFrames];
  std::size_t depth_ = 0;
  // A linear memory's slot: `accessible` bytes from `base` may have been made read/write.
  struct Reservation {
    std::uint8_t* base;
    std::uint64_t accessible;
    bool clean;  // false after a failed mprotect: the pool must not keep it
  };
  Reservation* reservation(const std::uint8_t* base) {
    for (Reservation& r : reservations_) {
      if (r.base == base) return &r;
    }
    return nullptr;
  }
  std::vector<Reservation> reservations_;
  wasm_rt_trap_t trap_code_ = WASM_RT_TRAP_NONE;
  std::string host_trap_;
};

// --- faults ---

struct sigaction g_previous_segv, g_previous_bus;

void on_fault(int sig, siginfo_t* info, void* context) {
  AotInstance* in = tl_active;
  if (in != nullptr && in->running()) {
    in->fault(in->owns(reinterpret_cast<std::uintptr_t>(info->si_addr)));
  }
  // Not a guest's: hand it to whoever handled it before (by default, the process dies).
  const struct sigaction& prev = sig == SIGSEGV ? g_previous_segv : g_previous_bus;
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, context);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  sigaction(sig, &prev, nullptr);  // the fault repeats on return, now with the default action
}

// A per-thread alternate signal stack, so a fault from an exhausted stack can be handled.
struct AltStack {
  AltStack() {
    stack_t ss{};
    ss.ss_size = kBytes;
    ss.ss_sp = std::malloc(kBytes);
    if (ss.ss_sp != nullptr && sigaltstack(&ss, nullptr) == 0) memory = ss.ss_sp;
  }
  ~AltStack() {
    if (memory == nullptr) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    std::free(memory);
  }
  AltStack(const AltStack&) = delete;
  AltStack& operator=(const AltStack&) = delete;
  static constexpr std::size_t kBytes = std::size_t{64} * 1024;
  void* memory = nullptr;
};

void AotInstance::install_fault_handling() {
  thread_local bool installed = false;  // checked on every guest entry: keep it a plain flag
  if (installed) return;
  installed = true;
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sigemptyset(&sa.sa_mask);
    // SA_NODEFER: the handler leaves by siglongjmp to a target saved without the signal
    // mask, so the fault signal must not be blocked while it runs.
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigaction(SIGSEGV, &sa, &g_previous_segv);
    sigaction(SIGBUS, &sa, &g_previous_bus);
  });
  thread_local AltStack alt_stack;
  (void)alt_stack;
}

// --- the table handed to every loaded object ---

AotInstance& self(void* ctx) { return *static_cast<AotInstance*>(ctx); }

const troupe_aot_host kHost = {
    TROUPE_AOT_ABI,
    [](void* ctx, void* target) { return self(ctx).enter(target); },
    [](void* ctx, void* saved) { self(ctx).leave(saved); },
    [](void* ctx, std::uint32_t index, const std::uint64_t* args, std::uint64_t* results) {
      return self(ctx).call_import(index, args, results);
    },
    [](wasm_rt_trap_t code) { tl_active->trap(code); },
    [](wasm_rt_trap_t code) { return AotInstance::trap_message(code); },
    [](wasm_rt_memory_t* mem, std::uint32_t initial, std::uint32_t max) {
      tl_active->allocate_memory(mem, initial, max);
    },
    [](wasm_rt_memory_t* mem, std::uint32_t delta) {
      // Only guest code grows a memory; without its instance nothing would know to reset the
      // new pages.
      return tl_active != nullptr ? tl_active->grow_memory(mem, delta)
                                  : static_cast<std::uint32_t>(-1);
    },
    [](wasm_rt_memory_t* mem) { tl_active->free_memory(mem); },
    []() { return tl_active->unwind_target(); },
    [](void* target) { tl_active->set_unwind_target(target); },
};

}  // namespace

bool bind_aot_object(const void* table, std::string& error) {
  const auto& t = *static_cast<const troupe_aot_module*>(table);
  if (t.abi != TROUPE_AOT_ABI) {
    error = "the object was built for runtime ABI " + std::to_string(t.abi) + ", not " +
            std::to_string(TROUPE_AOT_ABI);
    return false;
  }
  t.bind(&kHost);
  return true;
}

std::unique_ptr<core::CoreInstance> instantiate_aot(std::shared_ptr<const AotCode> code,
                                                    const core::Resolver& resolve,
                                                    std::uint32_t max_pages, std::string& error) {
  auto instance = std::make_unique<AotInstance>(std::move(code), max_pages);
  if (!instance->create(resolve, error)) return nullptr;
  return instance;
}

}  // namespace troupe::wasm
