#include "troupe/runtime/request.h"

#include <string>

#include "troupe/runtime/message.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {

void Request::set_timeout(TimerService* timers, TimerId id) {
  timer_seq_.store(id.seq, std::memory_order_release);
  timers_.store(timers, std::memory_order_release);
  if (done()) timers->cancel(id);  // completed while the timer was being set
}

bool Request::claim() {
  bool expected = false;
  if (!done_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return false;
  if (TimerService* t = timers_.load(std::memory_order_acquire)) {
    t->cancel(TimerId{timer_seq_.load(std::memory_order_acquire)});
  }
  return true;
}

bool Request::complete(MessagePtr reply) {
  if (!claim()) return false;
  if (reply->type != expected_) {
    deliver(Error{RuntimeErrc::kBadReply, std::string("expected reply of type ") + expected_name_ +
                                              ", got " + reply->type_name()});
  } else {
    deliver(std::move(reply));
  }
  return true;
}

bool Request::fail(Error error) {
  if (!claim()) return false;
  deliver(std::move(error));
  return true;
}

}  // namespace troupe
