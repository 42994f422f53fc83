// Runs WebAssembly spec test scripts (.wast, converted with wast2json) against troupe's two
// tiers, with the limits pass on: every module is validated by troupe's own loader
// (GuestModule::load), instrumented and instantiated the way a guest is, then each command is
// checked.
//   spec_runner [--tier interp|aot|both] [--cache DIR] [--known FILE] [--failures] PATH...
// PATH is a .wast script or a directory of them (its *.wast). Prints one line per script and
// tier (passed, failed, skipped by reason), then totals; with --failures, each failure.
// --known names failures that are expected (SCRIPT:LINE reason per line; see
// spec_known_failures.txt): they are counted apart, and a listed command of a script that ran
// and did not fail is reported as STALE and fails the run, so the list stays true.
// Exit status: 0 when every command passed or is known; 1 when one failed that is not known,
// a known one no longer fails, or a script could not be converted; 2 for a usage error (an
// unknown option, a missing path, no scripts at all: a run that checks nothing is not a pass).
//
// What each command must do to pass:
// - module: load, link and instantiate on the tier.
// - assert_return: return every expected result, bit for bit (NaN classes per the spec).
// - assert_trap, assert_exhaustion: trap for the reason the script names (spec_traps.h maps
//   the spec's texts to troupe's trap messages; an unmapped text fails).
// - assert_invalid, assert_malformed: GuestModule::load refuses the binary as malformed or
//   invalid (a refusal for the guest contract alone, e.g. a missing export, does not count).
// - assert_unlinkable: linking fails (imports checked by name, kind and type against spectest
//   and the registered modules); a module that links fails the command.
// - assert_uninstantiable: instantiation traps, for the reason the script names.
//
// Skipped, with the reason printed: scripts needing proposals troupe does not enable (wast2json
// converts them only with --enable-all, and the loader refuses their modules); modules in
// text format (troupe loads binaries); values other than numbers at the boundary (v128 on the
// AOT tier, references); modules importing memories, tables and globals (guests never have
// them; they are linked, so an unlinkable one still fails to link, but not instantiated).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/cast.h>
#include <wabt/ir.h>
#include <wabt/validator.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aot_instance.h"
#include "interp_bridge.h"
#include "spec_imports.h"
#include "spec_traps.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/fuel.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/instance.h"

extern char** environ;  // NOLINT: POSIX

namespace troupe::wasm::spec {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

enum class Outcome { kPass, kFail, kSkip };

struct Tally {
  int passed = 0, failed = 0;
  std::map<std::string, int> skipped;  // by reason
  std::vector<std::string> failures;
  void add(Outcome o, const std::string& what) {
    if (o == Outcome::kPass) ++passed;
    if (o == Outcome::kFail) {
      ++failed;
      failures.push_back(what);
    }
    if (o == Outcome::kSkip) ++skipped[what];
  }
  int skipped_total() const {
    int n = 0;
    for (const auto& [_, c] : skipped) n += c;
    return n;
  }
};

bool run_tool(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<std::uint8_t> read_binary(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Parsed {
  std::unique_ptr<wabt::Module> ir;
  std::string error;
};

// Reads and validates with the features and options troupe's loader uses (WABT's defaults), or
// with every feature WABT knows. The runner reads modules itself only for the types of their
// imports and exports; GuestModule::load is the judge of validity.
Parsed parse(const std::vector<std::uint8_t>& bin, bool all_features = false) {
  Parsed p;
  p.ir = std::make_unique<wabt::Module>();
  wabt::Errors errors;
  wabt::Features features;
  if (all_features) features.EnableAll();
  wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  if (wabt::Failed(
          wabt::ReadBinaryIr("spec.wasm", bin.data(), bin.size(), options, &errors, p.ir.get())) ||
      wabt::Failed(wabt::ValidateModule(p.ir.get(), &errors, wabt::ValidateOptions(features)))) {
    p.error = errors.empty() ? "invalid" : errors.front().message;
    p.ir.reset();
  }
  return p;
}

// GuestModule::load's refusal when it refuses the binary as malformed or invalid WebAssembly;
// nullopt when it accepts it or refuses it only for the guest contract (a spec module has no
// cabi_realloc, no dispatch...), i.e. when troupe's loader finds it valid.
std::optional<std::string> loader_refusal(const std::vector<std::uint8_t>& bin) {
  auto loaded = GuestModule::load(bin);
  if (loaded.ok()) return std::nullopt;
  const std::string& detail = loaded.error().detail;
  if (detail.starts_with("not a valid WebAssembly binary") ||
      detail.starts_with("invalid module")) {
    return detail.substr(0, detail.find('\n'));
  }
  return std::nullopt;
}

bool numeric(const std::string& type) {
  return type == "i32" || type == "i64" || type == "f32" || type == "f64";
}

// What can cross troupe's core boundary: numbers, and v128 (two slots) on the interpreter.
bool crosses(const json& v, Tier tier) {
  if (!v.is_object()) return false;
  const std::string type = v.value("type", "");
  return numeric(type) || (type == "v128" && tier == Tier::kInterp);
}

std::size_t lane_bytes(const std::string& lane_type) {
  if (lane_type == "i8") return 1;
  if (lane_type == "i16") return 2;
  if (lane_type == "i64" || lane_type == "f64") return 8;
  return 4;  // i32, f32
}

// A v128 from its lanes (unsigned decimal, floats as bits), as two slots.
void push_v128(const json& v, std::vector<std::uint64_t>& out) {
  unsigned char bytes[16] = {};
  const std::size_t width = lane_bytes(v.value("lane_type", "i32"));
  std::size_t at = 0;
  for (const json& lane : v.at("value")) {
    const std::uint64_t x = std::stoull(lane.get<std::string>());
    for (std::size_t b = 0; b < width && at < 16; ++b) bytes[at++] = (x >> (8 * b)) & 0xff;
  }
  std::uint64_t slots[2];
  std::memcpy(slots, bytes, 16);
  out.push_back(slots[0]);
  out.push_back(slots[1]);
}

// One live module: its instance and the types of its exports.
struct Live {
  std::unique_ptr<core::CoreInstance> instance;
  std::map<std::string, Extern> exports;
  int fuel = -1, depth = -1, max_depth = -1;
};

// How far a module got.
enum class Stage {
  kLoaded,
  kSkipped,     // not a failure of troupe's (reason in `why`)
  kInvalid,     // troupe's loader refused it as malformed or invalid
  kUnlinkable,  // an import does not resolve, or resolves to another kind or type
  kTrapped,     // instantiation trapped (the trap message in `why`)
  kFailed,      // anything else
};

struct Attempt {
  std::unique_ptr<Live> live;
  Stage stage = Stage::kFailed;
  std::string why;
  // Every import resolved to an export of its kind and type (whatever happened after).
  bool linked = false;
};

class Script {
 public:
  Script(Tier tier, AotCompiler* compiler, const fs::path& dir, Tally& tally)
      : tier_(tier), compiler_(compiler), dir_(dir), tally_(tally) {}

  void run(const json& commands, const std::string& name, bool needs_proposals) {
    name_ = name;
    for (const json& c : commands) {
      try {
        command(c, needs_proposals);
      } catch (const std::exception& e) {
        record(Outcome::kFail, std::string("runner: ") + e.what());
      }
    }
  }

 private:
  void command(const json& c, bool needs_proposals) {
    const std::string type = c.value("type", "");
    line_ = c.value("line", 0);
    if (type == "module") {
      module(c, needs_proposals);
    } else if (type == "register") {
      const std::string as = c.value("as", "");
      Live* m = current_;
      if (c.contains("name")) {
        auto it = named_.find(c.at("name").get<std::string>());
        m = it == named_.end() ? nullptr : it->second;
      }
      if (m != nullptr) {
        registered_[as] = m;
      } else {
        unavailable_.insert(as);
      }
    } else if (type == "assert_return") {
      assert_return(c);
    } else if (type == "assert_trap" || type == "assert_exhaustion") {
      if (c.at("action").contains("field")) {
        expect_trap(c);
      } else {
        record(Outcome::kSkip, "assert_trap on a module");
      }
    } else if (type == "action") {
      action(c);
    } else if (type == "assert_invalid" || type == "assert_malformed") {
      expect_refused(c, needs_proposals);
    } else if (type == "assert_uninstantiable" || type == "assert_unlinkable") {
      expect_not_instantiable(c, type == "assert_unlinkable");
    } else {
      record(Outcome::kFail, "unknown command type '" + type + "'");
    }
  }

  void record(Outcome o, const std::string& what) {
    tally_.add(o, o == Outcome::kFail ? name_ + ":" + std::to_string(line_) + ": " + what : what);
  }

  Live* target(const json& c) {
    const json& a = c.contains("action") ? c.at("action") : c;
    if (a.contains("module")) {
      auto it = named_.find(a["module"].get<std::string>());
      return it == named_.end() ? nullptr : it->second;
    }
    return current_;
  }

  // Resolves every import against spectest and the registered modules by name, kind and type.
  // kUnlinkable when one cannot link (even if another could not be run anyway); kSkipped when
  // all link but one is a memory, table or global (troupe's instances import functions only)
  // or comes from a module that did not load; kLoaded when all link.
  Attempt link(const wabt::Module& ir) const {
    Attempt a;
    a.stage = Stage::kLoaded;
    a.linked = true;
    for (const wabt::Import* imp : ir.imports) {
      const std::string what = imp->module_name + "." + imp->field_name;
      if (unavailable_.count(imp->module_name) != 0) {
        if (a.stage == Stage::kLoaded) {
          a = {nullptr, Stage::kSkipped, "imports from a module that did not load", false};
        }
        continue;
      }
      const std::map<std::string, Extern>* provider = nullptr;
      if (imp->module_name == "spectest") {
        provider = &spectest();
      } else if (auto it = registered_.find(imp->module_name); it != registered_.end()) {
        provider = &it->second->exports;
      }
      if (provider == nullptr || provider->count(imp->field_name) == 0) {
        return {nullptr, Stage::kUnlinkable, "unknown import " + what};
      }
      if (auto why = mismatch(*imp, provider->at(imp->field_name))) {
        return {nullptr, Stage::kUnlinkable, "incompatible import " + what + ": " + *why};
      }
      if (imp->kind() != wabt::ExternalKind::Func && a.stage == Stage::kLoaded) {
        a = {nullptr, Stage::kSkipped, "imports a memory, table or global", true};
      }
    }
    return a;
  }

  core::Resolver resolver() {
    return [this](const std::string& mod, const std::string& name) -> core::HostCallback {
      if (mod == kLimitsModule) {
        if (name == kOutOfFuel) {
          return [](const std::vector<std::uint64_t>&, std::vector<std::uint64_t>& results,
                    std::string&) {
            results = {INT64_MAX};
            return true;
          };
        }
        return
            [](const std::vector<std::uint64_t>&, std::vector<std::uint64_t>&, std::string& trap) {
              trap = "call stack exhausted";
              return false;
            };
      }
      if (mod == "spectest") {
        return [](const std::vector<std::uint64_t>&, std::vector<std::uint64_t>&, std::string&) {
          return true;
        };
      }
      auto it = registered_.find(mod);
      if (it == registered_.end()) return {};
      Live* other = it->second;
      const int f = other->instance->function(name);
      return
          [other, f](const std::vector<std::uint64_t>& params, std::vector<std::uint64_t>& results,
                     std::string& trap) { return other->instance->call(f, params, results, trap); };
    };
  }

  // Loads (troupe's loader), links, instruments and instantiates.
  Attempt instantiate(const fs::path& file) {
    auto bin = read_binary(file);
    if (auto refusal = loader_refusal(bin)) {
      if (parse(bin, true).ir != nullptr) {
        return {nullptr, Stage::kSkipped, "needs a proposal troupe does not enable"};
      }
      return {nullptr, Stage::kInvalid, "refused: " + *refusal};
    }
    Parsed p = parse(bin);
    if (!p.ir) {
      return {nullptr, Stage::kFailed,
              "troupe's loader accepts what the runner cannot read: " + p.error};
    }
    Attempt linked = link(*p.ir);
    if (linked.stage != Stage::kLoaded) return linked;
    Attempt a = after_link(*p.ir, bin);
    a.linked = true;
    return a;
  }

  // Instruments and instantiates a module whose imports all link.
  Attempt after_link(const wabt::Module& ir, const std::vector<std::uint8_t>& bin) {
    auto live = std::make_unique<Live>();
    for (const wabt::Export* e : ir.exports) live->exports[e->name] = extern_of(ir, *e);
    auto instrumented = instrument_fuel(bin);
    if (!instrumented.ok()) {
      return {nullptr, Stage::kFailed, "limits pass: " + instrumented.error().to_string()};
    }
    std::string error;
    if (tier_ == Tier::kAot) {
      auto code = compiler_->compile_binary(*instrumented);
      if (!code.ok()) {
        // The AOT tier takes numbers only at the boundary (the contract has nothing else).
        const std::string& detail = code.error().detail;
        const bool boundary = detail.find("numbers only") != std::string::npos;
        const bool names = detail.find("through wasm2c") != std::string::npos;
        const bool crash = detail.find("it crashed") != std::string::npos;
        const bool skip = code.error().code == BaseErrc::kRefused && (boundary || names || crash);
        return {nullptr, skip ? Stage::kSkipped : Stage::kFailed,
                boundary ? "AOT: v128 or reference types in an exported or imported signature"
                : names  ? "AOT: a name wasm2c cannot carry safely (refused, see docs/WASM.md)"
                : crash  ? "AOT: Debian's wasm2c 1.0.32 aborts on the module (interpreter only)"
                         : "AOT: " + code.error().to_string()};
      }
      live->instance = instantiate_aot(*code, resolver(), 0, error);
    } else {
      live->instance = bridge::InterpModule::instantiate(*instrumented, resolver(), 0, error);
    }
    if (!live->instance) {
      constexpr std::string_view kTrapped = "instantiation trapped: ";
      if (error.starts_with(kTrapped)) {
        return {nullptr, Stage::kTrapped, error.substr(kTrapped.size())};
      }
      return {nullptr, Stage::kFailed, error};
    }
    live->fuel = live->instance->global(kFuelGlobal);
    live->depth = live->instance->global(kDepthGlobal);
    live->max_depth = live->instance->global(kMaxDepthGlobal);
    // The suite's modules run without a table limit (the instrumented module starts at 0).
    live->instance->set_global(live->instance->global(kMaxTableGlobal), UINT32_MAX);
    return {std::move(live), Stage::kLoaded, {}};
  }

  void module(const json& c, bool needs_proposals) {
    current_ = nullptr;
    Attempt a = instantiate(dir_ / c.value("filename", ""));
    if (a.stage == Stage::kSkipped) {
      record(Outcome::kSkip, a.why);
      return;
    }
    if (a.stage == Stage::kInvalid && needs_proposals) {
      record(Outcome::kSkip, "needs a proposal troupe does not enable");
      return;
    }
    if (a.stage != Stage::kLoaded) {
      record(Outcome::kFail, "module: " + a.why);
      return;
    }
    record(Outcome::kPass, "module");
    current_ = a.live.get();
    if (c.contains("name")) named_[c.at("name").get<std::string>()] = current_;
    modules_.push_back(std::move(a.live));
  }

  // Runs an invoke (or a global get); nullopt when it cannot be expressed (skip recorded).
  struct Run {
    bool ok = false;
    std::vector<std::uint64_t> results;
    wabt::TypeVector types;
    std::string trap;
  };
  std::optional<Run> perform(const json& c) {
    Live* m = target(c);
    if (m == nullptr) {
      record(Outcome::kSkip, "its module did not load");
      return std::nullopt;
    }
    const json& a = c.at("action");
    const std::string field = a.value("field", "");
    Run r;
    if (a.value("type", "") == "get") {
      const int g = m->instance->global(field);
      if (g < 0) {
        record(Outcome::kSkip, "non-numeric global at the boundary");
        return std::nullopt;
      }
      r.ok = true;
      r.results = {m->instance->get_global(g)};
      return r;
    }
    auto f = m->exports.find(field);
    const int index = m->instance->function(field);
    if (f == m->exports.end() || f->second.kind != wabt::ExternalKind::Func || index < 0) {
      record(Outcome::kFail, "no export " + field);
      return std::nullopt;
    }
    std::vector<std::uint64_t> args;
    for (const json& v : a.at("args")) {
      if (!crosses(v, tier_)) {
        record(Outcome::kSkip, skip_reason());
        return std::nullopt;
      }
      if (v.value("type", "") == "v128") {
        push_v128(v, args);
      } else {
        args.push_back(std::stoull(v.at("value").get<std::string>()));
      }
    }
    r.types = f->second.results;
    for (wabt::Type t : r.types) {
      const bool v128 = t == wabt::Type::V128 && tier_ == Tier::kInterp;
      if (!v128 && t != wabt::Type::I32 && t != wabt::Type::I64 && t != wabt::Type::F32 &&
          t != wabt::Type::F64) {
        record(Outcome::kSkip, skip_reason());
        return std::nullopt;
      }
    }
    m->instance->set_global(m->fuel, INT64_MAX);
    m->instance->set_global(m->depth, 0);
    // Below the interpreter's own call-stack size (see kInterpMaxCallDepth).
    m->instance->set_global(m->max_depth, tier_ == Tier::kAot ? 10000 : kInterpMaxCallDepth);
    r.ok = m->instance->call(index, args, r.results, r.trap);
    return r;
  }

  std::string skip_reason() const {
    return tier_ == Tier::kAot ? "v128 or reference values at the boundary"
                               : "reference values at the boundary";
  }

  // Lane by lane, with the NaN classes for float lanes.
  static bool matches_v128(const json& expected, const std::uint64_t* got) {
    unsigned char bytes[16];
    std::memcpy(bytes, got, 16);
    const std::string lane_type = expected.value("lane_type", "i32");
    const std::size_t width = lane_bytes(lane_type);
    std::size_t at = 0;
    for (const json& lane : expected.at("value")) {
      std::uint64_t x = 0;
      for (std::size_t b = 0; b < width && at + b < 16; ++b) {
        x |= std::uint64_t{bytes[at + b]} << (8 * b);
      }
      at += width;
      const std::string scalar = lane_type[0] == 'f' ? lane_type : "i64";
      if (!matches(json{{"type", scalar}, {"value", lane.get<std::string>()}}, x)) return false;
    }
    return true;
  }

  static bool matches(const json& expected, std::uint64_t got) {
    const std::string type = expected.value("type", "");
    const std::string value = expected.value("value", "");
    if (value == "nan:canonical" || value == "nan:arithmetic") {
      const bool f32 = type == "f32";
      const std::uint64_t exp_mask = f32 ? 0x7f800000ULL : 0x7ff0000000000000ULL;
      const std::uint64_t quiet = f32 ? 0x00400000ULL : 0x0008000000000000ULL;
      const std::uint64_t payload = f32 ? 0x007fffffULL : 0x000fffffffffffffULL;
      if ((got & exp_mask) != exp_mask) return false;
      if (value == "nan:canonical") return (got & payload) == quiet;
      return (got & quiet) != 0;
    }
    std::uint64_t want = std::stoull(value);
    if (type == "i32" || type == "f32") {
      want &= 0xffffffffULL;
      got &= 0xffffffffULL;
    }
    return want == got;
  }

  // `expected` holds the results; `either` (relaxed operations) lists acceptable values,
  // one result each.
  void assert_return(const json& c) {
    std::vector<json> alternatives;
    if (c.contains("expected")) {
      alternatives.push_back(c.at("expected"));
    } else {
      for (const json& e : c.at("either")) alternatives.push_back(json::array({e}));
    }
    for (const json& expected : alternatives) {
      for (const json& e : expected) {
        if (!crosses(e, tier_)) {
          record(Outcome::kSkip, skip_reason());
          return;
        }
      }
    }
    auto r = perform(c);
    if (!r) return;
    if (!r->ok) {
      record(Outcome::kFail, c.at("action").value("field", "") + " trapped: " + r->trap);
      return;
    }
    bool same = false;
    for (const json& expected : alternatives) {
      std::size_t slot = 0;
      bool all = true;
      for (std::size_t i = 0; all && i < expected.size(); ++i) {
        const bool v128 = expected[i].value("type", "") == "v128";
        if (slot + (v128 ? 2 : 1) > r->results.size()) {
          all = false;
        } else if (v128) {
          all = matches_v128(expected[i], &r->results[slot]);
          slot += 2;
        } else {
          all = matches(expected[i], r->results[slot++]);
        }
      }
      same = same || (all && slot == r->results.size());
    }
    record(same ? Outcome::kPass : Outcome::kFail,
           c.at("action").value("field", "") + " returned a different value");
  }

  // The trap must be the one the script names (spec_traps.h).
  void expect_trap(const json& c) {
    auto r = perform(c);
    if (!r) return;
    const std::string field = c.at("action").value("field", "");
    if (r->ok) {
      record(Outcome::kFail, field + " did not trap (expected: " + c.value("text", "") + ")");
      return;
    }
    std::string why;
    const bool same = trap_matches(c.value("text", ""), r->trap, tier_, why);
    record(same ? Outcome::kPass : Outcome::kFail, field + " " + why);
  }

  void action(const json& c) {
    auto r = perform(c);
    if (!r) return;
    record(r->ok ? Outcome::kPass : Outcome::kFail, "action trapped: " + r->trap);
  }

  void expect_refused(const json& c, bool needs_proposals) {
    if (c.value("module_type", "binary") != "binary") {
      record(Outcome::kSkip, "text-format module (troupe loads binaries)");
      return;
    }
    // troupe's loader is the judge: a refusal for the guest contract alone is no refusal.
    if (loader_refusal(read_binary(dir_ / c.value("filename", "")))) {
      record(Outcome::kPass, "refused");
    } else {
      record(needs_proposals ? Outcome::kSkip : Outcome::kFail,
             needs_proposals ? "needs a proposal troupe does not enable"
                             : "accepted: " + c.value("text", ""));
    }
  }

  // assert_unlinkable: linking must fail. assert_uninstantiable: instantiation must trap, for
  // the reason the script names.
  void expect_not_instantiable(const json& c, bool unlinkable) {
    const std::string text = c.value("text", "");
    Attempt a = instantiate(dir_ / c.value("filename", ""));
    // A module that did instantiate stays alive: it may be referred to (as the spec's are).
    if (a.live) modules_.push_back(std::move(a.live));
    if (unlinkable) {
      if (a.stage == Stage::kUnlinkable) {
        record(Outcome::kPass, "unlinkable");
      } else if (a.linked) {
        record(Outcome::kFail, "links (expected: " + text + ")");
      } else if (a.stage == Stage::kSkipped) {
        record(Outcome::kSkip, a.why);
      } else {
        record(Outcome::kFail, "expected unlinkable (" + text + "), got: " + a.why);
      }
      return;
    }
    if (a.stage == Stage::kSkipped) {
      record(Outcome::kSkip, a.why);
    } else if (a.stage == Stage::kLoaded) {
      record(Outcome::kFail, "instantiated (expected: " + text + ")");
    } else if (a.stage != Stage::kTrapped) {
      record(Outcome::kFail, "expected a trap at instantiation (" + text + "), got: " + a.why);
    } else {
      std::string why;
      const bool same = trap_matches(text, a.why, tier_, why);
      record(same ? Outcome::kPass : Outcome::kFail, "instantiation " + why);
    }
  }

  Tier tier_;
  AotCompiler* compiler_;
  fs::path dir_;
  Tally& tally_;
  std::string name_;
  int line_ = 0;
  std::vector<std::unique_ptr<Live>> modules_;
  Live* current_ = nullptr;
  std::map<std::string, Live*> named_, registered_;
  std::set<std::string> unavailable_;  // registered names whose module did not load
};

// Converts `wast` into `dir`; needs_proposals when only --enable-all converts it.
bool convert(const fs::path& wast, const fs::path& dir, bool& needs_proposals) {
  const std::string out = (dir / "script.json").string();
  needs_proposals = false;
  if (run_tool({"wast2json", wast.string(), "-o", out})) return true;
  needs_proposals = true;
  return run_tool({"wast2json", "--enable-all", wast.string(), "-o", out});
}

// The scripts a path names: the path itself, or a directory's *.wast in name order. Empty with
// `error` set when it names none.
std::vector<fs::path> scripts_in(const fs::path& path, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() == ".wast" && entry.is_regular_file()) {
        found.push_back(entry.path());
      }
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) error = "no .wast scripts in " + path.string();
    return found;
  }
  if (!fs::is_regular_file(path, ec)) {
    error = "no such script or directory: " + path.string();
    return {};
  }
  return {path};
}

// Reads a --known list: "SCRIPT:LINE reason" per line, '#' comments. False with `error` set
// when the file cannot be read or a line is not of that form.
bool read_known(const fs::path& file, std::set<std::string>& known, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = "cannot read --known file " + file.string();
    return false;
  }
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const std::string key = line.substr(0, line.find(' '));
    const auto colon = key.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == key.size() ||
        key.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      error = file.string() + ":" + std::to_string(n) + ": expected SCRIPT:LINE reason";
      return false;
    }
    known.insert(key);
  }
  return true;
}

}  // namespace
}  // namespace troupe::wasm::spec

int main(int argc, char** argv) {
  using namespace troupe::wasm;
  using namespace troupe::wasm::spec;
  auto usage_error = [](const std::string& why) {
    std::cerr << "spec_runner: " << why
              << "\nusage: spec_runner [--tier interp|aot|both] [--cache DIR] [--known FILE] "
                 "[--failures] PATH...\n";
    return 2;
  };
  std::vector<Tier> tiers = {Tier::kInterp, Tier::kAot};
  fs::path cache;
  bool show_failures = false;
  std::set<std::string> known;  // "script:line"
  std::vector<fs::path> scripts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--tier" || a == "--cache" || a == "--known") {
      if (!has_value) return usage_error(a + " needs a value");
      const std::string v = argv[++i];
      if (a == "--tier") {
        if (v == "interp") {
          tiers = {Tier::kInterp};
        } else if (v == "aot") {
          tiers = {Tier::kAot};
        } else if (v == "both") {
          tiers = {Tier::kInterp, Tier::kAot};
        } else {
          return usage_error("unknown tier '" + v + "' (interp, aot or both)");
        }
      } else if (a == "--cache") {
        cache = v;
      } else if (std::string error; !read_known(v, known, error)) {
        return usage_error(error);
      }
    } else if (a == "--failures") {
      show_failures = true;
    } else if (a.starts_with("-")) {
      return usage_error("unknown option '" + a + "'");
    } else {
      std::string error;
      auto found = scripts_in(a, error);
      if (found.empty()) return usage_error(error);
      scripts.insert(scripts.end(), found.begin(), found.end());
    }
  }
  // Checking nothing is not a pass (e.g. the suite's directory is missing or empty).
  if (scripts.empty()) return usage_error("no scripts to run");
  std::unique_ptr<AotCompiler> compiler;
  if (std::find(tiers.begin(), tiers.end(), Tier::kAot) != tiers.end()) {
    compiler = std::make_unique<AotCompiler>(AotOptions{.cache_dir = cache});
    if (!compiler->available()) {
      std::cerr << "spec_runner: AOT unavailable: " << compiler->unavailable_reason() << "\n";
      return 1;
    }
  }
  std::string scratch = (fs::temp_directory_path() / "troupe-spec-XXXXXX").string();
  if (mkdtemp(scratch.data()) == nullptr) {
    std::cerr << "spec_runner: cannot create a scratch directory\n";
    return 1;
  }
  std::map<Tier, Tally> totals;
  std::set<std::string> ran;  // script file names, for the known list's staleness check
  int failed = 0;
  for (const fs::path& wast : scripts) {
    const fs::path dir = fs::path(scratch) / wast.stem();
    fs::create_directories(dir);
    ran.insert(wast.filename().string());
    bool needs_proposals = false;
    if (!convert(wast, dir, needs_proposals)) {
      std::cout << wast.filename().string() << ": wast2json cannot convert it\n";
      ++failed;
      continue;
    }
    std::ifstream in(dir / "script.json");
    const json script = json::parse(in, nullptr, false);
    if (script.is_discarded() || !script.contains("commands")) {
      std::cout << wast.filename().string() << ": wast2json wrote no commands\n";
      ++failed;
      continue;
    }
    for (Tier tier : tiers) {
      Tally tally;
      Script(tier, compiler.get(), dir, tally)
          .run(script["commands"], wast.filename().string(), needs_proposals);
      std::cout << wast.filename().string() << " [" << tier_name(tier) << "]: " << tally.passed
                << " passed, " << tally.failed << " failed, " << tally.skipped_total()
                << " skipped\n";
      Tally& t = totals[tier];
      t.passed += tally.passed;
      t.failed += tally.failed;
      for (const auto& [reason, n] : tally.skipped) t.skipped[reason] += n;
      for (const std::string& f : tally.failures) t.failures.push_back(f);
    }
    fs::remove_all(dir);
  }
  fs::remove_all(scratch);
  for (const auto& [tier, t] : totals) {
    std::vector<std::string> unknown;
    std::set<std::string> failed_keys;
    for (const std::string& f : t.failures) {
      const std::string key = f.substr(0, f.find(": "));
      failed_keys.insert(key);
      if (known.count(key) == 0) unknown.push_back(f);
    }
    // A listed failure of a script that ran and that no longer fails: the list must shrink.
    std::vector<std::string> stale;
    for (const std::string& k : known) {
      if (ran.count(k.substr(0, k.rfind(':'))) != 0 && failed_keys.count(k) == 0) {
        stale.push_back(k);
      }
    }
    std::cout << "TOTAL [" << tier_name(tier) << "]: " << t.passed << " passed, " << t.failed
              << " failed (" << t.failed - static_cast<int>(unknown.size()) << " known), "
              << t.skipped_total() << " skipped\n";
    for (const auto& [reason, n] : t.skipped) {
      std::cout << "  skipped " << n << ": " << reason << "\n";
    }
    for (const std::string& f : show_failures ? t.failures : unknown) {
      std::cout << "  FAIL " << f << "\n";
    }
    for (const std::string& k : stale) {
      std::cout << "  STALE " << k << ": listed as a known failure, but it did not fail\n";
    }
    failed += static_cast<int>(unknown.size() + stale.size());
  }
  return failed == 0 ? 0 : 1;
}
