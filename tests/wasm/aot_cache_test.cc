// The AOT cache as a code-loading boundary: a private directory, authenticated objects, bounded
// tools (src/wasm/aot/object_cache.cc, tool_process.cc, aot.cc).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "troupe/wasm/aot.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/wat.h"
#include "wasm/null_host.h"

namespace troupe::wasm {
namespace {

namespace fs = std::filesystem;
using V = AbiValue;

using testing::NullHost;

// dispatch echoes its payload.
constexpr const char* kEcho = R"((module
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get 4))
    (i32.store (i32.const 24) (local.get 5))
    (i32.const 16))
))";

GuestModule load_echo() {
  auto bin = wat_to_wasm(kEcho);
  EXPECT_TRUE(bin.ok());
  auto m = GuestModule::load(*bin);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  return std::move(m).value();
}

std::string dispatch(const GuestModule& module, Tier tier, const std::string& payload) {
  NullHost host;
  auto g = Instance::create(module, host, {}, tier);
  if (!g.ok()) return "error: " + g.error().to_string();
  auto r = (*g)->call("dispatch", {V::of_items({V::text("r"), V::text("x"), V::text(payload)})});
  if (!r.ok()) return "error: " + r.error().to_string();
  return (*r)->items.at(0).bytes;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "troupe-aot-cache-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}
mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Compiles the echo guest into `dir`; the cache entry's path.
fs::path compile_into(const fs::path& dir) {
  AotCompiler compiler(AotOptions{.cache_dir = dir});
  EXPECT_TRUE(compiler.available()) << compiler.unavailable_reason();
  auto code = compiler.compile(load_echo());
  EXPECT_TRUE(code.ok()) << code.error().to_string();
  return code.ok() ? (*code)->path() : fs::path();
}

TEST(AotCache, TheDirectoryAndTheKeyAreCreatedPrivate) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "a" / "b" / "aot";
  const fs::path object = compile_into(dir);
  ASSERT_FALSE(object.empty());
  for (const fs::path& p : {tmp.path() / "a", tmp.path() / "a" / "b", dir}) {
    EXPECT_EQ(mode_of(p) & 077, 0u) << p;
  }
  EXPECT_EQ(mode_of(dir / "aot.key"), 0600u);
  EXPECT_EQ(fs::file_size(dir / "aot.key"), 32u);
  EXPECT_EQ(mode_of(object) & 077, 0u);
}

TEST(AotCache, APlantedObjectIsNeverLoadedAndIsReplacedByARecompile) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "aot";
  const fs::path object = compile_into(dir);
  ASSERT_FALSE(object.empty());

  // An object whose constructor leaves a marker, put where the cache entry was.
  const fs::path marker = tmp.path() / "constructor-ran";
  const fs::path source = tmp.path() / "planted.c";
  const fs::path planted = tmp.path() / "planted.so";
  std::ofstream(source) << "#include <stdio.h>\n"
                        << "__attribute__((constructor)) static void planted(void) {\n"
                        << "  FILE* f = fopen(\"" << marker.string() << "\", \"w\");\n"
                        << "  if (f) fclose(f);\n}\n";
  const std::string cc = "cc -shared -fPIC -o " + planted.string() + " " + source.string();
  ASSERT_EQ(std::system(cc.c_str()), 0) << cc;
  const std::string planted_bytes = read_bytes(planted);
  write_bytes(object, planted_bytes);

  GuestModule module = load_echo();  // a fresh module: no code attached yet
  AotCompiler compiler(AotOptions{.cache_dir = dir});
  auto code = compiler.compile(module);
  ASSERT_TRUE(code.ok()) << code.error().to_string();
  EXPECT_FALSE(compiler.last_was_cache_hit());
  EXPECT_FALSE(fs::exists(marker)) << "the planted object's constructor ran";
  EXPECT_NE(read_bytes(object), planted_bytes);  // replaced by the rebuilt object
  EXPECT_EQ(dispatch(module, Tier::kAot, "rebuilt"), "rebuilt");
}

TEST(AotCache, ATamperedObjectIsRecompiledNotLoaded) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "aot";
  const fs::path object = compile_into(dir);
  ASSERT_FALSE(object.empty());
  std::string bytes = read_bytes(object);
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  write_bytes(object, bytes);

  GuestModule module = load_echo();
  {
    AotCompiler compiler(AotOptions{.cache_dir = dir});
    auto code = compiler.compile(module);
    ASSERT_TRUE(code.ok()) << code.error().to_string();
    EXPECT_FALSE(compiler.last_was_cache_hit());
  }
  EXPECT_NE(read_bytes(object), bytes);
  EXPECT_EQ(dispatch(module, Tier::kAot, "fresh"), "fresh");
  // The rewritten entry verifies: the next process loads it without a build.
  AotCompiler again(AotOptions{.cache_dir = dir});
  ASSERT_TRUE(again.compile(load_echo()).ok());
  EXPECT_TRUE(again.last_was_cache_hit());
}

// Objects are loaded from memfds as /proc/self/fd/N, and dlopen finds a loaded object by its
// name: a second object loaded after the first must not be handed the first one's code.
TEST(AotCache, ObjectsLoadedOneAfterAnotherEachRunTheirOwnCode) {
  TempDir tmp;
  AotCompiler compiler(AotOptions{.cache_dir = tmp.path() / "aot"});
  ASSERT_TRUE(compiler.available()) << compiler.unavailable_reason();
  GuestModule echo = load_echo();
  std::string route_wat = kEcho;  // answers the route instead of the payload
  for (const char* from : {"(local.get 4)", "(local.get 5)"}) {
    route_wat.replace(route_wat.find(from), 13,
                      from[11] == '4' ? "(local.get 2)" : "(local.get 3)");
  }
  auto bin = wat_to_wasm(route_wat);
  ASSERT_TRUE(bin.ok()) << bin.error().to_string();
  auto route = GuestModule::load(*bin);
  ASSERT_TRUE(route.ok()) << route.error().to_string();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(compiler.compile(echo).ok());
    ASSERT_TRUE(compiler.compile(*route).ok());
    EXPECT_EQ(dispatch(echo, Tier::kAot, "mine"), "mine");
    EXPECT_EQ(dispatch(*route, Tier::kAot, "mine"), "x");
  }
}

// A refused directory leaves the AOT tier unavailable and modules on the interpreter.
void expect_refused(const fs::path& dir, const std::string& why) {
  AotCompiler compiler(AotOptions{.cache_dir = dir});
  EXPECT_FALSE(compiler.available()) << dir;
  EXPECT_NE(compiler.unavailable_reason().find(why), std::string::npos)
      << compiler.unavailable_reason();
  GuestModule module = load_echo();
  auto code = compiler.compile(module);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code, BaseErrc::kUnavailable);
  EXPECT_EQ(dispatch(module, Tier::kAuto, "interp"), "interp");
}

TEST(AotCache, ADirectoryOfAnotherUserOrWritableByOthersIsRefused) {
  TempDir tmp;
  const fs::path writable = tmp.path() / "writable";
  fs::create_directory(writable);
  ::chmod(writable.c_str(), 0777);
  expect_refused(writable, "group- or world-writable");
  // A directory made inside one that others may write to is not trusted either.
  fs::remove(writable / "aot.key");
  expect_refused(writable / "aot", "group- or world-writable");
  EXPECT_FALSE(fs::exists(writable / "aot.key"));

  const fs::path link = tmp.path() / "link";
  fs::create_directory_symlink(tmp.path(), link);
  expect_refused(link, "symbolic link");

  if (geteuid() != 0) GTEST_SKIP() << "changing a directory's owner needs root";
  const fs::path foreign = tmp.path() / "foreign";
  fs::create_directory(foreign);
  ::chmod(foreign.c_str(), 0700);
  ASSERT_EQ(::chown(foreign.c_str(), 65534, 65534), 0);
  expect_refused(foreign, "owned by uid 65534");
}

TEST(AotCache, AKeyFileWithALooseModeOrTheWrongSizeIsRefused) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "aot";
  ASSERT_FALSE(compile_into(dir).empty());
  const fs::path key = dir / "aot.key";
  ::chmod(key.c_str(), 0644);
  expect_refused(dir, "aot.key");
  ::chmod(key.c_str(), 0600);
  write_bytes(key, "short");
  ::chmod(key.c_str(), 0600);
  expect_refused(dir, "aot.key");
}

TEST(AotCache, WithoutHomeOrACacheVariableThereIsNoAotTierRatherThanATmpDirectory) {
  struct Saved {
    const char* name;
    std::optional<std::string> value;
  };
  std::vector<Saved> saved;
  for (const char* name : {"TROUPE_AOT_CACHE", "XDG_CACHE_HOME", "HOME"}) {
    const char* v = std::getenv(name);
    saved.push_back({name, v ? std::optional<std::string>(v) : std::nullopt});
    ::unsetenv(name);
  }
  const fs::path dir = AotCompiler::default_cache_dir();
  AotCompiler compiler;
  for (const Saved& s : saved) {
    if (s.value) ::setenv(s.name, s.value->c_str(), 1);
  }
  EXPECT_TRUE(dir.empty()) << dir;
  EXPECT_FALSE(compiler.available());
  EXPECT_NE(compiler.unavailable_reason().find("TROUPE_AOT_CACHE"), std::string::npos)
      << compiler.unavailable_reason();
}

TEST(AotCache, AToolOverItsLimitFailsCleanlyAndTheModuleStaysOnTheInterpreter) {
  struct Case {
    AotToolLimits limits;
    const char* stopped_by;
  };
  AotToolLimits tiny_output;
  tiny_output.output_bytes = 2048;  // wasm2c's C for the echo guest is far larger
  AotToolLimits tiny_wall;
  tiny_wall.wall_time = std::chrono::milliseconds(1);
  for (const Case& c : {Case{tiny_output, "the output limit"}, Case{tiny_wall, "wall-clock"}}) {
    TempDir tmp;
    AotCompiler compiler(AotOptions{.cache_dir = tmp.path() / "aot", .limits = c.limits});
    ASSERT_TRUE(compiler.available()) << compiler.unavailable_reason();
    GuestModule module = load_echo();
    auto code = compiler.compile(module);
    ASSERT_FALSE(code.ok());
    EXPECT_NE(code.error().detail.find(c.stopped_by), std::string::npos)
        << code.error().to_string();
    EXPECT_EQ(dispatch(module, Tier::kAuto, "interp"), "interp");
  }
}

// A full disk under the cache: the build fails with that reason (not an empty one, as when
// wasm2c could write neither its output nor its log), and the module stays on the interpreter.
// Needs a small file system of its own: a tmpfs, which only root may mount.
TEST(AotCache, AFullDiskIsTheReasonGivenAndTheModuleStaysOnTheInterpreter) {
  TempDir tmp;
  const fs::path mnt = tmp.path() / "small";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs to fill (" << std::strerror(errno)
                 << "): needs root, as in CI";
  }
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};
  AotCompiler compiler(AotOptions{.cache_dir = mnt / "aot"});
  ASSERT_TRUE(compiler.available()) << compiler.unavailable_reason();
  // Fill the file system but for `room` bytes: none (the build's inputs cannot be written),
  // then some (they can; the compiled object cannot, and the compiler cannot log why).
  for (std::size_t room : {std::size_t{0}, std::size_t{28} << 10}) {
    const fs::path filler = mnt / "filler";
    {
      std::ofstream out(filler, std::ios::binary | std::ios::trunc);
      const std::string block(4096, 'x');
      while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      }
    }
    if (room != 0) fs::resize_file(filler, fs::file_size(filler) - room);
    GuestModule module = load_echo();
    auto code = compiler.compile(module);
    ASSERT_FALSE(code.ok()) << "room " << room;
    EXPECT_EQ(code.error().code, BaseErrc::kIo) << code.error().to_string();
    EXPECT_NE(
        code.error().detail.find("no space left on the file system of " + (mnt / "aot").string()),
        std::string::npos)
        << "room " << room << ": " << code.error().to_string();
    EXPECT_EQ(dispatch(module, Tier::kAuto, "interp"), "interp");
    fs::remove(filler);
  }
}

}  // namespace
}  // namespace troupe::wasm
