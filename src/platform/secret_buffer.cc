#include "troupe/platform/secret_buffer.h"

#include <sodium.h>

namespace troupe {

Result<void> ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) return Error{BaseErrc::kInternal, "libsodium failed to initialise"};
  return {};
}

Result<SecretBuffer> SecretBuffer::allocate(std::size_t size) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  SecretBuffer out;
  // sodium_malloc(0) still maps guard pages; one byte keeps data() non-null either way.
  out.bytes_ = static_cast<unsigned char*>(sodium_malloc(size == 0 ? 1 : size));
  if (out.bytes_ == nullptr) {
    return Error{BaseErrc::kInternal,
                 "sodium_malloc of " + std::to_string(size) + " bytes for a secret failed"};
  }
  out.size_ = size;
  return out;
}

SecretBuffer::~SecretBuffer() { sodium_free(bytes_); }

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& other) noexcept {
  if (this != &other) {
    sodium_free(bytes_);
    bytes_ = std::exchange(other.bytes_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

}  // namespace troupe
