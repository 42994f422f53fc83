#include "troupe/runtime/block_pool.h"

#include <array>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace troupe::block_pool {
namespace {

constexpr std::size_t kClasses = 8;
// From 64 bytes up, multiples of 64: carved from 64-aligned chunks, every block stays aligned.
constexpr std::array<std::size_t, kClasses> kSizes = {32, 48, 64, 128, 192, 256, 320, kMaxBlock};
constexpr std::align_val_t kAlign{64};
constexpr std::size_t kBatch = 512;           // blocks moved to/from the depot at once
constexpr std::size_t kChunkBytes = 1 << 16;  // carved into blocks when the depot is empty

struct Block {
  Block* next;
};

// A singly linked list of blocks with its length.
struct List {
  Block* head = nullptr;
  std::size_t count = 0;
  void push(Block* b) {
    b->next = head;
    head = b;
    ++count;
  }
  Block* pop() {
    Block* b = head;
    head = b->next;
    --count;
    return b;
  }
};

std::size_t class_of(std::size_t size) {
  for (std::size_t c = 0; c < kClasses; ++c) {
    if (size <= kSizes[c]) return c;
  }
  return kClasses;
}

class Depot {
 public:
  // A full batch of blocks of class c (never empty).
  List take(std::size_t c) {
    {
      std::lock_guard lock(mutex_);
      auto& batches = batches_[c];
      if (!batches.empty()) {
        List l = batches.back();
        batches.pop_back();
        return l;
      }
    }
    return carve(c);
  }
  void give(std::size_t c, List l) {
    if (l.count == 0) return;
    std::lock_guard lock(mutex_);
    batches_[c].push_back(l);
  }

 private:
  static List carve(std::size_t c) {
    const std::size_t size = kSizes[c];
    auto* chunk = static_cast<char*>(::operator new(kChunkBytes, kAlign));  // kept for good
    List l;
    for (std::size_t off = 0; off + size <= kChunkBytes; off += size) {
      l.push(reinterpret_cast<Block*>(chunk + off));
    }
    return l;
  }
  std::mutex mutex_;
  std::array<std::vector<List>, kClasses> batches_;
};

Depot& depot() {
  static Depot* d = new Depot();  // outlives every thread's cache, never destroyed
  return *d;
}

struct ThreadCache {
  std::array<List, kClasses> free;
  ~ThreadCache() {
    for (std::size_t c = 0; c < kClasses; ++c) depot().give(c, free[c]);
  }
};

thread_local ThreadCache t_cache;

}  // namespace

void* allocate(std::size_t size) {
  std::size_t c = class_of(size);
  if (c == kClasses) return ::operator new(size, kAlign);
  List& l = t_cache.free[c];
  if (l.count == 0) l = depot().take(c);
  return l.pop();
}

void deallocate(void* p, std::size_t size) noexcept {
  std::size_t c = class_of(size);
  if (c == kClasses) {
    ::operator delete(p, kAlign);
    return;
  }
  List& l = t_cache.free[c];
  l.push(static_cast<Block*>(p));
  if (l.count >= 2 * kBatch) {
    List out;
    while (out.count < kBatch) out.push(l.pop());
    depot().give(c, out);
  }
}

}  // namespace troupe::block_pool
