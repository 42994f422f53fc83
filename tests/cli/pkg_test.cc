// `troupe pkg`: keygen, build, verify, inspect through the real binary — exit codes, the
// `error: KIND: detail` line, and a package built by the CLI verifying with its public key.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/node_process.h"
#include "platform/zip_forge.h"
#include "troupe/wasm/wat.h"
#include "wat_guests.h"

namespace troupe {
namespace {

class PkgCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("pkgcli");
    auto bin = wasm::wat_to_wasm(testing::wat_guest("", "(i32.const 16)"));
    ASSERT_TRUE(bin.ok()) << bin.error().to_string();
    write(dir_ + "/actor.wasm", std::string(bin->begin(), bin->end()));
    write(dir_ + "/manifest.toml", R"(manufacturer = "acme"
name = "echo"
version = "1.0.0"

[binary]
path = "bin/actor.wasm"
target = "wasm32-unknown-unknown"

[[resources]]
path = "res/greeting.txt"

[troupe.capabilities]
clock = true
)");
    std::filesystem::create_directories(dir_ + "/res");
    write(dir_ + "/res/greeting.txt", "hello\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void write(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  testing::CliResult pkg(std::vector<std::string> args) {
    args.insert(args.begin(), "pkg");
    return testing::run_cli(args, dir_);
  }
  // keygen + build; the package's path.
  std::string build() {
    auto k = pkg({"keygen", "--out", dir_ + "/keys"});
    EXPECT_EQ(k.code, 0) << k.err;
    auto b = pkg({"build", "--manifest", dir_ + "/manifest.toml", "--binary", dir_ + "/actor.wasm",
                  "--key", dir_ + "/keys/signing.key", "-o", dir_ + "/echo.actr"});
    EXPECT_EQ(b.code, 0) << b.err;
    return dir_ + "/echo.actr";
  }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  std::string dir_;
};

TEST_F(PkgCli, KeygenPrintsTheKeyIdAndNeverOverwrites) {
  auto r = pkg({"keygen", "--out", dir_ + "/keys"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("mfr-", 0), 0u) << r.out;
  EXPECT_EQ(r.out.size(), 21u);  // mfr- + 16 hex digits + newline
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/keys/signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = pkg({"keygen", "--out", dir_ + "/keys"});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(first_line(again.err).rfind("error: io: ", 0), 0u) << again.err;
}

TEST_F(PkgCli, BuildThenVerifyWithThePublicKey) {
  const std::string file = build();
  auto ok = pkg({"verify", file, "--trust-key", dir_ + "/keys/signing.pub"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ok: acme:echo:1.0.0"), std::string::npos) << ok.out;
  // Without the key the package is untrusted.
  auto untrusted = pkg({"verify", file});
  EXPECT_EQ(untrusted.code, 1);
  EXPECT_EQ(first_line(untrusted.err).rfind("error: untrusted: ", 0), 0u) << untrusted.err;
  // Another key is not this one.
  auto other = pkg({"keygen", "--out", dir_ + "/other"});
  ASSERT_EQ(other.code, 0);
  auto wrong = pkg({"verify", file, "--trust-key", dir_ + "/other/signing.pub"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_EQ(first_line(wrong.err).rfind("error: untrusted: ", 0), 0u) << wrong.err;
}

TEST_F(PkgCli, VerifyPrintsTheKindOfATamperedPackage) {
  const std::string file = build();
  std::string bytes = testing::read_file(file);
  const auto at = bytes.find("hello\n");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'j';
  write(file, bytes);
  auto r = pkg({"verify", file, "--trust-key", dir_ + "/keys/signing.pub"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(first_line(r.err),
            "error: hash-mismatch: 'res/greeting.txt' does not match its "
            "SHA-256 in the manifest");
  auto missing = pkg({"verify", dir_ + "/absent.actr"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(first_line(missing.err).rfind("error: io: ", 0), 0u) << missing.err;
  write(dir_ + "/junk.actr", "not a zip at all, just some bytes that go on for a while");
  auto junk = pkg({"verify", dir_ + "/junk.actr"});
  EXPECT_EQ(junk.code, 1);
  EXPECT_EQ(first_line(junk.err).rfind("error: malformed: ", 0), 0u) << junk.err;
}

TEST_F(PkgCli, BuildTakesResourcesFromTheCommandLine) {
  ASSERT_EQ(pkg({"keygen", "--out", dir_ + "/keys"}).code, 0);
  write(dir_ + "/extra.txt", "extra");
  // --resource paths are relative entry names, read relative to the working directory.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto b = pkg({"build", "--manifest", "manifest.toml", "--binary", "actor.wasm", "--resource",
                "extra.txt", "--key", "keys/signing.key", "-o", "echo.actr"});
  auto absolute =
      pkg({"build", "--manifest", "manifest.toml", "--binary", "actor.wasm", "--resource",
           dir_ + "/extra.txt", "--key", "keys/signing.key", "-o", "abs.actr"});
  std::filesystem::current_path(cwd);
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(absolute.code, 1);
  EXPECT_EQ(first_line(absolute.err).rfind("error: malformed: --resource", 0), 0u) << absolute.err;
  auto r = pkg({"inspect", dir_ + "/echo.actr", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["type"], "acme:echo:1.0.0");
  EXPECT_EQ(doc["verified"], false);
  EXPECT_EQ(doc["capabilities"]["clock"], true);
  std::vector<std::string> names;
  for (const auto& e : doc["entries"]) names.push_back(e["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"manifest.toml", "manifest.sig", "bin/actor.wasm",
                                             "res/greeting.txt", "extra.txt"}));
}

TEST_F(PkgCli, BuildRefusesASecretKeyOthersMayRead) {
  ASSERT_EQ(pkg({"keygen", "--out", dir_ + "/keys"}).code, 0);
  ASSERT_EQ(::chmod((dir_ + "/keys/signing.key").c_str(), 0644), 0);
  auto b = pkg({"build", "--manifest", dir_ + "/manifest.toml", "--binary", dir_ + "/actor.wasm",
                "--key", dir_ + "/keys/signing.key", "-o", dir_ + "/echo.actr"});
  EXPECT_EQ(b.code, 1);
  EXPECT_EQ(first_line(b.err).rfind("error: refused: ", 0), 0u) << b.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/echo.actr"));
}

TEST_F(PkgCli, InspectPrintsTheManifestUnverified) {
  const std::string file = build();
  auto r = pkg({"inspect", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("acme:echo:1.0.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not verified"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("res/greeting.txt"), std::string::npos) << r.out;
}

TEST_F(PkgCli, InspectNeverPrintsAHostileNameRaw) {
  // inspect does not verify, so a manifest with made-up hashes is enough; beside it an entry
  // named with an escape sequence and a byte that is not UTF-8.
  const std::string hash(64, 'a');
  const std::string manifest =
      "manufacturer = \"acme\"\nname = \"echo\"\nversion = \"1\"\n"
      "signing_key_id = \"mfr-0123456789abcdef\"\n[binary]\n"
      "path = \"bin/actor.wasm\"\ntarget = \"wasm32-wasip1\"\n"
      "hash = \"" +
      hash + "\"\nsize = 3\n";
  write(dir_ + "/hostile.actr",
        testing::forge_zip({{"manifest.toml", manifest}, {"x\x1b[31m\xff", "boo"}}));
  auto text = pkg({"inspect", dir_ + "/hostile.actr"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos);
  EXPECT_NE(text.out.find("x\\x1B[31m\\xFF"), std::string::npos) << text.out;
  auto json_out = pkg({"inspect", dir_ + "/hostile.actr", "--json"});
  ASSERT_EQ(json_out.code, 0) << json_out.err;
  const auto parsed = nlohmann::json::parse(json_out.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << json_out.out;
  auto verify = pkg({"verify", dir_ + "/hostile.actr"});
  EXPECT_EQ(verify.code, 1);
  EXPECT_EQ(verify.err.find('\x1b'), std::string::npos) << verify.err;
  EXPECT_EQ(first_line(verify.err).rfind("error: malformed: ZIP entry 'x\\x1B", 0), 0u)
      << verify.err;
}

// A keygen that cannot finish writing (a full disk; here a file size limit) leaves no half key
// behind: the next keygen into the same directory works.
TEST_F(PkgCli, AKeygenThatCannotWriteLeavesNothing) {
  const std::string out = dir_ + "/keys";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of a signal
    const rlimit small{10, 10};
    ::setrlimit(RLIMIT_FSIZE, &small);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    testing::exec_troupe({"pkg", "keygen", "--out", out});
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_FALSE(std::filesystem::exists(out + "/signing.key"));
  EXPECT_FALSE(std::filesystem::exists(out + "/signing.pub"));
  EXPECT_EQ(pkg({"keygen", "--out", out}).code, 0);
}

// A manifest field shown by inspect carries no terminal control: escape sequences, C1 controls
// and bidirectional overrides are escaped; a key of 300,000 dotted parts (it overflowed
// toml++'s stack) is refused as malformed, one line.
TEST_F(PkgCli, InspectEscapesControlsInFieldsAndADeepKeyIsMalformed) {
  const std::string hash(64, 'a');
  const std::string head =
      "manufacturer = \"acme\"\nname = \"echo\"\nversion = \"1\"\n"
      "signing_key_id = \"mfr-0123456789abcdef\"\n[binary]\n"
      "path = \"bin/actor.wasm\"\ntarget = \"wasm32-wasip1\"\n"
      "hash = \"" +
      hash + "\"\nsize = 3\n";
  write(dir_ + "/meta.actr",
        testing::forge_zip({{"manifest.toml", head + "[metadata]\ndescription = "
                                                     "\"\\u001b]0;PWNED\\u0007\\u0085x"
                                                     "\\u202Eevil\\nerror: fake\"\n"}}));
  auto r = pkg({"inspect", dir_ + "/meta.actr"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\xE2\x80\xAE"), std::string::npos) << r.out;  // U+202E, raw
  EXPECT_NE(r.out.find("\\x1B]0;PWNED\\x07\\u{0085}x\\u{202E}evil\\x0Aerror: fake"),
            std::string::npos)
      << r.out;
  std::string deep = "[a";
  for (int i = 0; i < 300000; ++i) deep += ".a";
  write(dir_ + "/deep.actr", testing::forge_zip({{"manifest.toml", deep + "]\nx = 1\n"},
                                                 {"manifest.sig", std::string(64, 's')}}));
  for (const char* op : {"inspect", "verify"}) {
    auto d = pkg({op, dir_ + "/deep.actr"});
    EXPECT_EQ(d.code, 1) << op;
    EXPECT_EQ(d.err,
              "error: malformed: manifest.toml line 1: a key with more than 16 dotted "
              "parts\n")
        << op;
  }
}

}  // namespace
}  // namespace troupe
