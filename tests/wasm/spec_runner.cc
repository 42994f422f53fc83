// Runs WebAssembly spec test scripts (.wast, converted with wast2json) against troupe's two
// tiers, with the limits pass on: every module is validated, instrumented and instantiated
// the way a guest is, then each command is checked.
//   spec_runner [--tier interp|aot|both] [--cache DIR] [--known FILE] [--failures] FILE.wast...
// Prints one line per script and tier (passed, failed, skipped by reason), then totals; with
// --failures, each failure. --known names failures that are expected (SCRIPT:LINE reason per
// line; see spec_known_failures.txt): they are counted apart. Exit status 1 when a command
// failed that is not known, else 0.
//
// Skipped, with the reason printed: scripts needing proposals troupe does not enable (wast2json
// converts them only with --enable-all, and the loader refuses their modules); modules in
// text format (troupe loads binaries); values other than numbers at the boundary (v128,
// references); imports of memories, tables and globals (guests never have them);
// unlinkable modules whose imports resolve by name but mismatch in type (not checked).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/cast.h>
#include <wabt/ir.h>
#include <wabt/validator.h>

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
#include "troupe/wasm/aot.h"
#include "troupe/wasm/fuel.h"
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

// Reads and validates with the features troupe's loader enables (WABT's defaults), or with
// every feature WABT knows.
Parsed parse(const std::vector<std::uint8_t>& bin, bool all_features = false) {
  Parsed p;
  p.ir = std::make_unique<wabt::Module>();
  wabt::Errors errors;
  wabt::Features features;
  if (all_features) features.EnableAll();
  wabt::ReadBinaryOptions options(features, nullptr, false, true, true);
  if (wabt::Failed(
          wabt::ReadBinaryIr("spec.wasm", bin.data(), bin.size(), options, &errors, p.ir.get())) ||
      wabt::Failed(wabt::ValidateModule(p.ir.get(), &errors, wabt::ValidateOptions(features)))) {
    p.error = errors.empty() ? "invalid" : errors.front().message;
    p.ir.reset();
  }
  return p;
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

// One live module: its instance and the types of its exported functions.
struct Live {
  std::unique_ptr<core::CoreInstance> instance;
  std::map<std::string, std::pair<wabt::TypeVector, wabt::TypeVector>> funcs;
  int fuel = -1, depth = -1, max_depth = -1;
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
    {
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
      }
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

  // The imports a module needs, resolved against spectest and registered modules; why not
  // when one cannot be (nullopt: all resolve).
  std::optional<std::string> unresolvable(const wabt::Module& ir, bool& skip) const {
    skip = false;
    for (const wabt::Import* imp : ir.imports) {
      if (imp->kind() != wabt::ExternalKind::Func) {
        skip = true;
        return "imports a memory, table or global";
      }
      if (imp->module_name == "spectest") {
        if (imp->field_name.rfind("print", 0) == 0) continue;
        return "unknown import spectest." + imp->field_name;
      }
      if (unavailable_.count(imp->module_name) != 0) {
        skip = true;
        return "imports from a module that did not load";
      }
      auto it = registered_.find(imp->module_name);
      if (it == registered_.end() || it->second->funcs.count(imp->field_name) == 0) {
        return "unknown import " + imp->module_name + "." + imp->field_name;
      }
    }
    return std::nullopt;
  }

  core::Resolver resolver(Live* self) {
    return [this, self](const std::string& mod, const std::string& name) -> core::HostCallback {
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

  // Validates, instruments and instantiates; nullptr with `why` (and `skip` when it is not a
  // failure of troupe's) when it cannot.
  std::unique_ptr<Live> instantiate(const fs::path& file, std::string& why, bool& skip) {
    skip = false;
    auto bin = read_binary(file);
    Parsed p = parse(bin);
    if (!p.ir) {
      skip = parse(bin, true).ir != nullptr;
      why = skip ? "needs a proposal troupe does not enable" : "refused: " + p.error;
      return nullptr;
    }
    if (auto missing = unresolvable(*p.ir, skip)) {
      why = *missing;
      return nullptr;
    }
    auto live = std::make_unique<Live>();
    for (const wabt::Export* e : p.ir->exports) {
      if (e->kind != wabt::ExternalKind::Func) continue;
      const wabt::Func* f = p.ir->GetFunc(e->var);
      live->funcs[e->name] = {f->decl.sig.param_types, f->decl.sig.result_types};
    }
    auto instrumented = instrument_fuel(bin);
    if (!instrumented.ok()) {
      why = "limits pass: " + instrumented.error().to_string();
      return nullptr;
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
        skip = code.error().code == Errc::kRefused && (boundary || names || crash);
        why = boundary ? "AOT: v128 or reference types in an exported or imported signature"
              : names  ? "AOT: a name wasm2c cannot carry safely (refused, see docs/WASM.md)"
              : crash  ? "AOT: Debian's wasm2c 1.0.32 aborts on the module (interpreter only)"
                       : "AOT: " + code.error().to_string();
        return nullptr;
      }
      live->instance = instantiate_aot(*code, resolver(live.get()), 0, error);
    } else {
      live->instance =
          bridge::InterpModule::instantiate(*instrumented, resolver(live.get()), 0, error);
    }
    if (!live->instance) {
      why = error;
      return nullptr;
    }
    live->fuel = live->instance->global(kFuelGlobal);
    live->depth = live->instance->global(kDepthGlobal);
    live->max_depth = live->instance->global(kMaxDepthGlobal);
    return live;
  }

  void module(const json& c, bool needs_proposals) {
    current_ = nullptr;
    std::string why;
    bool skip = false;
    auto live = instantiate(dir_ / c.value("filename", ""), why, skip);
    if (!live) {
      if (needs_proposals && why.rfind("refused", 0) == 0) {
        record(Outcome::kSkip, "needs a proposal troupe does not enable");
      } else if (skip) {
        record(Outcome::kSkip, why);
      } else {
        record(skip ? Outcome::kSkip : Outcome::kFail, skip ? why : "module: " + why);
      }
      return;
    }
    record(Outcome::kPass, "module");
    current_ = live.get();
    if (c.contains("name")) named_[c.at("name").get<std::string>()] = current_;
    modules_.push_back(std::move(live));
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
    auto f = m->funcs.find(field);
    const int index = m->instance->function(field);
    if (f == m->funcs.end() || index < 0) {
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
    r.types = f->second.second;
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

  void expect_trap(const json& c) {
    auto r = perform(c);
    if (!r) return;
    record(r->ok ? Outcome::kFail : Outcome::kPass,
           c.at("action").value("field", "") + " did not trap (expected: " + c.value("text", "") +
               ")");
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
    Parsed p = parse(read_binary(dir_ / c.value("filename", "")));
    if (!p.ir) {
      record(Outcome::kPass, "refused");
    } else {
      record(needs_proposals ? Outcome::kSkip : Outcome::kFail,
             needs_proposals ? "needs a proposal troupe does not enable"
                             : "accepted: " + c.value("text", ""));
    }
  }

  void expect_not_instantiable(const json& c, bool unlinkable) {
    std::string why;
    bool skip = false;
    auto live = instantiate(dir_ / c.value("filename", ""), why, skip);
    if (!live && skip) {
      record(Outcome::kSkip, why);
    } else if (live && unlinkable) {
      record(Outcome::kSkip, "import type mismatch (imports resolve by name only)");
    } else {
      record(live ? Outcome::kFail : Outcome::kPass, "instantiated: " + c.value("text", ""));
      if (live) modules_.push_back(std::move(live));
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

}  // namespace
}  // namespace troupe::wasm::spec

int main(int argc, char** argv) {
  using namespace troupe::wasm;
  using namespace troupe::wasm::spec;
  std::vector<Tier> tiers = {Tier::kInterp, Tier::kAot};
  fs::path cache;
  bool show_failures = false;
  std::set<std::string> known;  // "script:line"
  std::vector<fs::path> scripts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tier" && i + 1 < argc) {
      const std::string t = argv[++i];
      if (t == "interp") tiers = {Tier::kInterp};
      if (t == "aot") tiers = {Tier::kAot};
    } else if (a == "--cache" && i + 1 < argc) {
      cache = argv[++i];
    } else if (a == "--known" && i + 1 < argc) {
      std::ifstream in(argv[++i]);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') known.insert(line.substr(0, line.find(' ')));
      }
    } else if (a == "--failures") {
      show_failures = true;
    } else {
      scripts.emplace_back(a);
    }
  }
  std::unique_ptr<AotCompiler> compiler;
  if (std::find(tiers.begin(), tiers.end(), Tier::kAot) != tiers.end()) {
    compiler = std::make_unique<AotCompiler>(AotOptions{.cache_dir = cache});
    if (!compiler->available()) {
      std::cerr << "spec_runner: AOT unavailable: " << compiler->unavailable_reason() << "\n";
      return 1;
    }
  }
  std::string scratch = (fs::temp_directory_path() / "troupe-spec-XXXXXX").string();
  if (mkdtemp(scratch.data()) == nullptr) return 1;
  std::map<Tier, Tally> totals;
  int failed = 0;
  for (const fs::path& wast : scripts) {
    const fs::path dir = fs::path(scratch) / wast.stem();
    fs::create_directories(dir);
    bool needs_proposals = false;
    if (!convert(wast, dir, needs_proposals)) {
      std::cout << wast.filename().string() << ": wast2json cannot convert it\n";
      ++failed;
      continue;
    }
    std::ifstream in(dir / "script.json");
    const json script = json::parse(in, nullptr, false);
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
    for (const std::string& f : t.failures) {
      if (known.count(f.substr(0, f.find(": "))) == 0) unknown.push_back(f);
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
    failed += static_cast<int>(unknown.size());
  }
  return failed == 0 ? 0 : 1;
}
