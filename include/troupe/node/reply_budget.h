// ReplyBudget: a node-wide cap on the reply bytes the node holds for its clients (the CLI now,
// the gateway later) between an ask's reply arriving and the client having been sent it.
// Without it, 30 concurrent asks that each return a 16 MiB guest reply make the node hold
// ~1.1 GB. A reply that would pass the cap is refused at arrival, never buffered.
// Thread-safe. A Hold may outlive the budget that gave it (it shares the counter).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace troupe {

class ReplyBudget {
 public:
  // Bytes reserved until destroyed (or moved from); an empty Hold reserves nothing.
  class Hold {
   public:
    Hold() = default;
    Hold(Hold&& other) noexcept;
    Hold& operator=(Hold&& other) noexcept;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold();
    std::size_t bytes() const { return bytes_; }

   private:
    friend class ReplyBudget;
    Hold(std::shared_ptr<std::atomic<std::size_t>> held, std::size_t bytes);
    std::shared_ptr<std::atomic<std::size_t>> held_;
    std::size_t bytes_ = 0;
  };

  explicit ReplyBudget(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // A hold on `bytes`, or false (nothing reserved) when the holds would pass max_bytes().
  bool try_reserve(std::size_t bytes, Hold& out);
  // `more` bytes added to `hold` (one of this budget's, or empty), or false (it is unchanged)
  // when the holds would pass max_bytes().
  bool try_grow(Hold& hold, std::size_t more);
  std::size_t held() const { return held_->load(); }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  const std::size_t max_bytes_;
  std::shared_ptr<std::atomic<std::size_t>> held_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace troupe
