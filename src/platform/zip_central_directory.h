// read_zip_directory: troupe's own bounded walk of a ZIP file's end record and central
// directory, done before libzip sees the file. It refuses (kTooLarge) an entry count over the
// cap before anything is allocated per entry, refuses ZIP64, multi-disk archives and entries
// with a data descriptor (their local headers carry no sizes to compare), and returns each
// entry's name with its exact length, so that a name holding a NUL — which libzip's C-string
// names would silently cut — can be caught. Internal to the platform library; pure over `fd`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::platform {

struct ZipDirectoryEntry {
  std::string name;
  std::uint64_t local_offset = 0;
  std::uint64_t size = 0;  // central directory's compressed size
};

struct ZipDirectory {
  std::vector<ZipDirectoryEntry> entries;
  std::uint64_t central_offset = 0;  // entry data ends before this
};

Result<ZipDirectory> read_zip_directory(int fd, std::uint64_t file_size, std::size_t max_entries);
// Where the entry's bytes begin; kMalformed unless its local header is there and its bytes
// end before the central directory.
Result<std::uint64_t> zip_entry_data_offset(int fd, const ZipDirectory& dir,
                                            const ZipDirectoryEntry& entry);

}  // namespace troupe::platform
