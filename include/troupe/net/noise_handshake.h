// NoiseHandshake: one side of a Noise_XX_25519_ChaChaPoly_BLAKE2b handshake (Noise spec rev
// 34): Noise's HandshakeState for the XX pattern only, as initiator or responder.
//
//   -> e                  (initiator; its payload travels in the clear)
//   <- e, ee, s, es       (responder; the initiator learns the responder's static key)
//   -> s, se              (initiator; the responder learns the initiator's static key)
//
// Both sides must use the same prologue (the bytes exchanged before the handshake, so that
// tampering with them fails the handshake). Once finished(), remote_static() is the peer's
// proven static key — the caller still checks that it is the key it expects — and split()
// gives the transport. Every failure (a message that is too short or too long, fails
// authentication or carries a low-order key, a call out of turn, a payload too large to
// send) is a typed error, never a crash, and leaves the handshake failed: its keys are wiped
// and every later call errors. Message sizes are capped at Noise's 65535 bytes.
//
// Move-only (a moved-from handshake may only be destroyed or assigned to); not synchronised:
// one owner drives it from one thread at a time. It keeps its own copies of the key pairs it
// is given.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/net/noise_hash.h"
#include "troupe/net/noise_key_pair.h"
#include "troupe/net/noise_symmetric_state.h"
#include "troupe/net/noise_transport.h"

namespace troupe::net {

enum class NoiseRole { kInitiator, kResponder };

class NoiseHandshake {
 public:
  static constexpr std::string_view kProtocolName = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  static constexpr std::size_t kMaxMessageSize = 65535;
  static constexpr int kMessageCount = 3;
  // The pattern's tokens (e, s, ee, es, se); defined where the pattern is.
  enum class Token : unsigned char;

  // A handshake with a fresh ephemeral key. Errors: internal (libsodium, guarded memory).
  static Result<NoiseHandshake> create(NoiseRole role, const NoiseKeyPair& local_static,
                                       BytesView prologue);
  // For tests only (the published test vectors fix the ephemeral keys): a handshake that uses
  // `ephemeral` instead of a fresh key. An ephemeral key used twice throws away forward
  // secrecy: production code calls create().
  static Result<NoiseHandshake> create_with_fixed_ephemeral_for_tests(
      NoiseRole role, const NoiseKeyPair& local_static, BytesView prologue,
      const NoiseKeyPair& ephemeral);

  // The next message this side sends, carrying `payload`. Errors: handshake-failed (not this
  // side's turn, or the handshake failed or was split earlier), frame-too-large (the message
  // would exceed kMaxMessageSize), internal.
  Result<Bytes> write_message(BytesView payload);
  // The payload of the peer's next message. Errors: malformed (too short or over
  // kMaxMessageSize), handshake-failed (not the peer's turn, authentication failed, a
  // low-order key, or the handshake failed or was split earlier).
  Result<Bytes> read_message(BytesView message);

  NoiseRole role() const { return role_; }
  // Whether the next message is this side's to write (false once finished or failed).
  bool writes_next() const;
  bool finished() const { return messages_done_ == kMessageCount && !failed_; }
  bool failed() const { return failed_; }

  // The peer's static key: after the second message for the initiator, after the third for
  // the responder; nullopt before that and after a failure.
  const std::optional<NoisePublicKey>& remote_static() const { return remote_static_; }
  // The handshake hash h, the same on both sides, for channel binding (Noise section 11.2).
  // Errors: handshake-failed (not finished).
  Result<NoiseHash> handshake_hash() const;

  // Split: the transport (this side's send and receive ciphers). Once only; the handshake's
  // keys are wiped afterwards. Errors: handshake-failed (not finished, or split already),
  // internal.
  Result<NoiseTransport> split();

 private:
  NoiseHandshake(NoiseRole role, NoiseKeyPair local_static, NoiseSymmetricState symmetric)
      : role_(role), local_static_(std::move(local_static)), symmetric_(std::move(symmetric)) {}
  // Marks the handshake failed, wipes its keys and returns `error` for the caller to pass on.
  Error fail(Error error);
  Result<void> write_token(Token token, Bytes& out);
  // Consumes the token's bytes from the front of `in`.
  Result<void> read_token(Token token, BytesView& in);
  Result<void> dh_token(Token token, bool initiator);
  // MixKey(DH(local private key, remote)), refusing an all-zero result (a low-order point).
  Result<void> mix_dh(const NoiseKeyPair& local, const NoisePublicKey& remote);
  // After the last message: keeps h for handshake_hash().
  void finish_message();

  NoiseRole role_;
  int messages_done_ = 0;
  bool failed_ = false;
  bool split_ = false;
  std::optional<NoiseKeyPair> local_static_;
  std::optional<NoiseKeyPair> local_ephemeral_;
  std::optional<NoiseSymmetricState> symmetric_;
  std::optional<NoisePublicKey> remote_ephemeral_;
  std::optional<NoisePublicKey> remote_static_;
  NoiseHash final_hash_{};
};

}  // namespace troupe::net
