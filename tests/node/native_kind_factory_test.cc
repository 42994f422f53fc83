// native_kind_factory and KindRegistry grants, on a node's Operations with real platform
// services: a native kind spawned by name gets the services it declared and nothing else, its
// store and key follow its name across restarts of the actor, two actors never share a store,
// unnamed and hostile names are refused before anything runs, and a handler that fails inside a
// transaction leaves nothing behind. The example notary signs what it keeps.
#include "troupe/node/native_kind_factory.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "example_actors.h"
#include "node/completion.h"
#include "troupe/base/encoding.h"
#include "troupe/node/operations.h"
#include "troupe/platform/platform_error.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/supervisor.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Routes: put K=V, get K, count, crash-mid-write K (puts K in a transaction, then throws),
// sign MSG (replies the 64 signature bytes), public-key (32 bytes).
class Notebook final : public Actor {
 public:
  explicit Notebook(NativeActorContext context) : context_(std::move(context)) {}

  bool receive(Message& m) override {
    return match(m, [this](Envelope& e) -> Result<Bytes> { return handle(e); });
  }

 private:
  Result<Bytes> handle(const Envelope& e) {
    if (e.route == "sign" || e.route == "public-key") {
      auto signer = context_.signer();
      if (!signer.ok()) return signer.error();
      if (e.route == "sign") {
        auto sig = (*signer)->sign(e.payload);
        if (!sig.ok()) return sig.error();
        return Bytes(reinterpret_cast<const char*>(sig->data()), sig->size());
      }
      auto key = (*signer)->public_key();
      if (!key.ok()) return key.error();
      return Bytes(reinterpret_cast<const char*>(key->data()), key->size());
    }
    auto store = context_.storage();
    if (!store.ok()) return store.error();
    ActorStore& s = **store;
    if (e.route == "put") {
      const auto eq = e.payload.find('=');
      if (auto ok = s.put(e.payload.substr(0, eq), e.payload.substr(eq + 1)); !ok.ok()) {
        return ok.error();
      }
      return Bytes("ok");
    }
    if (e.route == "get") {
      auto v = s.get(e.payload);
      if (!v.ok()) return v.error();
      if (!v->has_value()) return Error{BaseErrc::kNotFound, "no " + e.payload};
      return **v;
    }
    if (e.route == "count") {
      auto keys = s.list_keys("", kMaxStoreListKeys);
      if (!keys.ok()) return keys.error();
      return std::to_string(keys->size());
    }
    if (e.route == "crash-mid-write") {
      (void)context_.transaction([&](ActorStore& st) -> Result<void> {
        (void)st.put(e.payload, "half");
        throw std::runtime_error("crashed mid-write");
      });
    }
    return Error{BaseErrc::kNotFound, "no route " + e.route};
  }

  NativeActorContext context_;
};

using testing::Completion;

constexpr NativeGrants kNotebookGrants{
    .storage = true, .storage_quota_bytes = 1 << 16, .signing = true};

std::unique_ptr<Actor> make_notebook(NativeActorContext c) {
  return std::make_unique<Notebook>(std::move(c));
}

class NativeKindFactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    std::string tmpl = (fs::temp_directory_path() / "troupe-nativekind-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto id = NodeIdentity::load_or_create(dir_);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    identity_.emplace(std::move(id).value());
    auto p = PlatformServices::open(dir_, {}, "troupe:node:test");
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    platform_ = std::move(p).value();
    kinds_.add("notebook", "test kind with storage and signing", make_notebook, kNotebookGrants);
    kinds_.add("signs-only", "signing, no storage", make_notebook, NativeGrants{.signing = true});
    kinds_.add("nothing", "a context, no grants", make_notebook, NativeGrants{});
    examples::register_example_kinds(kinds_);
    system_ = std::make_unique<ActorSystem>(SystemConfig{.workers = 2});
    ops_ = std::make_unique<Operations>(*system_, kinds_, policy_, *identity_, Operations::Config{},
                                        platform_.get());
  }
  void TearDown() override {
    ops_->shutdown();
    system_->shutdown();
    ops_.reset();
    system_.reset();
    platform_.reset();
    fs::remove_all(dir_);
  }
  Result<SpawnResult> spawn(const std::string& kind, const std::string& name) {
    Completion<SpawnResult> c;
    ops_->spawn(SpawnRequest{.kind = kind, .name = name}, c.callback());
    return c.get();
  }
  Result<Bytes> ask(const std::string& actor, const std::string& route, Bytes payload = {}) {
    Completion<AskReply> c;
    ops_->ask(AskRequest{SendRequest{actor, route, std::move(payload), ""}, 10s}, c.callback());
    auto r = c.get();
    if (!r.ok()) return r.error();
    return r->payload;
  }
  // Stops the actor and waits until its name is free (its instance, and its store, are gone).
  void stop(const std::string& name) {
    ASSERT_TRUE(ops_->stop(name).ok());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (system_->resolve(name)) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << name << " did not stop";
      std::this_thread::yield();
    }
  }

  std::string dir_;
  std::optional<NodeIdentity> identity_;
  std::unique_ptr<PlatformServices> platform_;
  KindRegistry kinds_;
  wasm::GuestPolicy policy_;
  std::unique_ptr<ActorSystem> system_;
  std::unique_ptr<Operations> ops_;
};

TEST_F(NativeKindFactoryTest, AGrantedKindStoresAndKeepsItsDataAcrossRestarts) {
  ASSERT_TRUE(spawn("notebook", "nb").ok());
  ASSERT_EQ(ask("nb", "put", "a=1").value_or("?"), "ok");
  ASSERT_EQ(ask("nb", "put", "b=2").value_or("?"), "ok");
  EXPECT_EQ(ask("nb", "get", "a").value_or("?"), "1");
  EXPECT_TRUE(fs::exists(dir_ + "/storage/native/notebook/nb/store.sqlite"));
  const Bytes key = ask("nb", "public-key").value_or("");
  ASSERT_EQ(key.size(), 32u);

  // The handler fails inside a transaction: the supervisor restarts the actor with a fresh
  // instance and context, which finds the committed data and none of the failed write.
  auto crashed = ask("nb", "crash-mid-write", "torn");
  ASSERT_FALSE(crashed.ok());
  EXPECT_NE(crashed.error().detail.find("crashed mid-write"), std::string::npos);
  EXPECT_EQ(ask("nb", "get", "b").value_or("?"), "2");
  EXPECT_EQ(ask("nb", "get", "torn").error().code, BaseErrc::kNotFound);
  EXPECT_EQ(ask("nb", "count").value_or("?"), "2");
  EXPECT_EQ(ask("nb", "public-key").value_or(""), key);

  // Stopped and spawned again under its name: the same store and key.
  stop("nb");
  ASSERT_TRUE(spawn("notebook", "nb").ok());
  EXPECT_EQ(ask("nb", "get", "a").value_or("?"), "1");
  EXPECT_EQ(ask("nb", "public-key").value_or(""), key);
}

TEST_F(NativeKindFactoryTest, AKindWithoutTheGrantGetsAnErrorNotADatabase) {
  ASSERT_TRUE(spawn("nothing", "n").ok());
  auto put = ask("n", "put", "a=1");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, PlatformErrc::kPermissionDenied);
  auto sign = ask("n", "sign", "m");
  ASSERT_FALSE(sign.ok());
  EXPECT_EQ(sign.error().code, PlatformErrc::kPermissionDenied);

  ASSERT_TRUE(spawn("signs-only", "s").ok());
  EXPECT_EQ(ask("s", "put", "a=1").error().code, PlatformErrc::kPermissionDenied);
  EXPECT_EQ(ask("s", "sign", "m").value_or("").size(), 64u);

  // Kinds registered with a plain factory are granted nothing (and need no name).
  ASSERT_TRUE(spawn("echo", "").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/storage/native/nothing"));
  EXPECT_FALSE(fs::exists(dir_ + "/storage/native/signs-only"));
}

// A granted kind keeps its data under its name: refused unnamed, or with a name that is no path
// component, before anything runs or is written.
TEST_F(NativeKindFactoryTest, AGrantedKindNeedsAPathSafeName) {
  auto unnamed = spawn("notebook", "");
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().code, BaseErrc::kInvalidArgument);
  EXPECT_NE(unnamed.error().detail.find("give it a name"), std::string::npos);
  for (const std::string name : {"a b", "..", ".", "a:b", "caf\xc3\xa9", "x/../../y"}) {
    auto r = spawn("notebook", name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, BaseErrc::kInvalidArgument) << name;
    EXPECT_FALSE(system_->resolve(name)) << name;
  }
  auto long_name = spawn("notebook", std::string(65, 'n'));
  ASSERT_FALSE(long_name.ok());
  EXPECT_NE(long_name.error().detail.find("at most 64"), std::string::npos);
  // Ungranted kinds keep the wider rule for names.
  EXPECT_TRUE(spawn("nothing", "a b").ok());
  EXPECT_TRUE(spawn("nothing", "").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/storage/native/notebook"));
  auto keys = platform_->keys().list();
  ASSERT_TRUE(keys.ok());
  for (const KeyInfo& k : *keys) EXPECT_FALSE(k.name.starts_with("native/")) << k.name;
}

TEST_F(NativeKindFactoryTest, ANodeWithoutPlatformServicesRefusesGrantedKinds) {
  auto granted = native_kind_factory(kinds_, "notebook", "nb", nullptr);
  ASSERT_FALSE(granted.ok());
  EXPECT_EQ(granted.error().code, BaseErrc::kUnavailable);
  EXPECT_TRUE(native_kind_factory(kinds_, "nothing", "", nullptr).ok());
  auto unknown = native_kind_factory(kinds_, "nope", "x", platform_.get());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, BaseErrc::kNotFound);
  EXPECT_NE(unknown.error().detail.find("known: "), std::string::npos);
}

// Every call of the factory builds a fresh instance with its own context: what a supervisor
// restarts with. The first incarnation's store is freed when it is destroyed.
TEST_F(NativeKindFactoryTest, EachIncarnationGetsAFreshContext) {
  auto factory = native_kind_factory(kinds_, "notebook", "direct", platform_.get());
  ASSERT_TRUE(factory.ok()) << factory.error().to_string();
  SpawnOptions named;
  named.name = "direct";
  ActorRef first = system_->spawn((*factory)(), named);
  ASSERT_TRUE(first);
  ASSERT_EQ(ask("direct", "put", "k=v").value_or("?"), "ok");
  stop("direct");
  ActorRef second = system_->spawn((*factory)(), named);
  EXPECT_EQ(ask("direct", "get", "k").value_or("?"), "v");
}

// One-for-all: when one child fails, its running sibling is restarted too — the supervisor
// builds the sibling's next instance while the current one still holds its store. The store
// opens at first use, after the old instance is gone, so both come back with their data.
TEST_F(NativeKindFactoryTest, ASiblingRestartedWhileItHoldsItsStoreGetsItBack) {
  std::vector<ChildSpec> specs;
  for (const std::string name : {"s1", "s2"}) {
    auto factory = native_kind_factory(kinds_, "notebook", name, platform_.get());
    ASSERT_TRUE(factory.ok()) << factory.error().to_string();
    ChildSpec spec;
    spec.name = name;
    spec.type_name = "notebook";
    spec.factory = std::move(factory).value();
    specs.push_back(std::move(spec));
  }
  system_->spawn(std::make_unique<Supervisor>(
      SupervisorOptions{.strategy = Strategy::kOneForAll, .max_restarts = 10}, std::move(specs)));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!system_->resolve("s1") || !system_->resolve("s2")) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  ASSERT_EQ(ask("s1", "put", "k=one").value_or("?"), "ok");
  ASSERT_EQ(ask("s2", "put", "k=two").value_or("?"), "ok");
  ASSERT_FALSE(ask("s1", "crash-mid-write", "torn").ok());
  EXPECT_EQ(ask("s2", "get", "k").value_or("?"), "two");
  EXPECT_EQ(ask("s1", "get", "k").value_or("?"), "one");
  EXPECT_EQ(ask("s2", "put", "k=again").value_or("?"), "ok");
  EXPECT_GE(system_->resolve("s2").cell()->stats().restarts, 1u);
}

// Many actors writing at once, on two workers: each finds exactly its own writes.
TEST_F(NativeKindFactoryTest, ConcurrentActorsKeepTheirOwnStores) {
  constexpr int kActors = 8;
  constexpr int kWrites = 100;
  for (int a = 0; a < kActors; ++a) {
    ASSERT_TRUE(spawn("notebook", "w" + std::to_string(a)).ok());
  }
  std::vector<std::thread> writers;
  for (int a = 0; a < kActors; ++a) {
    writers.emplace_back([this, a] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string kv = "k" + std::to_string(i) + "=" + std::to_string(a);
        EXPECT_TRUE(ops_->tell(SendRequest{"w" + std::to_string(a), "put", kv, ""}).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  for (int a = 0; a < kActors; ++a) {
    const std::string name = "w" + std::to_string(a);
    EXPECT_EQ(ask(name, "count").value_or("?"), std::to_string(kWrites)) << name;
    EXPECT_EQ(ask(name, "get", "k7").value_or("?"), std::to_string(a)) << name;
  }
}

TEST_F(NativeKindFactoryTest, TheNotaryKeepsANoteAndSignsIt) {
  ASSERT_TRUE(spawn("notary", "n").ok());
  auto receipt = ask("n", "note", "I owe Bob 5 EUR");
  ASSERT_TRUE(receipt.ok()) << receipt.error().to_string();
  ASSERT_EQ(receipt->rfind("1 ", 0), 0u) << *receipt;
  auto sig = base64_decode(receipt->substr(2));
  auto key = base64_decode(ask("n", "public-key").value_or(""));
  ASSERT_TRUE(sig && key);
  ASSERT_EQ(sig->size(), 64u);
  ASSERT_EQ(key->size(), 32u);
  const std::string note = "I owe Bob 5 EUR";
  EXPECT_EQ(
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                  reinterpret_cast<const unsigned char*>(note.data()), note.size(),
                                  reinterpret_cast<const unsigned char*>(key->data())),
      0);
  EXPECT_EQ(ask("n", "get", "1").value_or("?"), note);
  ASSERT_EQ(ask("n", "note", "second").value_or("?").rfind("2 ", 0), 0u);
  EXPECT_EQ(ask("n", "list").value_or("?"), "1\n2\n");
  EXPECT_EQ(ask("n", "delete", "1").value_or("?"), "deleted 1");
  EXPECT_EQ(ask("n", "get", "1").error().code, BaseErrc::kNotFound);
  EXPECT_EQ(ask("n", "get", "x").error().code, BaseErrc::kInvalidArgument);
  EXPECT_EQ(ask("n", "list").value_or("?"), "2\n");
  // Numbers are not reused after a delete.
  EXPECT_EQ(ask("n", "note", "third").value_or("?").rfind("3 ", 0), 0u);
  EXPECT_EQ(spawn("notary", "").error().code, BaseErrc::kInvalidArgument);
}

TEST(KindRegistry, AKindMustBeAPathComponentAndAGrantedOneHaveAQuota) {
  KindRegistry kinds;
  EXPECT_THROW(kinds.add("no/tary", "", make_notebook, kNotebookGrants), std::invalid_argument);
  EXPECT_THROW(kinds.add("..", "", make_notebook, NativeGrants{.signing = true}),
               std::invalid_argument);
  EXPECT_THROW(kinds.add("zero", "", make_notebook, NativeGrants{.storage = true}),
               std::invalid_argument);
  // Every kind, granted or not, plain factory or not: a kind with ':' would look to guests
  // like a package's type (and be reachable without being exposed).
  EXPECT_THROW(kinds.add("odd kind", "", make_notebook, NativeGrants{}), std::invalid_argument);
  EXPECT_THROW(kinds.add("acme:svc:1.0", "", [] { return std::unique_ptr<Actor>(); }),
               std::invalid_argument);
  EXPECT_THROW(kinds.add("odd/plain", "", [] { return std::unique_ptr<Actor>(); }),
               std::invalid_argument);
  EXPECT_TRUE(kinds.all().empty());
  kinds.add("plain", "", [] { return std::unique_ptr<Actor>(); });
  ASSERT_NE(kinds.find("plain"), nullptr);
  EXPECT_FALSE(kinds.find("plain")->grants.any());
  EXPECT_THROW(kinds.expose_to_guests("nosuch"), std::invalid_argument);
}

}  // namespace
}  // namespace troupe
