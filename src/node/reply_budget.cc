#include "troupe/node/reply_budget.h"

#include <utility>

namespace troupe {

ReplyBudget::Hold::Hold(std::shared_ptr<std::atomic<std::size_t>> held, std::size_t bytes)
    : held_(std::move(held)), bytes_(bytes) {}

ReplyBudget::Hold::Hold(Hold&& other) noexcept
    : held_(std::move(other.held_)), bytes_(std::exchange(other.bytes_, 0)) {}

ReplyBudget::Hold& ReplyBudget::Hold::operator=(Hold&& other) noexcept {
  if (this != &other) {
    if (held_) held_->fetch_sub(bytes_);
    held_ = std::move(other.held_);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

ReplyBudget::Hold::~Hold() {
  if (held_) held_->fetch_sub(bytes_);
}

bool ReplyBudget::try_grow(Hold& hold, std::size_t more) {
  if (!hold.held_) return try_reserve(more, hold);
  std::size_t now = held_->load();
  do {
    if (more > max_bytes_ || now > max_bytes_ - more) return false;
  } while (!held_->compare_exchange_weak(now, now + more));
  hold.bytes_ += more;
  return true;
}

bool ReplyBudget::try_reserve(std::size_t bytes, Hold& out) {
  std::size_t now = held_->load();
  do {
    if (bytes > max_bytes_ || now > max_bytes_ - bytes) return false;
  } while (!held_->compare_exchange_weak(now, now + bytes));
  out = Hold(held_, bytes);
  return true;
}

}  // namespace troupe
