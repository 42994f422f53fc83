#include "troupe/runtime/spin_lock.h"

#include <thread>

namespace troupe {

void SpinLock::wait_and_lock() {
  unsigned spins = 0;
  do {
    while (flag_.load(std::memory_order_relaxed)) {
      if (++spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  } while (flag_.exchange(true, std::memory_order_acquire));
}

}  // namespace troupe
