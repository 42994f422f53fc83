// Where an actor's database lives: the node derives it from its storage root, the actor's type
// and its name, and from nothing an actor chooses freely, so two actors never share a store.
//
//   <root>/<type>/<name>/store.sqlite     e.g. <root>/acme:billing:1.0.0/ledger/store.sqlite
//                                              <root>/unsigned:3f2a9c01/scratch/store.sqlite
//                                              <root>/notary/alice/store.sqlite (native kind)
//
// Every component (manufacturer, package name, version, hash prefix, native kind, actor name)
// is 1..64 bytes of [A-Za-z0-9._-] and not "." or "..". The type directory is the type string
// itself: its components joined by ':', which no component may contain, so the mapping from
// (type, name) to path is injective — distinct pairs give distinct paths, nothing is escaped or
// folded. A signed type has exactly three components and may not use the manufacturer
// "unsigned" (reserved for the node's unsigned modules, `unsigned:<hex>`), so a package cannot
// pose as an unsigned module's type. A native kind's type is its registered name, one component
// (no ':'); the node keeps native stores under a root of their own (storage/native/), apart
// from every package's. The database's WAL file sits in the actor's own directory.
//
// Pure functions of their arguments; thread-safe. The filesystem side (0700 directories, 0600
// files, no symlinks, owner checks) is private_files.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe {

inline constexpr std::size_t kMaxStoragePathComponentBytes = 64;
inline constexpr std::string_view kUnsignedTypePrefix = "unsigned";
inline constexpr std::string_view kStoreFileName = "store.sqlite";

// Whose store: the actor's type (`manufacturer:name:version` from its signed manifest,
// `unsigned:<sha256 hex prefix>`, or a native kind's name) and its registered name.
struct ActorStoreId {
  std::string type;
  std::string name;
  friend bool operator==(const ActorStoreId&, const ActorStoreId&) = default;
};

// One path component; `what` names it in the error ("actor name"). Errors: invalid-argument.
Result<void> check_storage_component(std::string_view component, std::string_view what);

// The checked type directory and actor directory names.
struct ActorStoreDirs {
  std::string type_dir;
  std::string actor_dir;
};
// Errors: invalid-argument, naming the component and the rule it breaks.
Result<ActorStoreDirs> actor_store_dirs(const ActorStoreId& id);

// The database's full path under `root` (for messages and for SQLite's open).
std::string actor_store_file_path(const std::string& root, const ActorStoreDirs& dirs);

}  // namespace troupe
