#include "troupe/net/noise_handshake.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <span>
#include <string>

#include "byte_span.h"
#include "troupe/net/net_error.h"

namespace troupe::net {

enum class NoiseHandshake::Token : unsigned char { kE, kS, kEE, kES, kSE };

namespace {

using Token = NoiseHandshake::Token;

constexpr std::size_t kTagSize = NoiseCipherState::kTagSize;

// The XX pattern, message by message.
constexpr std::array<Token, 1> kMessage1 = {Token::kE};
constexpr std::array<Token, 4> kMessage2 = {Token::kE, Token::kEE, Token::kS, Token::kES};
constexpr std::array<Token, 2> kMessage3 = {Token::kS, Token::kSE};

std::span<const Token> tokens_of(int message) {
  switch (message) {
    case 0:
      return kMessage1;
    case 1:
      return kMessage2;
    default:
      return kMessage3;
  }
}

// The bytes the message's tokens and payload tag add to its payload: in XX the first message
// is sent before any key exists (no tags), and the others encrypt s and the payload.
std::size_t overhead_of(int message) {
  switch (message) {
    case 0:
      return kNoiseKeySize;
    case 1:
      return kNoiseKeySize + (kNoiseKeySize + kTagSize) + kTagSize;
    default:
      return (kNoiseKeySize + kTagSize) + kTagSize;
  }
}

BytesView key_bytes(const NoisePublicKey& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

NoisePublicKey key_from(BytesView bytes) {
  NoisePublicKey key{};
  std::copy_n(bytes.begin(), key.size(), key.begin());
  return key;
}

std::string message_name(int message) { return "message " + std::to_string(message + 1); }

}  // namespace

Result<NoiseHandshake> NoiseHandshake::create(NoiseRole role, const NoiseKeyPair& local_static,
                                              BytesView prologue) {
  auto local = local_static.copy();
  if (!local.ok()) return local.error();
  auto symmetric = NoiseSymmetricState::create(kProtocolName);
  if (!symmetric.ok()) return symmetric.error();
  // XX has no pre-messages: the prologue is all that is mixed in before the first message.
  symmetric->mix_hash(prologue);
  return NoiseHandshake(role, std::move(local).value(), std::move(symmetric).value());
}

Result<NoiseHandshake> NoiseHandshake::create_with_fixed_ephemeral_for_tests(
    NoiseRole role, const NoiseKeyPair& local_static, BytesView prologue,
    const NoiseKeyPair& ephemeral) {
  auto handshake = create(role, local_static, prologue);
  if (!handshake.ok()) return handshake;
  auto fixed = ephemeral.copy();
  if (!fixed.ok()) return fixed.error();
  handshake->local_ephemeral_ = std::move(fixed).value();
  return handshake;
}

bool NoiseHandshake::writes_next() const {
  if (failed_ || messages_done_ >= kMessageCount) return false;
  // The initiator writes the first and third messages, the responder the second.
  return (messages_done_ % 2 == 0) == (role_ == NoiseRole::kInitiator);
}

Error NoiseHandshake::fail(Error error) {
  failed_ = true;
  symmetric_.reset();
  local_static_.reset();
  local_ephemeral_.reset();
  remote_ephemeral_.reset();
  remote_static_.reset();
  sodium_memzero(final_hash_.data(), final_hash_.size());
  return error;
}

Result<void> NoiseHandshake::mix_dh(const NoiseKeyPair& local, const NoisePublicKey& remote) {
  unsigned char shared[crypto_scalarmult_BYTES];
  // libsodium refuses (-1) when the result is all zeros: the peer sent a low-order point, which
  // would make the "shared secret" a constant anyone knows.
  if (crypto_scalarmult(shared, local.private_key(), remote.data()) != 0) {
    sodium_memzero(shared, sizeof shared);
    return Error{NetErrc::kHandshakeFailed, "the peer's public key is a low-order point"};
  }
  auto mixed = symmetric_->mix_key(shared);
  sodium_memzero(shared, sizeof shared);
  return mixed;
}

Result<void> NoiseHandshake::write_token(Token token, Bytes& out) {
  const bool initiator = role_ == NoiseRole::kInitiator;
  switch (token) {
    case Token::kE: {
      if (!local_ephemeral_) {
        auto fresh = NoiseKeyPair::generate();
        if (!fresh.ok()) return fresh.error();
        local_ephemeral_ = std::move(fresh).value();
      }
      const BytesView e = key_bytes(local_ephemeral_->public_key());
      out.append(e);
      symmetric_->mix_hash(e);
      return {};
    }
    case Token::kS: {
      auto sealed = symmetric_->encrypt_and_hash(key_bytes(local_static_->public_key()));
      if (!sealed.ok()) return sealed.error();
      out.append(*sealed);
      return {};
    }
    case Token::kEE:
    case Token::kES:
    case Token::kSE:
      return dh_token(token, initiator);
  }
  return Error{BaseErrc::kInternal, "unknown Noise token"};
}

// The DH tokens, the same whichever side writes: ee, es and se as Noise defines them.
Result<void> NoiseHandshake::dh_token(Token token, bool initiator) {
  switch (token) {
    case Token::kEE:
      return mix_dh(*local_ephemeral_, *remote_ephemeral_);
    case Token::kES:
      return initiator ? mix_dh(*local_ephemeral_, *remote_static_)
                       : mix_dh(*local_static_, *remote_ephemeral_);
    case Token::kSE:
      return initiator ? mix_dh(*local_static_, *remote_ephemeral_)
                       : mix_dh(*local_ephemeral_, *remote_static_);
    default:
      return Error{BaseErrc::kInternal, "not a DH token"};
  }
}

Result<void> NoiseHandshake::read_token(Token token, BytesView& in) {
  const bool initiator = role_ == NoiseRole::kInitiator;
  switch (token) {
    case Token::kE: {
      if (in.size() < kNoiseKeySize) {
        return Error{NetErrc::kMalformed, "a Noise message too short for its ephemeral key"};
      }
      const BytesView e = in.substr(0, kNoiseKeySize);
      in.remove_prefix(kNoiseKeySize);
      remote_ephemeral_ = key_from(e);
      symmetric_->mix_hash(e);
      return {};
    }
    case Token::kS: {
      const std::size_t size = kNoiseKeySize + (symmetric_->has_key() ? kTagSize : 0);
      if (in.size() < size) {
        return Error{NetErrc::kMalformed, "a Noise message too short for its static key"};
      }
      auto opened = symmetric_->decrypt_and_hash(in.substr(0, size));
      if (!opened.ok()) {
        return Error{NetErrc::kHandshakeFailed, "the peer's static key failed authentication"};
      }
      in.remove_prefix(size);
      remote_static_ = key_from(*opened);
      return {};
    }
    case Token::kEE:
    case Token::kES:
    case Token::kSE:
      return dh_token(token, initiator);
  }
  return Error{BaseErrc::kInternal, "unknown Noise token"};
}

void NoiseHandshake::finish_message() {
  ++messages_done_;
  if (messages_done_ == kMessageCount) final_hash_ = symmetric_->handshake_hash();
}

Result<Bytes> NoiseHandshake::write_message(BytesView payload) {
  if (failed_) return Error{NetErrc::kHandshakeFailed, "the Noise handshake failed earlier"};
  if (split_) return Error{NetErrc::kHandshakeFailed, "the Noise handshake is already split"};
  if (!writes_next()) {
    return fail(Error{NetErrc::kHandshakeFailed,
                      messages_done_ >= kMessageCount
                          ? "the Noise handshake is finished: nothing more to write"
                          : "not this side's turn to write (" + message_name(messages_done_) +
                                " is the peer's)"});
  }
  const std::size_t overhead = overhead_of(messages_done_);
  if (payload.size() > kMaxMessageSize - overhead) {
    return fail(Error{NetErrc::kFrameTooLarge,
                      "a Noise handshake payload of " + std::to_string(payload.size()) +
                          " bytes (at most " + std::to_string(kMaxMessageSize - overhead) + " in " +
                          message_name(messages_done_) + ")"});
  }
  Bytes out;
  out.reserve(overhead + payload.size());
  for (Token token : tokens_of(messages_done_)) {
    if (auto ok = write_token(token, out); !ok.ok()) return fail(ok.error());
  }
  auto sealed = symmetric_->encrypt_and_hash(payload);
  if (!sealed.ok()) return fail(sealed.error());
  out.append(*sealed);
  finish_message();
  return out;
}

Result<Bytes> NoiseHandshake::read_message(BytesView message) {
  if (failed_) return Error{NetErrc::kHandshakeFailed, "the Noise handshake failed earlier"};
  if (split_) return Error{NetErrc::kHandshakeFailed, "the Noise handshake is already split"};
  if (messages_done_ >= kMessageCount || writes_next()) {
    return fail(Error{NetErrc::kHandshakeFailed,
                      messages_done_ >= kMessageCount
                          ? "the Noise handshake is finished: no message to read"
                          : "not the peer's turn to write (" + message_name(messages_done_) +
                                " is this side's)"});
  }
  const std::size_t min_size = overhead_of(messages_done_);
  if (message.size() < min_size || message.size() > kMaxMessageSize) {
    return fail(Error{NetErrc::kMalformed, "Noise handshake " + message_name(messages_done_) +
                                               " of " + std::to_string(message.size()) +
                                               " bytes (" + std::to_string(min_size) +
                                               " to 65535)"});
  }
  BytesView rest = message;
  for (Token token : tokens_of(messages_done_)) {
    if (auto ok = read_token(token, rest); !ok.ok()) return fail(ok.error());
  }
  auto payload = symmetric_->decrypt_and_hash(rest);
  if (!payload.ok()) {
    return fail(Error{NetErrc::kHandshakeFailed,
                      "the payload of " + message_name(messages_done_) +
                          " failed authentication (a different key, prologue or transcript)"});
  }
  finish_message();
  return payload;
}

Result<NoiseHash> NoiseHandshake::handshake_hash() const {
  if (!finished()) return Error{NetErrc::kHandshakeFailed, "the Noise handshake is not finished"};
  return final_hash_;
}

Result<NoiseTransport> NoiseHandshake::split() {
  if (failed_) return Error{NetErrc::kHandshakeFailed, "the Noise handshake failed earlier"};
  if (split_) return Error{NetErrc::kHandshakeFailed, "the Noise handshake is already split"};
  if (!finished()) {
    return fail(Error{NetErrc::kHandshakeFailed, "split before the Noise handshake finished"});
  }
  auto ciphers = symmetric_->split();
  if (!ciphers.ok()) return fail(ciphers.error());
  split_ = true;
  // The handshake's secrets are no longer needed: only h and the peer's static key stay.
  symmetric_.reset();
  local_static_.reset();
  local_ephemeral_.reset();
  remote_ephemeral_.reset();
  auto& [initiator_to_responder, responder_to_initiator] = *ciphers;
  if (role_ == NoiseRole::kInitiator) {
    return NoiseTransport(std::move(initiator_to_responder), std::move(responder_to_initiator));
  }
  return NoiseTransport(std::move(responder_to_initiator), std::move(initiator_to_responder));
}

}  // namespace troupe::net
