// SecretBuffer: a fixed-size buffer for key material, in libsodium's guarded memory
// (sodium_malloc: locked in RAM where the memlock limit allows, fenced by guard pages, a canary
// checked on free) and wiped when freed, so a secret never sits in the ordinary heap or reaches
// swap or a core dump through a stray copy. Move-only; the bytes stay at one address for the
// buffer's lifetime. Not synchronised: its owner decides who reads and writes it.
#pragma once

#include <cstddef>
#include <utility>

#include "troupe/base/result.h"

namespace troupe {

class SecretBuffer {
 public:
  // Errors: internal (libsodium failed to initialise or sodium_malloc returned no memory).
  static Result<SecretBuffer> allocate(std::size_t size);

  SecretBuffer() = default;
  ~SecretBuffer();
  SecretBuffer(SecretBuffer&& other) noexcept
      : bytes_(std::exchange(other.bytes_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  SecretBuffer& operator=(SecretBuffer&& other) noexcept;
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  unsigned char* data() { return bytes_; }
  const unsigned char* data() const { return bytes_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  unsigned char* bytes_ = nullptr;
  std::size_t size_ = 0;
};

// libsodium's one-time initialisation; every platform entry point that uses it calls this.
// Errors: internal.
Result<void> ensure_sodium();

}  // namespace troupe
