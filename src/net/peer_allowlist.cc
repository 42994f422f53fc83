#include "troupe/net/peer_allowlist.h"

#include <sodium.h>

#include "troupe/base/error.h"

namespace troupe::net {

Result<NodeKey> parse_node_key(std::string_view text) {
  constexpr std::size_t kTextBytes =
      sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL) - 1;
  auto refuse = [&] {
    std::string shown;
    for (char c : text.substr(0, 60)) shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    return Error{BaseErrc::kInvalidArgument,
                 "node key '" + shown + "': want the 44-character base64 `troupe node id` prints"};
  };
  if (text.size() != kTextBytes) return refuse();
  NodeKey key{};
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &decoded, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      decoded != key.size() || end != text.data() + text.size()) {
    return refuse();
  }
  // Only the canonical spelling: two texts for one key would make lists disagree on sight.
  if (node_key_text(key) != text) return refuse();
  return key;
}

std::string node_key_text(const NodeKey& key) {
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

Result<bool> PeerAllowlist::add(const NodeKey& key) {
  std::unique_lock lock(mutex_);
  if (keys_.contains(key)) return false;
  if (keys_.size() >= kMaxKeys) {
    return Error{BaseErrc::kTooLarge,
                 "the allowlist holds " + std::to_string(kMaxKeys) + " keys already"};
  }
  keys_.insert(key);
  return true;
}

bool PeerAllowlist::remove(const NodeKey& key) {
  std::unique_lock lock(mutex_);
  return keys_.erase(key) > 0;
}

bool PeerAllowlist::contains(const NodeKey& key) const {
  std::shared_lock lock(mutex_);
  return keys_.contains(key);
}

std::vector<NodeKey> PeerAllowlist::keys() const {
  std::shared_lock lock(mutex_);
  return {keys_.begin(), keys_.end()};
}

std::size_t PeerAllowlist::size() const {
  std::shared_lock lock(mutex_);
  return keys_.size();
}

}  // namespace troupe::net
