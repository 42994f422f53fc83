#include "troupe/node/credential_renewal_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <utility>

namespace troupe {

CredentialRenewalLoop::CredentialRenewalLoop(ActorIdentities& identities, OnEvent on_event,
                                             IsAlive is_alive, Options options)
    : identities_(identities),
      on_event_(std::move(on_event)),
      is_alive_(std::move(is_alive)),
      options_(options),
      thread_([this] { run(); }) {}

CredentialRenewalLoop::~CredentialRenewalLoop() { stop(); }

void CredentialRenewalLoop::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_one();
}

void CredentialRenewalLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void CredentialRenewalLoop::pass() {
  // Each event on its own: a callback that throws loses its own event (logged), never the
  // others' (their credentials are renewed already, and no later pass reports them again).
  for (const IdentityEvent& e : identities_.renew_due()) {
    try {
      on_event_(e);
    } catch (const std::exception& ex) {
      spdlog::error("actor {}: credential event not handled: {}", e.actor.to_string(), ex.what());
    }
  }
  for (ActorId id : identities_.actors()) {
    if (!is_alive_(id)) identities_.forget(id);
  }
  identities_.remove_forgotten_keys();
}

void CredentialRenewalLoop::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      pass();
    } catch (const std::exception& e) {
      // A failing pass must not end renewal for every actor: log it, try again next time.
      spdlog::error("credential renewal pass failed: {}", e.what());
    }
    const std::int64_t next = identities_.next_check();
    const std::int64_t now = identities_.now();
    std::chrono::milliseconds wait = options_.max_wait;
    if (next != std::numeric_limits<std::int64_t>::max()) {
      const std::int64_t seconds = std::clamp<std::int64_t>(next - now, 0, 3600);
      wait = std::min(wait, std::chrono::milliseconds(seconds * 1000));
    }
    wait = std::max(wait, options_.min_wait);
    lock.lock();
    cv_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

}  // namespace troupe
