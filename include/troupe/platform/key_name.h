// Key names: how the node names the keys it keeps for actors and for itself in KeyCustody
// (e.g. the actor's type and name, "acme:echo:1.0.0/alice"; "node/identity" for the identity
// service). A name is 1..512 bytes of UTF-8 without control characters, so it prints on one
// line. It never becomes a path: a record's file name is a hash of the name (32 hex digits +
// ".key"), and the name itself is sealed into the record, so no name reaches outside the key
// directory and a record moved to another name's file is detected. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe {

inline constexpr std::size_t kMaxKeyNameBytes = 512;

// Errors: invalid-argument, saying what is wrong.
Result<void> check_key_name(std::string_view name);

// The record's file name in the key directory: hex(BLAKE2b-128(name)) + ".key".
std::string key_record_file_name(std::string_view name);

// Whether `file_name` has the shape key_record_file_name gives (the rest of a directory is
// not a record: temporaries, the master key, strangers).
bool is_key_record_file_name(std::string_view file_name);

}  // namespace troupe
