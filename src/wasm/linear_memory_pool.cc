#include "linear_memory_pool.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace troupe::wasm {

namespace {

// At most this many free slots (8 GiB of address space each, no memory) and this many
// accessible bytes among them, whatever the caps allow.
constexpr std::uint32_t kMostSlots = 128;
constexpr std::uint64_t kMostRetainedBytes = std::uint64_t{512} << 20;

void unmap(std::uint8_t* base) { munmap(base, kLinearMemoryReservation); }

std::uint8_t* map_fresh(std::uint64_t bytes) {
  void* base = mmap(nullptr, kLinearMemoryReservation, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  if (bytes != 0 && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
    munmap(base, kLinearMemoryReservation);
    return nullptr;
  }
  return static_cast<std::uint8_t*>(base);
}

}  // namespace

LinearMemoryPool::~LinearMemoryPool() {
  for (const Slot& s : free_) unmap(s.base);
}

std::uint8_t* LinearMemoryPool::acquire(std::uint64_t bytes) {
  Slot slot{nullptr, 0};
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
      stats_.retained_bytes -= slot.accessible;
      ++stats_.reused;
    } else {
      ++stats_.mapped;
    }
  }
  if (slot.base == nullptr) return map_fresh(bytes);
  // Its accessible bytes are zero (reset at release); only the difference needs an mprotect,
  // and none when the slot last held the same module.
  int rc = 0;
  if (slot.accessible > bytes) {
    rc = mprotect(slot.base + bytes, slot.accessible - bytes, PROT_NONE);
  } else if (slot.accessible < bytes) {
    rc = mprotect(slot.base + slot.accessible, bytes - slot.accessible, PROT_READ | PROT_WRITE);
  }
  if (rc != 0) {
    // Its protection is now unknown: never reuse it.
    unmap(slot.base);
    {
      std::lock_guard lock(mutex_);
      ++stats_.unmapped;
    }
    return map_fresh(bytes);
  }
  return slot.base;
}

void LinearMemoryPool::release(std::uint8_t* base, std::uint64_t accessible, bool clean) {
  if (base == nullptr) return;
  bool keep = clean && accessible <= kLinearMemoryReservation;
  bool reset_failed = false;
  if (keep) {
    std::lock_guard lock(mutex_);
    // Checked before the reset, which would be wasted on a slot the pool cannot keep.
    keep = free_.size() < bounds_.max_slots &&
           stats_.retained_bytes + accessible <= bounds_.max_retained_bytes;
  }
  if (keep && accessible != 0 && !reset(base, accessible)) {
    keep = false;
    reset_failed = true;
  }
  if (keep) {
    std::lock_guard lock(mutex_);
    // Another thread may have filled the pool since.
    if (free_.size() < bounds_.max_slots &&
        stats_.retained_bytes + accessible <= bounds_.max_retained_bytes) {
      free_.push_back({base, accessible});
      stats_.retained_bytes += accessible;
      return;
    }
  }
  unmap(base);
  std::lock_guard lock(mutex_);
  ++stats_.unmapped;
  if (reset_failed) ++stats_.reset_failures;
}

bool LinearMemoryPool::reset(std::uint8_t* base, std::uint64_t accessible) {
  if (zero_touched_pages(base, accessible)) {
    resets_in_place_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // Private anonymous memory: the next read of a dropped page is a fresh zero page.
  return madvise(base, accessible, MADV_DONTNEED) == 0;
}

bool LinearMemoryPool::zero_touched_pages(std::uint8_t* base, std::uint64_t accessible) {
  // A guest that touched a few pages (the common case: its data, its stack) is reset by
  // zeroing those pages in place. madvise would cost a TLB shootdown on every CPU the node's
  // threads ran on, and the next instance would fault each page in again. The pages stay
  // resident: at most kMostZeroedPages per free slot.
  // Opened once, never closed; checked to still be that file at each use (were it closed by
  // mistake and the number reused, a read of another file must not skip a page's zeroing).
  struct Pagemap {
    int fd = -1;
    struct stat st {};
  };
  static const Pagemap pagemap = [] {
    Pagemap p;
    p.fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (p.fd >= 0 && fstat(p.fd, &p.st) != 0) p.fd = -1;
    return p;
  }();
  static const long page = sysconf(_SC_PAGESIZE);
  if (pagemap.fd < 0 || page <= 0) return false;
  struct stat now {};
  if (fstat(pagemap.fd, &now) != 0 || now.st_dev != pagemap.st.st_dev ||
      now.st_ino != pagemap.st.st_ino) {
    return false;
  }
  const auto page_bytes = static_cast<std::uint64_t>(page);
  const std::uint64_t pages = accessible / page_bytes;
  if (pages > kMostScannedPages || accessible % page_bytes != 0) return false;
  // pagemap: one 64-bit entry per virtual page; bit 63 present, bit 62 swapped. A page with
  // neither was never written (or was dropped): it reads as zero already.
  constexpr std::uint64_t kPresent = std::uint64_t{1} << 63;
  constexpr std::uint64_t kSwapped = std::uint64_t{1} << 62;
  std::uint64_t touched[kMostZeroedPages];
  std::uint64_t n_touched = 0;
  std::uint64_t entries[512];
  const std::uint64_t first = reinterpret_cast<std::uintptr_t>(base) / page_bytes;
  for (std::uint64_t i = 0; i < pages;) {
    const std::uint64_t n = std::min<std::uint64_t>(pages - i, std::size(entries));
    const auto want = static_cast<ssize_t>(n * sizeof(entries[0]));
    if (pread(pagemap.fd, entries, static_cast<std::size_t>(want),
              static_cast<off_t>((first + i) * sizeof(entries[0]))) != want) {
      return false;
    }
    for (std::uint64_t k = 0; k < n; ++k) {
      if ((entries[k] & (kPresent | kSwapped)) == 0) continue;
      if (n_touched == kMostZeroedPages) return false;  // too many: madvise is cheaper
      touched[n_touched++] = i + k;
    }
    i += n;
  }
  for (std::uint64_t k = 0; k < n_touched; ++k) {
    std::memset(base + touched[k] * page_bytes, 0, page_bytes);
  }
  return true;
}

void LinearMemoryPool::trim_locked(std::vector<Slot>& doomed) {
  while (!free_.empty() &&
         (free_.size() > bounds_.max_slots || stats_.retained_bytes > bounds_.max_retained_bytes)) {
    doomed.push_back(free_.front());  // the coldest first
    stats_.retained_bytes -= free_.front().accessible;
    free_.erase(free_.begin());
    ++stats_.unmapped;
  }
}

void LinearMemoryPool::set_bounds(MemoryPoolBounds bounds) {
  std::vector<Slot> doomed;
  {
    std::lock_guard lock(mutex_);
    bounds_ = bounds;
    trim_locked(doomed);
  }
  for (const Slot& s : doomed) unmap(s.base);
}

MemoryPoolBounds LinearMemoryPool::bounds() const {
  std::lock_guard lock(mutex_);
  return bounds_;
}

LinearMemoryPool::Stats LinearMemoryPool::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.free_slots = static_cast<std::uint32_t>(free_.size());
  s.resets_in_place = resets_in_place_.load(std::memory_order_relaxed);
  return s;
}

MemoryPoolBounds LinearMemoryPool::bounds_for(const GuestCaps& caps) {
  return {.max_slots = std::min(kMostSlots, caps.max_instances),
          .max_retained_bytes = std::min(kMostRetainedBytes, caps.max_memory_bytes)};
}

LinearMemoryPool& LinearMemoryPool::node() {
  // Never destroyed: instances may outlive statics.
  static auto* pool = new LinearMemoryPool(bounds_for(GuestCaps{}));
  return *pool;
}

}  // namespace troupe::wasm
