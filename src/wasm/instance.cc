#include "troupe/wasm/instance.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "aot_instance.h"
#include "interp_bridge.h"
#include "troupe/base/encoding.h"
#include "troupe/wasm/abi_function.h"
#include "troupe/wasm/fuel.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/meter.h"
#include "troupe/wasm/troupe_host.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {
namespace {

template <class Clock>
std::uint64_t nanos(std::chrono::time_point<Clock> t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// For WASI random_get and troupe:host random.fill: libsodium's generator (getrandom).
void fill_random(void* out, std::size_t len) {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();  // no system randomness at all: nothing sensible to hand a guest
  randombytes_buf(out, len);
}

}  // namespace

struct Instance::State {
  State(HostImports& h, const Limits& l) : host(h), meter(l) {}

  HostImports& host;
  Meter meter;
  GuestBudget::Lease lease;  // this instance's share of the node-wide caps
  std::unique_ptr<core::CoreInstance> module;
  Tier tier = Tier::kInterp;
  const workload::CoreNames* names = nullptr;
  // Why the last host callback failed: reported instead of the generic trap it caused.
  std::optional<Error> host_error;

  // Exports resolved once at creation (the limits pass guarantees the globals exist).
  int memory = -1, realloc_fn = -1;
  int fuel = -1, depth = -1, max_depth = -1, grow_refused = -1, max_table = -1;
  // Per contract export (by position in workload::guest_exports()): the core function and its
  // post-return function, or -1.
  struct Slot {
    int function = -1, post = -1;
  };
  // By position in guest_exports(): the core function, and its post-return function (-1: none).
  std::shared_ptr<const std::vector<int>> export_functions, post_functions;
  Slot slot(std::size_t i) const { return Slot{(*export_functions)[i], (*post_functions)[i]}; }

  void resolve(const workload::CoreNames& n) {
    memory = module->memory(n.memory);
    realloc_fn = module->function(n.realloc);
    fuel = module->global(kFuelGlobal);
    depth = module->global(kDepthGlobal);
    max_depth = module->global(kMaxDepthGlobal);
    grow_refused = module->global(kGrowRefusedGlobal);
    max_table = module->global(kMaxTableGlobal);
    module->set_global(max_table, meter.limits().table_elements);
    const std::uint32_t limit = meter.limits().max_call_depth;
    module->set_global(max_depth,
                       tier == Tier::kInterp ? std::min(limit, kInterpMaxCallDepth) : limit);
    export_functions = module->functions(n.export_names);
    post_functions = module->functions(n.post_return_names);
  }

  // Runs an exported core function (args and results sized for it); a trap becomes kTrap, or
  // the host error that caused it.
  std::optional<Error> run(int function, const std::uint64_t* args, std::uint64_t* results) {
    std::string trap;
    host_error.reset();
    if (module->call(function, args, results, trap)) return std::nullopt;
    return failure(trap);
  }
  // run() for a function whose arguments are byte strings lowered through cabi_realloc
  // (CoreInstance::call_lowered); a realloc answer outside memory is an ABI violation.
  std::optional<Error> run_lowered(int function, const core::CoreInstance::Lowered* strings,
                                   std::size_t n, std::uint64_t* results) {
    std::string trap;
    std::uint32_t bad = 0, bad_ptr = 0;
    host_error.reset();
    switch (module->call_lowered(function, realloc_fn, memory, strings, n, results, trap, bad,
                                 bad_ptr)) {
      case core::CoreInstance::LowerOutcome::kReturned:
        return std::nullopt;
      case core::CoreInstance::LowerOutcome::kOutOfBounds:
        return realloc_outside_memory(bad_ptr, strings[bad].size);
      case core::CoreInstance::LowerOutcome::kTrapped:
        break;
    }
    return failure(trap);
  }
  // Why the guest call that just trapped failed.
  Error failure(const std::string& trap) {
    unwound = true;
    if (host_error) return *std::exchange(host_error, std::nullopt);
    return meter.classify_trap(trap, module->get_global(grow_refused) != 0);
  }
  Result<FlatValues> run(int function, const FlatValues& args) {
    const std::uint64_t* a = args.data();
    FlatValues padded;
    if (args.size() < module->param_count(function)) {
      padded = args;
      padded.resize(module->param_count(function), 0);
      a = padded.data();
    }
    FlatValues results(module->result_count(function));
    if (auto e = run(function, a, results.data())) return *e;
    return results;
  }

  // Each invocation starts with a full tank, an empty call stack and no refused growth. A
  // call that returned left the depth counter at 0; one that trapped did not.
  void begin_invocation() {
    module->set_global(fuel, static_cast<std::uint64_t>(meter.begin()));
    module->set_global(grow_refused, 0);
    if (unwound) {
      module->set_global(depth, 0);
      unwound = false;
    }
  }
  // What the host call being served has made the host hold for the guest (Limits::
  // host_call_bytes), and the most any call has.
  std::uint64_t host_bytes = 0, peak_host_bytes = 0;
  Result<void> take_host_bytes(std::uint64_t n) {
    const std::uint64_t cap = meter.limits().host_call_bytes;
    if (n > cap || host_bytes > cap - n) {
      return Error{WasmErrc::kMemoryLimit, "one host call would hold more than " +
                                               std::to_string(cap) +
                                               " bytes of guest values (host_call_bytes)"};
    }
    host_bytes += n;
    peak_host_bytes = std::max(peak_host_bytes, host_bytes);
    return {};
  }
  // Starts counting for a host call; the count of the call it interrupts comes back after.
  struct HostCall {
    explicit HostCall(State& s) : state(s), saved(std::exchange(s.host_bytes, 0)) {}
    ~HostCall() { state.host_bytes = saved; }
    State& state;
    std::uint64_t saved;
  };

  bool unwound = true;  // the last guest call trapped (or there was none yet)
  int nesting = 0;      // contract imports running now, one inside another

  // The limits pass's calls back into the host.
  // out-of-fuel answers the counter's next value (it may run during instantiation, before
  // `module` exists).
  // While the module's start function runs (inside instantiation) the instance has no memory
  // or exports yet: its host calls are refused, the start function traps, the spawn fails.
  bool instantiating() const { return !module; }
  static Error start_function_call() {
    return Error{WasmErrc::kTrap,
                 "a start function called the host (host calls are served from exports only)"};
  }

  bool limits_call(bool out_of_fuel, FlatValues& results, std::string& trap) {
    if (!out_of_fuel) return fail(meter.too_deep(), trap);
    auto fuel = meter.refuel();
    if (!fuel.ok()) return fail(fuel.error(), trap);
    if (auto preempted = host.at_fuel_checkpoint(); !preempted.ok()) {
      return fail(preempted.error(), trap);
    }
    results = {static_cast<std::uint64_t>(*fuel)};
    return true;
  }

  // Fails the guest's current import call with `e`.
  bool fail(Error e, std::string& trap) {
    trap = e.to_string();
    host_error = std::move(e);
    return false;
  }

  bool contract_import(Instance& self, const workload::Function& f, const FlatValues& params,
                       FlatValues& results, std::string& trap) {
    return serve_import(self, f, params, results, trap, [&](std::vector<AbiValue> args) {
      return host.call_host(f, std::move(args));
    });
  }

  // troupe:host's clock and random, served here (they need nothing of the actor).
  bool troupe_import(Instance& self, const troupe_host::Interface& iface,
                     const workload::Function& f, const FlatValues& params, FlatValues& results,
                     std::string& trap) {
    if (iface.name != "clock" && iface.name != "random") {  // the actor's services
      return serve_import(self, f, params, results, trap, [&](std::vector<AbiValue> args) {
        return host.call_troupe_host(iface.name, f, std::move(args));
      });
    }
    return serve_import(self, f, params, results, trap,
                        [&](const std::vector<AbiValue>& args) -> Result<std::optional<AbiValue>> {
                          using O = std::optional<AbiValue>;
                          if (f.name == "now-wall")
                            return O(AbiValue::of(nanos(std::chrono::system_clock::now())));
                          if (f.name == "now-monotonic") {
                            return O(AbiValue::of(nanos(std::chrono::steady_clock::now())));
                          }
                          const std::uint64_t len = args.at(0).number;  // random.fill
                          if (len > troupe_host::kMaxRandomFill) {
                            return Error{
                                WasmErrc::kTrap,
                                "random.fill of " + std::to_string(len) + " bytes: at most " +
                                    std::to_string(troupe_host::kMaxRandomFill) + " a call"};
                          }
                          std::string bytes(len, '\0');
                          fill_random(bytes.data(), bytes.size());
                          return O(AbiValue::text(std::move(bytes)));
                        });
  }

  template <class Serve>
  bool serve_import(Instance& self, const workload::Function& f, const FlatValues& params,
                    FlatValues& results, std::string& trap, Serve&& serve) {
    // An import lowers its results through cabi_realloc, which may call an import again: a
    // guest could make host and guest frames recurse until the host's stack ran out.
    if (nesting == kMaxHostNesting) {
      return fail(Error{WasmErrc::kTrap, "host calls nested " + std::to_string(kMaxHostNesting) +
                                             " deep (a cabi_realloc that calls the host?)"},
                  trap);
    }
    if (instantiating()) return fail(start_function_call(), trap);
    ++nesting;
    struct Unnest {
      int& n;
      ~Unnest() { --n; }
    } unnest{nesting};
    HostCall counting(*this);
    auto args = lift_import_args(self, f.type, params);
    if (!args.ok()) return fail(args.error(), trap);
    Result<std::optional<AbiValue>> result = serve(std::move(args).value());
    if (!result.ok()) return fail(result.error(), trap);
    auto out = lower_import_result(self, f.type, *result, params);
    if (!out.ok()) return fail(out.error(), trap);
    results = std::move(out).value();
    return true;
  }

  // The WASI preview1 subset. Bad guest pointers get EFAULT (the guest's problem, as with a
  // kernel); proc_exit ends the call with a trap.
  bool wasi(Instance& self, const std::string& name, const FlatValues& params, FlatValues& results,
            std::string& trap) {
    if (instantiating()) return fail(start_function_call(), trap);
    constexpr std::uint32_t kSuccess = 0, kBadf = 8, kFault = 21, kInval = 28, kSpipe = 70;
    auto arg = [&](std::size_t i) { return static_cast<std::uint32_t>(params[i]); };
    auto mem = self.bytes();
    auto fits = [&](std::uint64_t p, std::uint64_t n) { return p + n <= mem.size(); };
    auto put = [&](std::uint64_t at, std::uint64_t v, int n) {
      for (int i = 0; i < n; ++i) mem[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    auto get32 = [&](std::uint64_t at) {
      std::uint32_t v = 0;
      for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(mem[at + i]) << (8 * i);
      return v;
    };
    std::uint32_t err = kSuccess;
    if (name == "fd_write") {
      // At most IOV_MAX iovecs, as writev; their bytes together count against the host-call
      // cap before any is copied (4,000 iovecs over one page were once 256 MiB of host memory).
      constexpr std::uint32_t kIovMax = 1024;
      std::uint32_t fd = arg(0), iovs = arg(1), count = arg(2), written = arg(3);
      std::string out;
      if (count > kIovMax) {
        err = kInval;
      } else if (!fits(iovs, 8ULL * count) || !fits(written, 4)) {
        err = kFault;
      } else {
        HostCall counting(*this);
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < count && err == kSuccess; ++i) {
          std::uint32_t p = get32(iovs + 8ULL * i), n = get32(iovs + 8ULL * i + 4);
          if (!fits(p, n)) err = kFault;
          total += n;
        }
        if (err == kSuccess && fd != 1 && fd != 2) err = kBadf;
        if (err == kSuccess) {
          if (auto taken = take_host_bytes(total); !taken.ok()) return fail(taken.error(), trap);
          out.reserve(static_cast<std::size_t>(total));
          for (std::uint32_t i = 0; i < count; ++i) {
            std::uint32_t p = get32(iovs + 8ULL * i), n = get32(iovs + 8ULL * i + 4);
            out.append(reinterpret_cast<const char*>(mem.data() + p), n);
          }
          host.write_output(static_cast<int>(fd), out);
          put(written, out.size(), 4);
        }
      }
    } else if (name == "fd_fdstat_get") {
      // stdout and stderr are write-only character devices; nothing else is open.
      std::uint32_t fd = arg(0), out = arg(1);
      constexpr std::uint64_t kCharacterDevice = 2, kRightFdWrite = 1ULL << 6;
      if (fd != 1 && fd != 2) {
        err = kBadf;
      } else if (!fits(out, 24)) {
        err = kFault;
      } else {
        put(out, kCharacterDevice, 8);  // filetype u8, then padding and fs_flags u16 = 0
        put(out + 8, kRightFdWrite, 8);
        put(out + 16, 0, 8);
      }
    } else if (name == "fd_seek") {
      err = arg(0) == 1 || arg(0) == 2 ? kSpipe : kBadf;
    } else if (name == "fd_close") {
      err = arg(0) == 1 || arg(0) == 2 ? kSuccess : kBadf;  // the node's log stays open
    } else if (name == "proc_exit") {
      return fail(Error{WasmErrc::kTrap, "guest called proc_exit(" + std::to_string(arg(0)) + ")"},
                  trap);
    } else if (name == "clock_time_get") {
      std::uint32_t id = arg(0), out = arg(2);
      if (!fits(out, 8)) {
        err = kFault;
      } else if (id == 0) {
        put(out, nanos(std::chrono::system_clock::now()), 8);
      } else if (id == 1) {
        put(out, nanos(std::chrono::steady_clock::now()), 8);
      } else {
        err = kInval;
      }
    } else if (name == "random_get") {
      std::uint32_t buf = arg(0), len = arg(1);
      if (!fits(buf, len)) {
        err = kFault;
      } else {
        fill_random(mem.data() + buf, len);
      }
    } else if (name == "environ_sizes_get" || name == "args_sizes_get") {
      // No environment and no arguments: an actor's inputs are its messages.
      std::uint32_t count = arg(0), size = arg(1);
      if (!fits(count, 4) || !fits(size, 4)) {
        err = kFault;
      } else {
        put(count, 0, 4);
        put(size, 0, 4);
      }
    }  // environ_get, args_get: nothing to copy.
    results = {err};
    return true;
  }
};

std::optional<Tier> parse_tier(std::string_view name) {
  if (name == "auto") return Tier::kAuto;
  if (name == "aot") return Tier::kAot;
  if (name == "interp") return Tier::kInterp;
  return std::nullopt;
}

const char* tier_name(Tier tier) {
  switch (tier) {
    case Tier::kAot:
      return "aot";
    case Tier::kInterp:
      return "interp";
    default:
      return "auto";
  }
}

std::uint64_t memory_ceiling(const GuestModule& module, const Limits& limits) {
  const std::uint32_t pages = limits.memory_pages != 0
                                  ? std::min(limits.memory_pages, module.max_pages())
                                  : module.max_pages();
  return std::uint64_t{pages} * 65536;
}

Result<void> fits_limits(const GuestModule& module, const Limits& limits) {
  if (module.initial_pages() > limits.memory_pages) {
    return Error{WasmErrc::kMemoryLimit,
                 "the module starts with " + std::to_string(module.initial_pages()) +
                     " pages of memory; the limit is " + std::to_string(limits.memory_pages)};
  }
  if (module.initial_table_elements() > limits.table_elements) {
    return Error{WasmErrc::kMemoryLimit, "the module starts with a table of " +
                                             std::to_string(module.initial_table_elements()) +
                                             " elements; the limit is " +
                                             std::to_string(limits.table_elements)};
  }
  return {};
}

Instance::Instance(std::unique_ptr<State> state) : s_(std::move(state)) {}
Instance::~Instance() = default;

Tier Instance::tier() const { return s_->tier; }

std::uint64_t Instance::peak_host_bytes() const { return s_->peak_host_bytes; }

void Instance::exclude_wait(std::chrono::steady_clock::duration waited,
                            std::chrono::steady_clock::duration budget) {
  s_->meter.exclude_wait(waited, budget);
}

Result<void> Instance::check_deadline() const { return s_->meter.check_deadline(); }

Result<void> Instance::materialize(std::uint64_t bytes) { return s_->take_host_bytes(bytes); }

std::span<std::uint8_t> Instance::bytes() {
  // Before instantiation has returned there is no memory to read (a start function's host
  // calls are refused before they get here; this keeps any other path from a null module).
  if (!s_->module || s_->memory < 0) return {};
  const core::CoreInstance::Bytes m = s_->module->memory_bytes(s_->memory);
  return {m.data, static_cast<std::size_t>(m.size)};
}

Result<std::uint32_t> Instance::realloc(std::uint32_t old_ptr, std::uint32_t old_size,
                                        std::uint32_t align, std::uint32_t new_size) {
  // No allocation: this runs several times per call.
  const std::uint64_t args[4] = {old_ptr, old_size, align, new_size};
  std::uint64_t result = 0;
  if (auto e = s_->run(s_->realloc_fn, args, &result)) return *e;
  return static_cast<std::uint32_t>(result);
}

namespace {

// No limit is 0 (unlimited has its own value): a 0 here is a caller's mistake, refused rather
// than guessed at.
std::optional<Error> check_limits(const Limits& l) {
  const char* zero = l.fuel == 0              ? "fuel"
                     : l.memory_pages == 0    ? "memory_pages"
                     : l.timeout.count() <= 0 ? "timeout"
                     : l.max_call_depth == 0  ? "max_call_depth"
                     : l.max_reply_bytes == 0 ? "max_reply_bytes"
                     : l.table_elements == 0  ? "table_elements"
                     : l.host_call_bytes == 0 ? "host_call_bytes"
                                              : nullptr;
  if (zero != nullptr) {
    return Error{BaseErrc::kInvalidArgument,
                 std::string("limit ") + zero + " is 0 (unlimited has its own value)"};
  }
  if (l.memory_pages > kAllPages) {
    return Error{BaseErrc::kInvalidArgument, "memory_pages above 65536 (4 GiB)"};
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<Instance>> Instance::create(const GuestModule& module, HostImports& host,
                                                   Limits limits, Tier tier) {
  if (auto bad = check_limits(limits)) return *bad;
  std::shared_ptr<const AotCode> aot = tier == Tier::kInterp ? nullptr : module.aot_code();
  if (tier == Tier::kAot && !aot) {
    return Error{BaseErrc::kUnavailable, "the module has no AOT code (AotCompiler::compile first)"};
  }
  if (auto fits = fits_limits(module, limits); !fits.ok()) return fits.error();
  // Node-wide caps: this instance's memory ceiling is reserved for as long as it lives.
  auto lease = GuestBudget::node().acquire(memory_ceiling(module, limits));
  if (!lease.ok()) return lease.error();
  auto state = std::make_unique<State>(host, limits);
  state->lease = std::move(lease).value();
  state->names = &module.names();
  std::unique_ptr<Instance> self(new Instance(std::move(state)));
  Instance* me = self.get();
  // Every callback captures two words, which std::function holds in place: resolving an
  // instance's imports allocates nothing per import (names were checked at load; the strings
  // captured by pointer live in the module or in static tables).
  core::Resolver resolve = [me, &module](const std::string& mod,
                                         const std::string& name) -> core::HostCallback {
    if (mod == kLimitsModule) {
      const bool out_of_fuel = name == kOutOfFuel;
      return [me, out_of_fuel](const FlatValues&, FlatValues& results, std::string& trap) {
        return me->s_->limits_call(out_of_fuel, results, trap);
      };
    }
    if (mod == kWasiModule) {
      const std::string* n = &*module.wasi_imports().find(name);  // checked at load
      return [me, n](const FlatValues& params, FlatValues& results, std::string& trap) {
        return me->s_->wasi(*me, *n, params, results, trap);
      };
    }
    if (const troupe_host::ImportRef* ref =
            troupe_host::find_import(mod, name, me->s_->names->scheme)) {
      return [me, ref](const FlatValues& params, FlatValues& results, std::string& trap) {
        return me->s_->troupe_import(*me, *ref->iface, *ref->function, params, results, trap);
      };
    }
    const workload::Function* f = workload::find_import(name);  // checked at load
    return [me, f](const FlatValues& params, FlatValues& results, std::string& trap) {
      return me->s_->contract_import(*me, *f, params, results, trap);
    };
  };
  // A start function runs during instantiation: its fuel and deadline start now.
  self->s_->meter.arm();
  std::string error;
  if (aot) {
    self->s_->module = instantiate_aot(std::move(aot), resolve, limits.memory_pages, error);
    self->s_->tier = Tier::kAot;
  } else {
    self->s_->module =
        bridge::InterpModule::instantiate(module.binary(), resolve, limits.memory_pages, error);
  }
  if (!self->s_->module) {
    // A start function stopped by a limit reports that limit.
    if (self->s_->host_error) return *self->s_->host_error;
    return Error{WasmErrc::kTrap, error};
  }
  self->s_->resolve(module.names());
  if (module.has_initialize()) {
    self->s_->begin_invocation();
    auto r = self->s_->run(self->s_->module->function(*self->s_->names->initialize), {});
    if (!r.ok()) return r.error();
  }
  return self;
}

Result<std::optional<AbiValue>> HostImports::call_troupe_host(std::string_view iface,
                                                              const workload::Function& f,
                                                              // NOLINTNEXTLINE: overriders own it
                                                              std::vector<AbiValue>) {
  return Error{WasmErrc::kTrap, "troupe:host/" + std::string(iface) + "." + f.name +
                                    " is not served to this guest (no actor services here)"};
}

Result<std::optional<AbiValue>> Instance::call(std::string_view wit_name,
                                               const std::vector<AbiValue>& args) {
  const workload::Function* f = workload::find_export(wit_name);
  if (!f) return Error{BaseErrc::kNotFound, "no contract export '" + std::string(wit_name) + "'"};
  if (f == &workload::guest_exports().front()) {  // dispatch has its own path
    if (args.size() != 1 || args[0].items.size() != 3) {
      return Error{BaseErrc::kInternal, "dispatch takes one rpc-envelope"};
    }
    const auto& fields = args[0].items;
    auto r = dispatch(fields[0].bytes, fields[1].bytes, fields[2].bytes);
    if (!r.ok()) return r.error();
    if (r->error) return std::optional<AbiValue>(workload::err(*r->error));
    return std::optional<AbiValue>(workload::ok_bytes(std::move(r->reply)));
  }
  const State::Slot slot = s_->slot(static_cast<std::size_t>(f - workload::guest_exports().data()));
  if (slot.function < 0) {
    return Error{BaseErrc::kNotFound, "the guest does not export '" + std::string(wit_name) + "'"};
  }
  s_->begin_invocation();
  auto core_args = lower_export_args(*this, f->type, args);
  if (!core_args.ok()) return core_args.error();
  auto core_results = s_->run(slot.function, *core_args);
  if (!core_results.ok()) return core_results.error();
  State::HostCall counting(*s_);  // lifting the result holds guest values too
  auto result = lift_export_result(*this, f->type, *core_results);
  if (!result.ok()) return result.error();
  // The guest may now free what it returned.
  if (slot.post >= 0) {
    auto r = s_->run(slot.post, *core_results);
    if (!r.ok()) return r.error();
  }
  return result;
}

Result<DispatchReply> Instance::dispatch(std::string_view request_id, std::string_view route,
                                         std::string_view payload, bool keep_reply) {
  const State::Slot slot = s_->slot(0);  // guest_exports() starts with dispatch
  if (slot.function < 0) return Error{BaseErrc::kNotFound, "the guest does not export 'dispatch'"};
  if (!is_valid_utf8(request_id) || !is_valid_utf8(route)) {
    return Error{BaseErrc::kInvalidArgument, "an envelope's request id and route must be UTF-8"};
  }
  // rpc-envelope flattens to the (pointer, length) of each of its three fields.
  const std::string_view fields[3] = {request_id, route, payload};
  core::CoreInstance::Lowered lowered[3];
  for (std::size_t i = 0; i < 3; ++i) {
    if (fields[i].size() > 0xFFFFFFFFu) {
      return Error{BaseErrc::kInvalidArgument, "an envelope field too large for a 32-bit memory"};
    }
    lowered[i] = {fields[i].data(), static_cast<std::uint32_t>(fields[i].size())};
  }
  s_->begin_invocation();
  std::uint64_t ret = 0;
  if (auto e = s_->run_lowered(slot.function, lowered, 3, &ret)) return *e;
  auto reply = lift_dispatch_result(static_cast<std::uint32_t>(ret), keep_reply);
  if (!reply.ok()) return reply.error();
  // The guest may now free what it returned.
  if (slot.post >= 0) {
    std::uint64_t none = 0;
    if (auto e = s_->run(slot.post, &ret, &none)) return *e;
  }
  return reply;
}

// result<list<u8>, actr-error> at `ptr`. An ok reply is read in place; anything else (an
// error, or a result that fails a check) goes through the general load() for its value or
// its exact violation.
Result<DispatchReply> Instance::lift_dispatch_result(std::uint32_t ptr, bool keep_reply) {
  static_assert(std::endian::native == std::endian::little, "reads guest memory in place");
  const AbiType& t = workload::types().result_bytes;
  auto m = bytes();
  if (ptr % t.alignment() == 0 && std::uint64_t{ptr} + t.size() <= m.size() && m[ptr] == 0) {
    std::uint32_t at = 0, size = 0;
    std::memcpy(&at, m.data() + ptr + t.payload_offset(), 4);
    std::memcpy(&size, m.data() + ptr + t.payload_offset() + 4, 4);
    if (size > s_->meter.limits().max_reply_bytes) {
      return Error{WasmErrc::kMemoryLimit, "a reply of " + std::to_string(size) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(s_->meter.limits().max_reply_bytes)};
    }
    if (std::uint64_t{at} + size > m.size()) return range_outside_memory(at, size, m.size());
    Result<DispatchReply> out = DispatchReply{};
    if (keep_reply) out->reply.assign(reinterpret_cast<const char*>(m.data()) + at, size);
    return out;
  }
  State::HostCall counting(*s_);
  auto v = load(*this, t, ptr);
  if (!v.ok()) return v.error();
  return DispatchReply{{}, workload::error_of(*v)};
}

}  // namespace troupe::wasm
