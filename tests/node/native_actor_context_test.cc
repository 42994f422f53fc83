// NativeActorContext: a native actor's storage and signing, from the node's own StorageService
// and KeyCustody (the services guests use) — granted only when the kind declared them, kept
// under the kind and the actor's name (storage/native/<kind>/<name>, key native/<kind>/<name>),
// quota-checked, durable per write or per transaction, and signed with a key the actor never
// holds.
#include "troupe/node/native_actor_context.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "troupe/node/platform_services.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

constexpr NativeGrants kBoth{.storage = true, .storage_quota_bytes = 4096, .signing = true};

class NativeActorContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troupe-native-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    open_platform();
  }
  void TearDown() override {
    platform_.reset();
    fs::remove_all(dir_);
  }
  // (Re)opens the node's platform services in the data directory: a node restart.
  void open_platform(platform::PlatformConfig config = {}) {
    platform_.reset();
    auto p = PlatformServices::open(dir_, config, "troupe:node:test");
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    platform_ = std::move(p).value();
  }
  NativeActorContext context(const std::string& kind, const std::string& name,
                             NativeGrants grants = kBoth) {
    return NativeActorContext(kind, name, grants, platform_.get());
  }
  ActorStore& store(NativeActorContext& c) {
    auto s = c.storage();
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    if (!s.ok()) throw std::runtime_error("no store");
    return **s;
  }
  std::string store_path(const std::string& kind, const std::string& name) const {
    return dir_ + "/storage/native/" + kind + "/" + name + "/store.sqlite";
  }
  bool has_native_key(const std::string& kind, const std::string& name) {
    auto keys = platform_->keys().list();
    EXPECT_TRUE(keys.ok());
    for (const KeyInfo& k : *keys) {
      if (k.name == NativeActorContext::key_name(kind, name)) return true;
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<PlatformServices> platform_;
};

TEST_F(NativeActorContextTest, PutGetDeleteAndListKeysInTheActorsOwnStore) {
  NativeActorContext c = context("notary", "alice");
  ActorStore& s = store(c);
  ASSERT_TRUE(s.put("b", "2").ok());
  ASSERT_TRUE(s.put("a", "1").ok());
  ASSERT_TRUE(s.put("c/x", "3").ok());
  auto a = s.get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->value_or("?"), "1");
  auto keys = s.list_keys("", 10);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<Bytes>{"a", "b", "c/x"}));
  keys = s.list_keys("c/", 10);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<Bytes>{"c/x"}));
  auto removed = s.remove("a");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  removed = s.remove("a");
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(*removed);
  a = s.get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
  EXPECT_EQ(s.used_bytes(), 2u + 4u);  // "b"+"2", "c/x"+"3"

  // The same store is handed out again; it is where the node says, private to the node.
  auto again = c.storage();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, &s);
  EXPECT_EQ(s.path(), store_path("notary", "alice"));
  struct stat st {};
  ASSERT_EQ(::stat(s.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/storage/native").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(c.kind(), "notary");
  EXPECT_EQ(c.name(), "alice");
}

// The kind's quota, capped by the node's maximum; exactly at it fits, one byte more writes
// nothing, and a replacement that would grow past it keeps the old value.
TEST_F(NativeActorContextTest, AWritePastTheQuotaFailsAndWritesNothing) {
  NativeActorContext c =
      context("notary", "q", NativeGrants{.storage = true, .storage_quota_bytes = 16});
  ActorStore& s = store(c);
  EXPECT_EQ(s.quota_bytes(), 16u);
  ASSERT_TRUE(s.put("k", std::string(15, 'v')).ok());  // 1 + 15: exactly the quota
  EXPECT_EQ(s.used_bytes(), 16u);
  auto over = s.put("x", "");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, PlatformErrc::kQuotaExceeded);
  auto x = s.get("x");
  ASSERT_TRUE(x.ok());
  EXPECT_FALSE(x->has_value());
  over = s.put("k", std::string(16, 'w'));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, PlatformErrc::kQuotaExceeded);
  EXPECT_EQ(s.get("k")->value_or(""), std::string(15, 'v'));
  EXPECT_EQ(s.used_bytes(), 16u);
  // A shrinking replacement and a delete still work.
  ASSERT_TRUE(s.put("k", "v").ok());
  EXPECT_EQ(s.used_bytes(), 2u);
}

TEST_F(NativeActorContextTest, TheQuotaIsCappedByTheNodesMaximum) {
  platform::PlatformConfig config;
  config.max_storage_quota_bytes = 100;
  open_platform(config);
  NativeActorContext c =
      context("notary", "big", NativeGrants{.storage = true, .storage_quota_bytes = 1 << 20});
  EXPECT_EQ(store(c).quota_bytes(), 100u);
  EXPECT_FALSE(store(c).put("k", std::string(100, 'v')).ok());
}

// transaction(): all of the body's writes, or none of them.
TEST_F(NativeActorContextTest, ATransactionCommitsEveryWriteOrNone) {
  NativeActorContext c =
      context("notary", "tx", NativeGrants{.storage = true, .storage_quota_bytes = 64});
  ActorStore& s = store(c);
  ASSERT_TRUE(s.put("kept", "1").ok());
  const std::uint64_t used = s.used_bytes();

  auto failed = c.transaction([](ActorStore& st) -> Result<void> {
    if (auto ok = st.put("a", "1"); !ok.ok()) return ok;
    if (auto ok = st.remove("kept"); !ok.ok()) return ok.error();
    // Reads inside see the transaction's own writes.
    if (!st.get("a")->has_value()) return Error{BaseErrc::kInternal, "own write not seen"};
    return Error{BaseErrc::kInvalidArgument, "changed my mind"};
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().detail, "changed my mind");
  EXPECT_FALSE(s.get("a")->has_value());
  EXPECT_TRUE(s.get("kept")->has_value());
  EXPECT_EQ(s.used_bytes(), used);

  EXPECT_THROW(c.transaction([](ActorStore& st) -> Result<void> {
    (void)st.put("b", "1");
    throw std::runtime_error("handler crashed mid-write");
  }),
               std::runtime_error);
  EXPECT_FALSE(s.get("b")->has_value());
  EXPECT_EQ(s.used_bytes(), used);

  // A write past the quota fails the body; what it wrote before goes too.
  auto over = c.transaction([](ActorStore& st) -> Result<void> {
    if (auto ok = st.put("c", "1"); !ok.ok()) return ok;
    return st.put("d", std::string(100, 'x'));
  });
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, PlatformErrc::kQuotaExceeded);
  EXPECT_FALSE(s.get("c")->has_value());
  EXPECT_EQ(s.used_bytes(), used);

  // Not reentrant.
  auto nested = c.transaction([&c](ActorStore&) -> Result<void> {
    return c.transaction([](ActorStore&) -> Result<void> { return {}; });
  });
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().code, BaseErrc::kInternal);

  auto ok = c.transaction([](ActorStore& st) -> Result<void> {
    if (auto r = st.put("e", "1"); !r.ok()) return r;
    return st.put("f", "2");
  });
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_TRUE(s.get("e")->has_value());
  EXPECT_TRUE(s.get("f")->has_value());
}

// A named actor's data and key outlive its context (an actor restart) and the platform
// services (a node restart); each committed put is on disk when it returns.
TEST_F(NativeActorContextTest, DataAndKeyOutliveTheActorAndTheNode) {
  Ed25519PublicKey key{};
  {
    NativeActorContext c = context("notary", "keeper");
    ASSERT_TRUE(store(c).put("note", "kept").ok());
    auto signer = c.signer();
    ASSERT_TRUE(signer.ok()) << signer.error().to_string();
    key = *(*signer)->public_key();
    EXPECT_EQ((*signer)->key_name(), "native/notary/keeper");
  }
  {
    NativeActorContext c = context("notary", "keeper");  // the next incarnation
    EXPECT_EQ(store(c).get("note")->value_or(""), "kept");
    EXPECT_EQ(*(*c.signer())->public_key(), key);
    ASSERT_TRUE(store(c).put("note", "again").ok());
  }
  open_platform();  // the node restarts
  NativeActorContext c = context("notary", "keeper");
  EXPECT_EQ(store(c).get("note")->value_or(""), "again");
  EXPECT_EQ(*(*c.signer())->public_key(), key);
}

TEST_F(NativeActorContextTest, ASignatureVerifiesWithLibsodiumUnderThePublicKey) {
  ASSERT_GE(sodium_init(), 0);
  NativeActorContext c = context("notary", "signer");
  auto signer = c.signer();
  ASSERT_TRUE(signer.ok()) << signer.error().to_string();
  const std::string message = "the note I stand behind";
  auto sig = (*signer)->sign(message);
  ASSERT_TRUE(sig.ok()) << sig.error().to_string();
  auto key = (*signer)->public_key();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(crypto_sign_verify_detached(sig->data(),
                                        reinterpret_cast<const unsigned char*>(message.data()),
                                        message.size(), key->data()),
            0);
  const std::string forged = "the note I never signed";
  EXPECT_NE(crypto_sign_verify_detached(sig->data(),
                                        reinterpret_cast<const unsigned char*>(forged.data()),
                                        forged.size(), key->data()),
            0);
  // The key is the custody's, under the native name: the same one a restart finds.
  auto held = platform_->keys().public_key("native/notary/signer");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, *key);
  // Messages are capped like a guest's.
  auto big = (*signer)->sign(std::string(NativeSigner::kMaxMessageBytes + 1, 'x'));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, BaseErrc::kTooLarge);
  EXPECT_TRUE((*signer)->sign(std::string(NativeSigner::kMaxMessageBytes, 'x')).ok());
}

// Deny by default: what a kind did not declare, it does not get — and nothing is made for it.
TEST_F(NativeActorContextTest, WhatTheKindDidNotDeclareIsRefused) {
  NativeActorContext nothing = context("plain", "p", NativeGrants{});
  auto s = nothing.storage();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, PlatformErrc::kPermissionDenied);
  EXPECT_NE(s.error().detail.find("not granted storage"), std::string::npos) << s.error().detail;
  auto k = nothing.signer();
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code, PlatformErrc::kPermissionDenied);
  auto t = nothing.transaction([](ActorStore&) -> Result<void> { return {}; });
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, PlatformErrc::kPermissionDenied);

  NativeActorContext signing_only = context("signs", "s", NativeGrants{.signing = true});
  EXPECT_EQ(signing_only.storage().error().code, PlatformErrc::kPermissionDenied);
  EXPECT_TRUE(signing_only.signer().ok());
  NativeActorContext storage_only =
      context("stores", "s", NativeGrants{.storage = true, .storage_quota_bytes = 10});
  EXPECT_EQ(storage_only.signer().error().code, PlatformErrc::kPermissionDenied);
  EXPECT_TRUE(storage_only.storage().ok());

  // A default context (a kind registered with a plain factory) has nothing either.
  NativeActorContext empty;
  EXPECT_EQ(empty.storage().error().code, PlatformErrc::kPermissionDenied);
  EXPECT_EQ(empty.signer().error().code, PlatformErrc::kPermissionDenied);

  EXPECT_FALSE(fs::exists(dir_ + "/storage/native/plain"));
  EXPECT_FALSE(fs::exists(dir_ + "/storage/native/signs"));
  EXPECT_FALSE(has_native_key("plain", "p"));
  EXPECT_FALSE(has_native_key("stores", "s"));
  EXPECT_TRUE(has_native_key("signs", "s"));
}

// Distinct (kind, name) pairs get distinct stores and keys; one pair has one live owner.
TEST_F(NativeActorContextTest, TwoActorsNeverShareAStoreOrAKey) {
  NativeActorContext a = context("notary", "a");
  NativeActorContext b = context("notary", "b");
  NativeActorContext other_kind = context("ledger", "a");
  ASSERT_TRUE(store(a).put("k", "from a").ok());
  ASSERT_TRUE(store(b).put("k", "from b").ok());
  EXPECT_FALSE(store(other_kind).get("k")->has_value());
  EXPECT_EQ(store(a).get("k")->value_or(""), "from a");
  EXPECT_EQ(store(b).get("k")->value_or(""), "from b");
  EXPECT_NE(store(a).path(), store(b).path());
  EXPECT_NE(store(a).path(), store(other_kind).path());
  EXPECT_NE(*(*a.signer())->public_key(), *(*b.signer())->public_key());
  EXPECT_NE(*(*a.signer())->public_key(), *(*other_kind.signer())->public_key());

  // A second live context on the same actor's store is refused until the first is gone.
  {
    NativeActorContext twin = context("notary", "a");
    auto s = twin.storage();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, BaseErrc::kUnavailable);
  }
  { NativeActorContext gone = std::move(a); }
  NativeActorContext next = context("notary", "a");
  EXPECT_EQ(store(next).get("k")->value_or(""), "from a");

  // And a native store never lies under a signing key's root.
  auto packaged = platform_->storage_for("mfr-0123456789abcdef");
  auto native = platform_->native_storage();
  ASSERT_TRUE(packaged.ok() && native.ok());
  EXPECT_NE((*packaged)->root(), (*native)->root());
  EXPECT_EQ((*native)->root(), dir_ + "/storage/native");
}

// Names that are no path component (or none at all) get no store and no key, and nothing is
// created on disk for them.
TEST_F(NativeActorContextTest, HostileNamesAreRefusedAndTouchNothing) {
  const std::vector<std::string> names = {"",
                                          ".",
                                          "..",
                                          "../x",
                                          "a/b",
                                          "/etc",
                                          "a b",
                                          "a:b",
                                          "a\\b",
                                          std::string("a\0b", 3),
                                          "caf\xc3\xa9",
                                          "a\n",
                                          std::string(65, 'a')};
  for (const std::string& name : names) {
    NativeActorContext c = context("notary", name);
    auto s = c.storage();
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.error().code, BaseErrc::kInvalidArgument) << name;
    auto k = c.signer();
    ASSERT_FALSE(k.ok()) << name;
    EXPECT_EQ(k.error().code, BaseErrc::kInvalidArgument) << name;
    // The kind is checked the same way (a registry refuses such a kind anyway).
    NativeActorContext kind = context(name, "fine");
    EXPECT_EQ(kind.storage().error().code, BaseErrc::kInvalidArgument) << name;
    EXPECT_EQ(kind.signer().error().code, BaseErrc::kInvalidArgument) << name;
  }
  auto keys = platform_->keys().list();
  ASSERT_TRUE(keys.ok());
  for (const KeyInfo& k : *keys) EXPECT_FALSE(k.name.starts_with("native/")) << k.name;
  EXPECT_FALSE(fs::exists(dir_ + "/storage/native") && !fs::is_empty(dir_ + "/storage/native"));
  EXPECT_FALSE(fs::exists(dir_ + "/x"));
  // The longest allowed name works.
  NativeActorContext longest = context("notary", std::string(64, 'a'));
  EXPECT_TRUE(longest.storage().ok());
}

TEST_F(NativeActorContextTest, WithoutPlatformServicesAGrantedCallIsUnavailable) {
  NativeActorContext c("notary", "n", kBoth, nullptr);
  EXPECT_EQ(c.storage().error().code, BaseErrc::kUnavailable);
  EXPECT_EQ(c.signer().error().code, BaseErrc::kUnavailable);
}

// The native root is checked like every storage root: one that others may write (or a symlink
// planted in its place) gives no store, and nothing is written through it.
TEST_F(NativeActorContextTest, ALooseNativeRootIsRefused) {
  const std::string root = dir_ + "/storage/native";
  fs::create_directory(root);
  fs::permissions(root, fs::perms::all);
  NativeActorContext c = context("notary", "n");
  auto s = c.storage();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, BaseErrc::kRefused) << s.error().to_string();
  EXPECT_TRUE(fs::is_empty(root));

  fs::remove(root);
  const std::string elsewhere = dir_ + "/elsewhere";
  fs::create_directory(elsewhere);
  fs::permissions(elsewhere, fs::perms::owner_all, fs::perm_options::replace);
  fs::create_directory_symlink(elsewhere, root);
  NativeActorContext d = context("notary", "n");
  ASSERT_FALSE(d.storage().ok());
  EXPECT_TRUE(fs::is_empty(elsewhere));
}

std::string numbered(const char* prefix, std::uint64_t n) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(n));
  return prefix + std::string(digits);
}

// A node killed (SIGKILL) while a native actor writes: every transaction it had seen commit is
// there after the restart, and none is there in part — each one wrote a/N and b/N and moved
// "next" to N+1 (and dropped a/N-8 and b/N-8), so the keys under a/ and b/ always match.
TEST_F(NativeActorContextTest, AWriterKilledMidWriteLeavesWholeTransactionsOnly) {
  platform_.reset();  // the writer opens the data directory itself (the key directory's lock)
  int acks[2];
  ASSERT_EQ(::pipe(acks), 0);
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    ::close(acks[0]);
    auto p = PlatformServices::open(dir_, {}, "troupe:node:test");
    if (!p.ok()) ::_exit(2);
    NativeActorContext c("notary", "killed",
                         NativeGrants{.storage = true, .storage_quota_bytes = 1 << 20}, p->get());
    for (std::uint64_t n = 1;; ++n) {
      auto r = c.transaction([n](ActorStore& s) -> Result<void> {
        if (auto ok = s.put(numbered("a/", n), std::string(200, 'a')); !ok.ok()) return ok;
        if (n > 8) {
          if (auto ok = s.remove(numbered("a/", n - 8)); !ok.ok()) return ok.error();
          if (auto ok = s.remove(numbered("b/", n - 8)); !ok.ok()) return ok.error();
        }
        if (auto ok = s.put("next", std::to_string(n + 1)); !ok.ok()) return ok;
        return s.put(numbered("b/", n), std::string(200, 'b'));
      });
      if (!r.ok()) ::_exit(3);
      if (::write(acks[1], &n, sizeof n) != sizeof n) ::_exit(4);
    }
  }
  ::close(acks[1]);
  std::uint64_t acked = 0;
  while (acked < 300) {
    std::uint64_t n = 0;
    ASSERT_EQ(::read(acks[0], &n, sizeof n), static_cast<ssize_t>(sizeof n)) << "writer died";
    acked = n;
  }
  ::kill(writer, SIGKILL);
  int status = 0;
  ::waitpid(writer, &status, 0);
  ::close(acks[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;

  open_platform();  // the node restarts
  NativeActorContext c =
      context("notary", "killed", NativeGrants{.storage = true, .storage_quota_bytes = 1 << 20});
  ActorStore& s = store(c);
  auto next_text = s.get("next");
  ASSERT_TRUE(next_text.ok() && next_text->has_value());
  const std::uint64_t next = std::stoull(**next_text);
  EXPECT_GT(next, acked);  // every acknowledged commit survived
  auto a = s.list_keys("a/", kMaxStoreListKeys);
  auto b = s.list_keys("b/", kMaxStoreListKeys);
  ASSERT_TRUE(a.ok() && b.ok());
  std::set<std::string> a_numbers, b_numbers, expected;
  for (const Bytes& k : *a) a_numbers.insert(k.substr(2));
  for (const Bytes& k : *b) b_numbers.insert(k.substr(2));
  for (std::uint64_t n = next - 8; n < next; ++n) expected.insert(numbered("", n));
  EXPECT_EQ(a_numbers, expected);
  EXPECT_EQ(b_numbers, expected);
  // The quota count was recounted from the table: exact, and the store still takes writes.
  EXPECT_EQ(s.used_bytes(), 8u * 2u * (2u + 12u + 200u) + 4u + std::to_string(next).size());
  EXPECT_TRUE(s.put("after", "restart").ok());
}

}  // namespace
}  // namespace troupe
