// Completion: the result of an Operations-style completion callback, waited for (at most 30 s,
// then timed-out, so a callback never called fails the test instead of hanging it).
// One per call; the callback must not outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <future>

#include "troupe/base/result.h"

namespace troupe::testing {

template <class T>
struct Completion {
  std::promise<Result<T>> promise;
  std::function<void(Result<T>)> callback() {
    return [this](Result<T> r) { promise.set_value(std::move(r)); };
  }
  Result<T> get() {
    auto f = promise.get_future();
    if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      return Error{BaseErrc::kTimedOut, "no answer"};
    }
    return f.get();
  }
};

}  // namespace troupe::testing
