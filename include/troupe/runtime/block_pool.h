// BlockPool: the allocator behind every Message and ActorCell. Messages are allocated on one
// thread and freed on another (producer -> consumer), the worst case for malloc, and cells are
// created by the million. Each thread keeps a free list per size class; a thread that frees more
// than it allocates hands full batches to a shared depot, and a thread that runs dry takes a
// batch back: one lock per batch. Blocks of 64 bytes and more are 64-byte aligned, so a cell's
// cache-line layout holds. Memory is kept for reuse, never returned to the system (bounded by
// the peak number of live blocks). Thread-safe; a thread's cache goes back to the depot when
// the thread exits.
#pragma once

#include <cstddef>

namespace troupe::block_pool {

inline constexpr std::size_t kMaxBlock = 384;

// Sizes above kMaxBlock fall through to the global operator new (64-byte aligned).
void* allocate(std::size_t size);
void deallocate(void* p, std::size_t size) noexcept;

}  // namespace troupe::block_pool
