#include "troupe/wasm/aot.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/cast.h>
#include <wabt/ir.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "aot/object_cache.h"
#include "aot/tool_process.h"
#include "aot/troupe_aot.h"
#include "aot_instance.h"
#include "aot_sources.h"

namespace troupe::wasm {
namespace fs = std::filesystem;

namespace {

// Bumped whenever the glue this file writes changes shape.
constexpr const char* kGlueVersion = "troupe-aot-glue-2";

// --- C text for one module ---

// wasm2c's name mangling (1.0.32): [A-Za-z0-9_] stay, except Z, and every other byte is
// Z followed by two upper-case hex digits.
std::string mangle(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if ((std::isalnum(c) != 0 && c != 'Z') || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += 'Z';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// wasm2c writes import and export names into C comments unescaped, so a name holding "*/"
// would inject code into the generated C. Only printable ASCII without "*/" or a backslash
// goes through.
bool safe_name(std::string_view name) {
  for (unsigned char c : name) {
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
  }
  return name.find("*/") == std::string_view::npos;
}

// A C string literal holding exactly `s` (every byte that is not alphanumeric as an octal
// escape).
std::string c_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '_' || c == ':' || c == '/' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    }
  }
  return out + "\"";
}

struct CType {
  char letter;  // wasm2c's multi-value field letter
  const char* name;
  const char* to_bits;
  const char* from_bits;
  int code;  // TROUPE_AOT_I32...
};

std::optional<CType> c_type(wabt::Type t) {
  switch (t) {
    case wabt::Type::I32:
      return CType{'i', "u32", "(uint64_t)", "(u32)", 0};
    case wabt::Type::I64:
      return CType{'j', "u64", "(uint64_t)", "(u64)", 1};
    case wabt::Type::F32:
      return CType{'f', "f32", "troupe_f32_bits", "troupe_bits_f32", 2};
    case wabt::Type::F64:
      return CType{'d', "f64", "troupe_f64_bits", "troupe_bits_f64", 3};
    default:
      return std::nullopt;
  }
}

struct Signature {
  std::vector<CType> params, results;
};

Result<Signature> signature(const wabt::FuncSignature& sig, const std::string& what) {
  Signature out;
  for (wabt::Type t : sig.param_types) {
    auto c = c_type(t);
    if (!c)
      return Error{BaseErrc::kRefused, what + " takes a " + t.GetName() + " (AOT: numbers only)"};
    out.params.push_back(*c);
  }
  for (wabt::Type t : sig.result_types) {
    auto c = c_type(t);
    if (!c) {
      return Error{BaseErrc::kRefused, what + " returns a " + t.GetName() + " (AOT: numbers only)"};
    }
    out.results.push_back(*c);
  }
  return out;
}

std::string return_type(const Signature& s) {
  if (s.results.empty()) return "void";
  if (s.results.size() == 1) return s.results[0].name;
  std::string letters;
  for (const CType& c : s.results) letters += c.letter;
  return "struct wasm_multi_" + letters;
}

// Writes `value` (a C expression of the results' type) into r[].
std::string store_results(const Signature& s, const std::string& value) {
  if (s.results.empty()) return value + ";";
  if (s.results.size() == 1) {
    return "r[0] = " + std::string(s.results[0].to_bits) + "(" + value + ");";
  }
  std::string out = return_type(s) + " v = " + value + ";";
  for (std::size_t i = 0; i < s.results.size(); ++i) {
    out += " r[" + std::to_string(i) + "] = " + s.results[i].to_bits + "(v." + s.results[i].letter +
           std::to_string(i) + ");";
  }
  return out;
}

std::string args_from(const Signature& s, const std::string& array) {
  std::string out;
  for (std::size_t i = 0; i < s.params.size(); ++i) {
    out += ", " + std::string(s.params[i].from_bits) + "(" + array + "[" + std::to_string(i) + "])";
  }
  return out;
}

// The per-module glue: import functions that call the host, one caller per function export,
// and the troupe_aot_module table.
Result<std::string> generate_glue(std::span<const std::uint8_t> binary) {
  wabt::Errors errors;
  wabt::Module module;
  wabt::Features features;
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  if (wabt::Failed(wabt::ReadBinaryIr("guest.wasm", binary.data(), binary.size(), options, &errors,
                                      &module))) {
    return Error{BaseErrc::kRefused, "cannot read the module for AOT"};
  }
  std::ostringstream c;
  c << "/* Generated by troupe (" << kGlueVersion << "); see troupe_aot.h. */\n"
    << "#include <setjmp.h>\n#include <stdlib.h>\n#include <string.h>\n"
    << "#include \"guest.h\"\n#include \"troupe_aot.h\"\n\n"
    << "extern const struct troupe_aot_host* troupe_host;\n"
    << "struct troupe_inst { Z_guest_instance_t g; void* ctx; };\n"
    << "static inline uint64_t troupe_f32_bits(f32 v) { uint32_t b; memcpy(&b, &v, 4); "
       "return b; }\n"
    << "static inline uint64_t troupe_f64_bits(f64 v) { uint64_t b; memcpy(&b, &v, 8); "
       "return b; }\n"
    << "static inline f32 troupe_bits_f32(uint64_t b) { uint32_t l = (uint32_t)b; f32 v; "
       "memcpy(&v, &l, 4); return v; }\n"
    << "static inline f64 troupe_bits_f64(uint64_t b) { f64 v; memcpy(&v, &b, 8); return v; }\n\n";

  std::ostringstream table;
  std::set<std::string> import_modules;
  std::set<std::pair<std::string, std::string>> imported;  // wasm2c declares each pair once
  std::uint32_t import_index = 0;
  table << "static const struct troupe_aot_import imports[] = {\n";
  for (const wabt::Import* imp : module.imports) {
    const std::string what = "import " + imp->module_name + "." + imp->field_name;
    if (!safe_name(imp->module_name) || !safe_name(imp->field_name)) {
      return Error{BaseErrc::kRefused, "an import name cannot go through wasm2c safely"};
    }
    const auto* func = wabt::dyn_cast<wabt::FuncImport>(imp);
    if (func == nullptr) return Error{BaseErrc::kRefused, what + " is not a function"};
    auto sig = signature(func->func.decl.sig, what);
    if (!sig.ok()) return sig.error();
    import_modules.insert(imp->module_name);
    if (!imported.emplace(imp->module_name, imp->field_name).second) continue;
    const std::string mod = mangle(imp->module_name);
    c << return_type(*sig) << " Z_" << mod << "Z_" << mangle(imp->field_name) << "(struct Z_" << mod
      << "_instance_t* m";
    for (std::size_t i = 0; i < sig->params.size(); ++i)
      c << ", " << sig->params[i].name << " p" << i;
    c << ") {\n  uint64_t a[" << std::max<std::size_t>(sig->params.size(), 1) << "], r["
      << std::max<std::size_t>(sig->results.size(), 1) << "];\n";
    for (std::size_t i = 0; i < sig->params.size(); ++i) {
      c << "  a[" << i << "] = " << sig->params[i].to_bits << "(p" << i << ");\n";
    }
    c << "  (void)a; (void)r;\n"
      << "  if (troupe_host->call_import(((struct troupe_inst*)(void*)m)->ctx, " << import_index
      << ", a, r)) wasm_rt_trap(WASM_RT_TRAP_NONE);\n";
    if (sig->results.size() == 1) {
      c << "  return " << sig->results[0].from_bits << "(r[0]);\n";
    } else if (sig->results.size() > 1) {
      c << "  " << return_type(*sig) << " v;\n";
      for (std::size_t i = 0; i < sig->results.size(); ++i) {
        c << "  v." << sig->results[i].letter << i << " = " << sig->results[i].from_bits << "(r["
          << i << "]);\n";
      }
      c << "  return v;\n";
    }
    c << "}\n";
    table << "  {" << c_string(imp->module_name) << ", " << c_string(imp->field_name) << ", "
          << sig->params.size() << ", " << sig->results.size() << "},\n";
    ++import_index;
  }
  table << "  {0, 0, 0, 0}\n};\n";

  std::ostringstream calls, memories, globals;
  table << "static const struct troupe_aot_export exports[] = {\n";
  calls << "static void (*const callers[])(struct troupe_inst*, const uint64_t*, uint64_t*) = {\n";
  for (std::size_t i = 0; i < module.exports.size(); ++i) {
    const wabt::Export& e = *module.exports[i];
    if (!safe_name(e.name))
      return Error{BaseErrc::kRefused, "an export name cannot go through wasm2c"};
    const std::string fn = "Z_guestZ_" + mangle(e.name);
    std::uint32_t kind = 3, params = 0, results = 0, type = 0, is_mutable = 0;
    std::string caller = "0";
    switch (e.kind) {
      case wabt::ExternalKind::Func: {
        auto sig = signature(module.GetFunc(e.var)->decl.sig, "export " + e.name);
        if (!sig.ok()) return sig.error();
        kind = 0;
        params = static_cast<std::uint32_t>(sig->params.size());
        results = static_cast<std::uint32_t>(sig->results.size());
        caller = "call_" + std::to_string(i);
        c << "static void " << caller
          << "(struct troupe_inst* in, const uint64_t* a, uint64_t* r) {\n  (void)a; (void)r;\n  "
          << store_results(*sig, fn + "(&in->g" + args_from(*sig, "a") + ")") << "\n}\n";
        break;
      }
      case wabt::ExternalKind::Memory:
        kind = 1;
        memories << "    case " << i << ": return " << fn << "(&in->g);\n";
        break;
      case wabt::ExternalKind::Global: {
        const wabt::Global* g = module.GetGlobal(e.var);
        auto t = c_type(g->type);
        if (!t) break;  // a reference global: listed, not reachable
        kind = 2;
        type = static_cast<std::uint32_t>(t->code);
        is_mutable = g->mutable_ ? 1 : 0;
        globals << "    case " << i << ": return (void*)" << fn << "(&in->g);\n";
        break;
      }
      default:
        break;
    }
    calls << "  " << caller << ",\n";
    table << "  {" << c_string(e.name) << ", " << kind << ", " << params << ", " << results << ", "
          << type << ", " << is_mutable << "},\n";
  }
  calls << "  0\n};\n";
  table << "  {0, 0, 0, 0, 0, 0}\n};\n";

  std::string instance_args;
  for (std::size_t i = 0; i < import_modules.size(); ++i) instance_args += ", (void*)in";
  c << "\n"
    << calls.str() << table.str() << R"(
static void bind(const struct troupe_aot_host* host) {
  troupe_host = host;
  wasm_rt_init();
  Z_guest_init_module();
}

static void* create(void* ctx) {
  struct troupe_inst* in = calloc(1, sizeof *in);
  if (!in) return NULL;
  in->ctx = ctx;
  sigjmp_buf target;
  void* saved = troupe_host->enter(ctx, &target);
  if (sigsetjmp(target, 0) == 0) {
    Z_guest_instantiate(&in->g)"
    << instance_args << R"();
    troupe_host->leave(ctx, saved);
    return in;
  }
  troupe_host->leave(ctx, saved);
  free(in);
  return NULL;
}

static void destroy(void* p) {
  struct troupe_inst* in = p;
  Z_guest_free(&in->g);
  free(in);
}

static int call(void* p, uint32_t index, const uint64_t* a, uint64_t* r) {
  struct troupe_inst* in = p;
  sigjmp_buf target;
  void* saved = troupe_host->enter(in->ctx, &target);
  if (sigsetjmp(target, 0) == 0) {
    callers[index](in, a, r);
    troupe_host->leave(in->ctx, saved);
    return 0;
  }
  troupe_host->leave(in->ctx, saved);
  return 1;
}

static wasm_rt_memory_t* memory(void* p, uint32_t index);

static int call_lowered(void* p, uint32_t index, uint32_t realloc_index, uint32_t memory_index,
                        const struct troupe_aot_bytes* strings, uint32_t n, uint64_t* r,
                        uint32_t* bad, uint32_t* bad_ptr) {
  struct troupe_inst* in = p;
  wasm_rt_memory_t* mem = memory(p, memory_index);
  uint64_t a[2 * TROUPE_AOT_MAX_LOWERED];
  if (mem == NULL || n > TROUPE_AOT_MAX_LOWERED) abort(); /* the host checked both */
  sigjmp_buf target;
  void* saved = troupe_host->enter(in->ctx, &target);
  if (sigsetjmp(target, 0) != 0) {
    troupe_host->leave(in->ctx, saved);
    return 1;
  }
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t ra[4] = {0, 0, 1, strings[i].size};
    uint64_t ptr = 0;
    callers[realloc_index](in, ra, &ptr);
    ptr &= 0xFFFFFFFFu;
    if (ptr + strings[i].size > mem->size) { /* mem->size: after the call, which may grow it */
      troupe_host->leave(in->ctx, saved);
      *bad = i;
      *bad_ptr = (uint32_t)ptr;
      return 2;
    }
    if (strings[i].size != 0) memcpy(mem->data + ptr, strings[i].data, strings[i].size);
    a[2 * i] = ptr;
    a[2 * i + 1] = strings[i].size;
  }
  callers[index](in, a, r);
  troupe_host->leave(in->ctx, saved);
  return 0;
}

static wasm_rt_memory_t* memory(void* p, uint32_t index) {
  struct troupe_inst* in = p;
  (void)in;
  switch (index) {
)" << memories.str()
    << R"(    default: return NULL;
  }
}

static void* global(void* p, uint32_t index) {
  struct troupe_inst* in = p;
  (void)in;
  switch (index) {
)" << globals.str()
    << R"(    default: return NULL;
  }
}

__attribute__((visibility("default"))) const struct troupe_aot_module troupe_aot_module = {
  TROUPE_AOT_ABI, bind, )"
    << import_index << ", imports, " << module.exports.size() << ", exports,\n"
    << "  create, destroy, call, call_lowered, memory, global,\n};\n";
  return c.str();
}

// --- tools ---

// The first line a tool prints for --version; empty when it cannot run.
std::string version_line(const std::string& tool, const fs::path& scratch,
                         const AotToolLimits& limits) {
  aot::ToolRun r = aot::run_tool({tool, "--version"}, scratch, limits);
  if (r.status != 0) return {};
  return r.output.substr(0, r.output.find('\n'));
}

// The last `lines` lines of a tool's output.
std::string tail(const std::string& text, std::size_t lines) {
  std::size_t start = text.size();
  for (std::size_t n = 0; n <= lines && start > 0; ++n) {
    const std::size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string::npos) return text;
    start = nl;
  }
  return text.substr(start == 0 ? 0 : start + 1);
}

// Why a tool failed: the limit that stopped it, or the end of its output.
// The file system holding `dir` has (next to) no space left: a tool's output or its log
// could not be written, so its own diagnostics are missing. Empty when there is room.
std::string out_of_space(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return {};
  const std::uint64_t free_bytes = std::uint64_t{st.f_bavail} * st.f_frsize;
  if (free_bytes >= (1u << 20)) return {};
  return "no space left on the file system of " + dir.string() + " (" + std::to_string(free_bytes) +
         " bytes free)";
}

// A tool's failure: how it was stopped, the tail of what it said, or, when it said nothing,
// its exit status; with a full disk beside it (then an I/O error: the build could not write).
Error tool_failed(const std::string& tool, const aot::ToolRun& r, std::size_t lines,
                  const fs::path& dir) {
  std::string why;
  if (r.status < 0) {
    why = "stopped by " + r.stopped_by;
  } else {
    why = tail(r.output, lines);
    if (why.find_first_not_of(" \t\r\n") == std::string::npos) {
      why = "exit status " + std::to_string(r.status) + " with no diagnostics";
    }
  }
  if (std::string full = out_of_space(dir); !full.empty()) {
    return Error{BaseErrc::kIo, tool + " failed: " + full + "; " + why};
  }
  return Error{BaseErrc::kInternal, tool + " failed: " + why};
}

// Writes `text` to `path`; the reason on failure, else empty.
std::string write_file(const fs::path& path, std::string_view text) {
  errno = 0;
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (out) return {};
  const int err = errno;
  if (std::string full = out_of_space(path.parent_path()); !full.empty()) return full;
  return "cannot write " + path.string() + (err != 0 ? std::string(": ") + std::strerror(err) : "");
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

AotCode::~AotCode() {
  if (handle_ != nullptr) dlclose(handle_);
  if (memfd_ < 0) return;
  // Were the object still loaded (dlclose may keep it), its name would hand it to the next
  // object loaded from a memfd that reuses the number: keep the number taken instead.
  const std::string name = "/proc/self/fd/" + std::to_string(memfd_);
  if (void* still = dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
    dlclose(still);
    spdlog::warn("aot: {} stays loaded after dlclose; keeping its memfd open", name);
    return;
  }
  ::close(memfd_);
}

struct AotCompiler::Impl {
  AotOptions options;
  std::string cc_id, wasm2c_id;

  std::unique_ptr<aot::ObjectCache> cache;  // set when the tier is available

  std::mutex mutex;                                            // the fields below
  std::map<std::string, std::weak_ptr<const AotCode>> loaded;  // by object path
  bool last_hit = false;

  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<std::shared_ptr<const GuestModule>> queue;
  bool busy = false;
  bool stopping = false;
  std::thread worker;

  // The cache key: every input that shapes the object.
  std::string key(std::span<const std::uint8_t> binary) const {
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, 32);
    auto add = [&](std::string_view s) {
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(s.data()), s.size());
      const unsigned char sep = 0;
      crypto_generichash_update(&state, &sep, 1);
    };
    add(kGlueVersion);
    add(aot_sources::kRuntime);
    add(aot_sources::kHeader);
    add(cc_id);
    add(wasm2c_id);
    for (const std::string& f : options.cflags) add(f);
    crypto_generichash_update(&state, binary.data(), binary.size());
    unsigned char out[32];
    crypto_generichash_final(&state, out, sizeof out);
    return hex(out, sizeof out);
  }

  // The code loaded from `path` before, if it is still alive.
  std::shared_ptr<const AotCode> find_loaded(const fs::path& path) {
    std::lock_guard lock(mutex);
    auto it = loaded.find(path.string());
    return it == loaded.end() ? nullptr : it->second.lock();
  }

  // Loads `object` (bytes already authenticated, or just built) for the cache entry `path`.
  // From a sealed memfd, not from the path: what runs is exactly what was checked.
  Result<std::shared_ptr<const AotCode>> load(const fs::path& path,
                                              const std::vector<std::uint8_t>& object) {
    std::lock_guard lock(mutex);
    if (auto it = loaded.find(path.string()); it != loaded.end()) {
      if (auto code = it->second.lock()) return code;
    }
    const int fd = memfd_create("troupe-aot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return Error{BaseErrc::kIo, std::string("memfd_create: ") + std::strerror(errno)};
    std::size_t done = 0;
    while (done < object.size()) {
      const ssize_t n = ::write(fd, object.data() + done, object.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        return Error{BaseErrc::kIo, "cannot copy the object into a memfd"};
      }
      done += static_cast<std::size_t>(n);
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    // The memfd stays open as long as the object is loaded (see AotCode::memfd_).
    std::shared_ptr<AotCode> code(new AotCode());
    code->memfd_ = fd;
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    if (void* stale = dlopen(proc.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
      dlclose(stale);  // dlopen would hand back that object, not this one
      return Error{BaseErrc::kInternal, "cannot load " + path.string() + ": " + proc + " is taken"};
    }
    void* handle = dlopen(proc.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = dlerror();
      return Error{BaseErrc::kInternal, "cannot load " + path.string() + ": " + (e ? e : "dlopen")};
    }
    code->handle_ = handle;
    const void* table = dlsym(handle, TROUPE_AOT_SYMBOL);
    std::string error = "no " + std::string(TROUPE_AOT_SYMBOL) + " symbol";
    if (table == nullptr || !bind_aot_object(table, error)) {
      return Error{BaseErrc::kInternal, path.string() + ": " + error};
    }
    code->path_ = path;
    code->table_ = table;
    index_aot_exports(*code);
    loaded[path.string()] = code;
    return std::shared_ptr<const AotCode>(std::move(code));
  }

  // Translates and compiles the module in a fresh build directory; the object's bytes.
  Result<std::vector<std::uint8_t>> build(std::span<const std::uint8_t> b) {
    auto glue = generate_glue(b);
    if (!glue.ok()) return glue.error();
    std::string pattern = (cache->path() / "build-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Error{BaseErrc::kInternal, "cannot create a build directory in " +
                                            cache->path().string() + ": " + std::strerror(errno)};
    }
    const fs::path dir = pattern;
    struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    for (const auto& [file, text] :
         {std::pair{"guest.wasm",
                    std::string_view(reinterpret_cast<const char*>(b.data()), b.size())},
          std::pair{"glue.c", std::string_view(*glue)},
          std::pair{"troupe_rt.c", std::string_view(aot_sources::kRuntime)},
          std::pair{"troupe_aot.h", std::string_view(aot_sources::kHeader)}}) {
      if (std::string why = write_file(dir / file, text); !why.empty()) {
        return Error{BaseErrc::kIo, "cannot prepare the AOT build: " + why};
      }
    }
    const AotToolLimits& limits = options.limits;
    aot::ToolRun w = aot::run_tool({options.wasm2c, "-n", "guest", (dir / "guest.wasm").string(),
                                    "-o", (dir / "guest.c").string()},
                                   dir / "wasm2c.log", limits);
    if (w.status < 0 && w.stopped_by.rfind("signal ", 0) == 0) {
      // Debian's wasm2c 1.0.32 aborts on some SIMD modules.
      return Error{BaseErrc::kRefused, "wasm2c cannot translate this module (it crashed)"};
    }
    if (w.status != 0) return tool_failed("wasm2c", w, 5, dir);
    std::vector<std::string> cc = {options.cc};
    cc.insert(cc.end(), options.cflags.begin(), options.cflags.end());
    const fs::path built = dir / "module.so";
    for (const char* a : {"-fPIC", "-shared", "-fvisibility=hidden", "-w", "-I"})
      cc.emplace_back(a);
    cc.push_back(dir.string());
    for (const char* f : {"guest.c", "glue.c", "troupe_rt.c"}) cc.push_back((dir / f).string());
    cc.insert(cc.end(), {"-lm", "-o", built.string()});
    aot::ToolRun r = aot::run_tool(cc, dir / "cc.log", limits);
    if (r.status != 0) return tool_failed("the C compiler", r, 8, dir);
    std::ifstream in(built, std::ios::binary);
    std::vector<std::uint8_t> object((std::istreambuf_iterator<char>(in)), {});
    if (!in.eof() && in.fail()) return Error{BaseErrc::kInternal, "cannot read " + built.string()};
    return object;
  }

  void background() {
    for (;;) {
      std::shared_ptr<const GuestModule> next;
      {
        std::unique_lock lock(queue_mutex);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        next = std::move(queue.front());
        queue.pop_front();
        busy = true;
      }
      const auto started = std::chrono::steady_clock::now();
      auto code = owner->compile(*next);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      if (code.ok()) {
        spdlog::info("aot: module ready in {} ms ({})", ms, (*code)->path().filename().string());
      } else {
        spdlog::warn("aot: staying on the interpreter: {}", code.error().to_string());
      }
      {
        std::lock_guard lock(queue_mutex);
        busy = false;
      }
      queue_cv.notify_all();
    }
  }

  AotCompiler* owner = nullptr;
};

AotCompiler::AotCompiler(AotOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
  if (options.cache_dir.empty()) options.cache_dir = default_cache_dir();
#if defined(__x86_64__)
  // wasm's popcnt becomes __builtin_popcount, a library call unless the compiler may use the
  // instruction. Objects are built for the machine that runs them, and every flag is part of
  // the cache key, so a cache shared with a CPU without it does not hand this object over.
  if (__builtin_cpu_supports("popcnt")) options.cflags.emplace_back("-mpopcnt");
#endif
  impl_->options = std::move(options);
  const fs::path& dir = impl_->options.cache_dir;
  if (dir.empty()) {
    unavailable_ = "no AOT cache directory: set $TROUPE_AOT_CACHE (or HOME)";
    spdlog::warn("aot: tier unavailable, modules run on the interpreter: {}", unavailable_);
    return;
  }
  auto cache = aot::ObjectCache::open(dir, impl_->options.limits.output_bytes);
  if (!cache.ok()) {
    unavailable_ = cache.error().detail;
    spdlog::warn("aot: tier unavailable, modules run on the interpreter: {}", unavailable_);
    return;
  }
  impl_->cache = std::move(cache).value();
  const fs::path scratch = impl_->cache->path() / ("version-" + std::to_string(getpid()));
  // The version probes take no input from a module: the default limits, not the build's.
  impl_->cc_id = version_line(impl_->options.cc, scratch, AotToolLimits{});
  impl_->wasm2c_id = version_line(impl_->options.wasm2c, scratch, AotToolLimits{});
  std::error_code ec;
  fs::remove(scratch, ec);
  if (impl_->cc_id.empty()) {
    unavailable_ = "no C compiler ('" + impl_->options.cc + "')";
  } else if (impl_->wasm2c_id.empty()) {
    unavailable_ = "no wasm2c ('" + impl_->options.wasm2c + "')";
  } else if (!fs::exists("/usr/include/wasm-rt.h")) {
    unavailable_ = "no /usr/include/wasm-rt.h (package wabt)";
  }
}

AotCompiler::~AotCompiler() {
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

fs::path AotCompiler::default_cache_dir() {
  if (const char* dir = std::getenv("TROUPE_AOT_CACHE"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "troupe" / "aot";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".cache" / "troupe" / "aot";
  }
  return {};  // not a predictable directory in /tmp that another user could make first
}

AotCompiler& AotCompiler::shared() {
  static auto* compiler = new AotCompiler();  // never destroyed: its thread may be compiling
  return *compiler;
}

Result<std::shared_ptr<const AotCode>> AotCompiler::compile(const GuestModule& module) {
  if (auto code = module.aot_code()) return code;
  auto code = compile_binary(module.binary());
  if (code.ok()) module.set_aot_code(*code);
  return code;
}

Result<std::shared_ptr<const AotCode>> AotCompiler::compile_binary(
    std::span<const std::uint8_t> binary) {
  if (!available()) return Error{BaseErrc::kUnavailable, "AOT tier unavailable: " + unavailable_};
  const std::string name = impl_->key(binary) + ".so";
  const fs::path object = impl_->cache->path() / name;
  bool hit = false;
  Result<std::shared_ptr<const AotCode>> code = Error{BaseErrc::kInternal, "not built"};
  if (auto live = impl_->find_loaded(object)) {
    hit = true;
    code = std::move(live);
  } else if (auto cached = impl_->cache->read(name); cached.ok()) {
    code = impl_->load(object, *cached);
    hit = code.ok();
    if (!hit) spdlog::warn("aot: rebuilding a damaged cache entry: {}", code.error().to_string());
  } else if (cached.error().code != BaseErrc::kNotFound) {
    // Never loaded: a planted, altered or foreign object is replaced by a fresh build.
    spdlog::warn("aot: rebuilding a cache entry that failed its check: {}",
                 cached.error().to_string());
  }
  if (!hit) {
    auto built = impl_->build(binary);
    if (!built.ok()) return built.error();
    if (auto stored = impl_->cache->write(name, *built); !stored.ok()) {
      spdlog::warn("aot: the object is not cached: {}", stored.error().to_string());
    }
    code = impl_->load(object, *built);
  }
  if (!code.ok()) return code.error();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->last_hit = hit;
  }
  return code;
}

void AotCompiler::compile_in_background(std::shared_ptr<const GuestModule> module) {
  if (!available() || module->aot_code()) return;
  std::lock_guard lock(impl_->queue_mutex);
  if (!impl_->worker.joinable()) impl_->worker = std::thread([this] { impl_->background(); });
  impl_->queue.push_back(std::move(module));
  impl_->queue_cv.notify_all();
}

void AotCompiler::drain() {
  std::unique_lock lock(impl_->queue_mutex);
  impl_->queue_cv.wait(lock, [&] { return impl_->queue.empty() && !impl_->busy; });
}

bool AotCompiler::last_was_cache_hit() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->last_hit;
}

}  // namespace troupe::wasm
