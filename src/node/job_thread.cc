#include "troupe/node/job_thread.h"

#include <utility>

namespace troupe {

JobThread::JobThread(std::size_t max_queued)
    : max_queued_(max_queued), thread_([this] { run(); }) {}

JobThread::~JobThread() { stop(); }

bool JobThread::post(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void JobThread::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool JobThread::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void JobThread::run() {
  for (;;) {
    Job job;
    bool cancelled = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      cancelled = stopping_;
    }
    job(cancelled);
  }
}

}  // namespace troupe
