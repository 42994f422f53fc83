// forge_zip: writes ZIP archives byte by byte for the hostile-package tests — stored entries
// by default, with knobs to make each lie a verifier must catch (a compression method, a local
// name or size that differs from the central one, a symlink mode, a name libzip would cut at a
// NUL). Test-only; pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace troupe::testing {

struct ForgeEntry {
  ForgeEntry(std::string n, std::string d) : name(std::move(n)), data(std::move(d)) {}
  std::string name;
  std::string data;
  std::uint16_t method = 0;                   // 0 stored, 8 deflate (data left as is)
  std::uint32_t unix_mode = 0100644;          // S_IFREG | 0644
  std::optional<std::string> local_name;      // the local header's name, if it differs
  std::optional<std::uint32_t> central_size;  // sizes the central directory claims
  std::optional<std::uint32_t> local_size;    // sizes the local header claims
  // No local record is written: the central record points at `central_offset` instead (an
  // entry whose bytes lie inside another's).
  std::optional<std::uint32_t> central_offset;
};

inline std::uint32_t crc32_of(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
inline void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

// A local file header, its name and its bytes.
inline std::string local_record(const std::string& name, const std::string& data,
                                std::uint16_t method, std::uint32_t crc, std::uint32_t size) {
  std::string out;
  put32(out, 0x04034b50);
  put16(out, 20);
  put16(out, 0x0800);
  put16(out, method);
  put16(out, 0);
  put16(out, 0x0021);
  put32(out, crc);
  put32(out, size);
  put32(out, size);
  put16(out, static_cast<std::uint32_t>(name.size()));
  put16(out, 0);
  return out + name + data;
}

inline std::string forge_zip(const std::vector<ForgeEntry>& entries) {
  std::string out, central;
  for (const ForgeEntry& e : entries) {
    const auto offset =
        e.central_offset ? *e.central_offset : static_cast<std::uint32_t>(out.size());
    const std::uint32_t crc = crc32_of(e.data);
    const auto size = static_cast<std::uint32_t>(e.data.size());
    const std::string& local_name = e.local_name ? *e.local_name : e.name;
    const std::uint32_t lsize = e.local_size ? *e.local_size : size;
    if (!e.central_offset) out += local_record(local_name, e.data, e.method, crc, lsize);
    const std::uint32_t csize = e.central_size ? *e.central_size : size;
    put32(central, 0x02014b50);
    put16(central, (3u << 8) | 20u);
    put16(central, 20);
    put16(central, 0x0800);
    put16(central, e.method);
    put16(central, 0);
    put16(central, 0x0021);
    put32(central, crc);
    put32(central, csize);
    put32(central, csize);
    put16(central, static_cast<std::uint32_t>(e.name.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, e.unix_mode << 16);
    put32(central, offset);
    central += e.name;
  }
  const auto cd_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint32_t>(entries.size()));
  put16(out, static_cast<std::uint32_t>(entries.size()));
  put32(out, static_cast<std::uint32_t>(central.size()));
  put32(out, cd_offset);
  put16(out, 0);
  return out;
}

}  // namespace troupe::testing
