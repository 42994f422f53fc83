// JobThread: one thread that runs posted jobs in order, for slow work that must not run on
// the control I/O thread (reading, validating and AOT-compiling a module for `spawn --wasm`)
// nor on a worker (a compile would hold it for seconds). The queue is bounded: post() refuses
// past the bound, so a flood of requests cannot pile up work. stop() (and the destructor) runs
// every queued job with cancelled = true, waits for the running one, and joins. post() and
// stop() may be called from any thread; jobs must not call stop().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace troupe {

class JobThread {
 public:
  using Job = std::function<void(bool cancelled)>;

  explicit JobThread(std::size_t max_queued);
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // False (and the job is dropped uncalled) when max_queued jobs wait already, or after stop().
  bool post(Job job);
  void stop();
  // True once stop() has begun: no job is taken any more.
  bool stopping() const;
  std::size_t max_queued() const { return max_queued_; }

 private:
  void run();

  const std::size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace troupe
