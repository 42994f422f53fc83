#include "troupe/platform/actor_store_path.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace troupe {
namespace {

void expect_refused(const ActorStoreId& id, std::string_view mention) {
  Result<ActorStoreDirs> dirs = actor_store_dirs(id);
  ASSERT_FALSE(dirs.ok()) << id.type << " / " << id.name;
  EXPECT_EQ(dirs.error().code, BaseErrc::kInvalidArgument);
  EXPECT_NE(dirs.error().detail.find(mention), std::string::npos) << dirs.error().detail;
  EXPECT_EQ(dirs.error().detail.find('\n'), std::string::npos);
}

TEST(ActorStorePath, SignedUnsignedAndNativeTypesMapToTheirDirectories) {
  Result<ActorStoreDirs> signed_dirs = actor_store_dirs({"acme:billing:1.0.0", "ledger"});
  ASSERT_TRUE(signed_dirs.ok()) << signed_dirs.error().to_string();
  EXPECT_EQ(signed_dirs->type_dir, "acme:billing:1.0.0");
  EXPECT_EQ(signed_dirs->actor_dir, "ledger");
  EXPECT_EQ(actor_store_file_path("/data/storage", *signed_dirs),
            "/data/storage/acme:billing:1.0.0/ledger/store.sqlite");
  EXPECT_EQ(actor_store_file_path("/data/storage/", *signed_dirs),
            "/data/storage/acme:billing:1.0.0/ledger/store.sqlite");

  Result<ActorStoreDirs> unsigned_dirs = actor_store_dirs({"unsigned:3f2a9c01", "scratch"});
  ASSERT_TRUE(unsigned_dirs.ok()) << unsigned_dirs.error().to_string();
  EXPECT_EQ(unsigned_dirs->type_dir, "unsigned:3f2a9c01");

  // A native kind's type is its registered name.
  Result<ActorStoreDirs> native_dirs = actor_store_dirs({"notary", "alice"});
  ASSERT_TRUE(native_dirs.ok()) << native_dirs.error().to_string();
  EXPECT_EQ(actor_store_file_path("/data/storage/native", *native_dirs),
            "/data/storage/native/notary/alice/store.sqlite");
}

TEST(ActorStorePath, EveryBadComponentIsRefusedByName) {
  const std::string long_part(kMaxStoragePathComponentBytes + 1, 'a');
  const std::string max_part(kMaxStoragePathComponentBytes, 'a');
  // The actor name.
  expect_refused({"acme:billing:1", ""}, "actor name is empty");
  expect_refused({"acme:billing:1", "."}, "actor name may not be '.'");
  expect_refused({"acme:billing:1", ".."}, "actor name may not be '..'");
  expect_refused({"acme:billing:1", long_part}, "actor name");
  expect_refused({"acme:billing:1", "a/b"}, "outside [A-Za-z0-9._-]");
  expect_refused({"acme:billing:1", "a:b"}, "outside");
  expect_refused({"acme:billing:1", std::string("a\0b", 3)}, "\\x00");
  expect_refused({"acme:billing:1", "caf\xc3\xa9"}, "\\xc3");
  expect_refused({"acme:billing:1", "a b"}, "outside");
  expect_refused({"acme:billing:1", "a\\b"}, "\\x5c");
  // Each component of a signed type.
  expect_refused({":billing:1", "n"}, "manufacturer is empty");
  expect_refused({"..:billing:1", "n"}, "manufacturer may not be '..'");
  expect_refused({"acme::1", "n"}, "package name is empty");
  expect_refused({"acme:.:1", "n"}, "package name may not be '.'");
  expect_refused({"acme:billing:", "n"}, "version is empty");
  expect_refused({"acme:billing:1.0+build", "n"}, "version");
  expect_refused({"acme:" + long_part + ":1", "n"}, "package name");
  expect_refused({"acme:bil/ling:1", "n"}, "package name");
  // A native kind (one component) follows the component rules.
  expect_refused({"", "n"}, "native kind is empty");
  expect_refused({"..", "n"}, "native kind may not be '..'");
  expect_refused({"no/tary", "n"}, "native kind 'no/tary' has a byte outside");
  expect_refused({long_part, "n"}, "native kind");
  // The shape of the type.
  expect_refused({":", "n"}, "neither");
  expect_refused({"acme:billing", "n"}, "neither");
  expect_refused({"acme:billing:1:2", "n"}, "neither");
  expect_refused({std::string(1000, ':'), "n"}, "bytes (at most");
  // Unsigned types: a lowercase hex prefix only; "unsigned" is no manufacturer.
  expect_refused({"unsigned:", "n"}, "hash prefix is empty");
  expect_refused({"unsigned:3F2A", "n"}, "not lowercase hex");
  expect_refused({"unsigned:..", "n"}, "hash prefix may not be '..'");
  expect_refused({"unsigned:abc:1", "n"}, "'unsigned' is reserved");
  // The caps themselves are allowed.
  EXPECT_TRUE(actor_store_dirs({max_part + ":" + max_part + ":" + max_part, max_part}).ok());
  EXPECT_TRUE(actor_store_dirs({"A-Z_a.z:0-9:1.2.3-rc_1", "..."}).ok());
}

// Pairs that a lossy mapping (case folding, separator replacement, concatenation) would merge:
// every one must land in a distinct directory.
TEST(ActorStorePath, NoTwoActorsShareAPath) {
  std::vector<ActorStoreId> ids = {
      {"acme:billing:1", "a"},        {"acme:billing:1", "A"},
      {"Acme:billing:1", "a"},        {"acme:billing:1.0", "a"},
      {"acme:billing.1:0", "a"},      {"acme.billing:1:0", "a"},
      {"acme:billing-1:0", "a"},      {"acme:billing_1:0", "a"},
      {"acme:billing:1", "a.b"},      {"acme:billing:1", "a_b"},
      {"acme:billing:1a", "b"},       {"acme:billing:1", "ab"},
      {"unsigned:abcd", "x"},         {"unsigned:abcd0", "x"},
      {"unsigned:abc", "dx"},         {"acme:billing:1", "store.sqlite"},
      {"acme:billing:1", "a.sqlite"}, {"acme:billing:1", "a.sqlite-wal"},
  };
  // Native kinds (one component, no ':') against each other and the other shapes.
  ids.insert(ids.end(),
             {{"acme", "a"}, {"billing", "a"}, {"billing.1", "a"}, {"unsigned", "abcd"}});
  std::set<std::string> paths;
  for (const ActorStoreId& id : ids) {
    Result<ActorStoreDirs> dirs = actor_store_dirs(id);
    ASSERT_TRUE(dirs.ok()) << dirs.error().to_string();
    EXPECT_TRUE(paths.insert(actor_store_file_path("/r", *dirs)).second)
        << id.type << " / " << id.name << " shares a path";
  }
}

}  // namespace
}  // namespace troupe
