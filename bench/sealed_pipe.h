// The sealed pipe: the least a node-to-node bulk transfer has to do, as a reference for the bulk
// benchmark (mesh_bulk_vs_pipe_ratio). One process seals each 64 KiB message with libsodium's
// ChaCha20-Poly1305 (IETF) in Noise-sized pieces (at most 65,535 bytes sealed, a 2-byte length
// before each, as Noise transport messages travel) and writes them to a loopback TCP socket in
// 256 KiB batches; the other process reads them into one buffer and opens each in place, then
// answers one byte once every message is open. No handshake (a fixed key), no frames, no lanes,
// no actors, no copies: what two cipher passes and loopback TCP cost on this machine.
//
// Threading: both sides run on the calling thread, blocking; the driver's side is called with
// no other work running. Lifetime: the serving side runs until its stdin closes (ServingProcess).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.h"
#include "mesh_common.h"

namespace bench::mesh {

inline constexpr std::size_t kPipeSealedMax = 65535;  // one Noise transport message
inline constexpr std::size_t kPipeTagBytes = crypto_aead_chacha20poly1305_ietf_ABYTES;
inline constexpr std::size_t kPipeBatchBytes = std::size_t{256} << 10;

// The nonce of the n-th sealed piece: 4 zero bytes, then n little-endian (Noise's layout).
inline std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> pipe_nonce(
    std::uint64_t n) {
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<unsigned char>(n >> (8 * i));
  return nonce;
}

// The fixed key both sides use: the cipher's speed does not depend on it.
inline const unsigned char* pipe_key() {
  static const std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_KEYBYTES> key{1, 2, 3};
  return key.data();
}

// The serving side (`--serve pipe BYTES`): prints "READY PORT", accepts one connection, opens
// BYTES bytes of plaintext, answers one byte, then waits for its stdin to close.
inline int serve_sealed_pipe(long long expected) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t at_len = sizeof at;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &at_len) != 0) {
    fail("pipe: cannot listen on 127.0.0.1");
  }
  std::printf("READY %u\n", static_cast<unsigned>(ntohs(at.sin_port)));
  std::fflush(stdout);
  const int s = ::accept(listener, nullptr, nullptr);
  if (s < 0) fail("pipe: accept failed");
  std::vector<unsigned char> buffer(std::size_t{1} << 20);
  std::size_t start = 0, end = 0;
  std::uint64_t n = 0;
  long long opened = 0;
  while (opened < expected) {
    while (end - start >= 2) {
      const std::size_t len = (std::size_t{buffer[start]} << 8) | buffer[start + 1];
      if (len < kPipeTagBytes || end - start < 2 + len) break;
      unsigned long long plain = 0;
      const auto nonce = pipe_nonce(n++);
      if (crypto_aead_chacha20poly1305_ietf_decrypt(buffer.data() + start + 2, &plain, nullptr,
                                                    buffer.data() + start + 2, len, nullptr, 0,
                                                    nonce.data(), pipe_key()) != 0) {
        fail("pipe: a piece did not open");
      }
      opened += static_cast<long long>(plain);
      start += 2 + len;
    }
    if (opened >= expected) break;
    if (buffer.size() - end < 2 + kPipeSealedMax) {
      std::memmove(buffer.data(), buffer.data() + start, end - start);
      end -= start;
      start = 0;
    }
    const ssize_t got = ::read(s, buffer.data() + end, buffer.size() - end);
    if (got <= 0) fail("pipe: the sender went away");
    end += static_cast<std::size_t>(got);
  }
  if (::write(s, "k", 1) != 1) fail("pipe: cannot answer");
  serve_until_stdin_closes();
  ::close(s);
  ::close(listener);
  return 0;
}

inline void write_all(int s, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(s, p, n);
    if (put <= 0) fail("pipe: write failed");
    p += put;
    n -= static_cast<std::size_t>(put);
  }
}

// The driver's side: seals `messages` copies of `payload` to the serving side on `port`; MB/s of
// plaintext from the first seal until the answer that all are open.
inline double sealed_pipe_mb_per_s(unsigned port, const std::string& payload, int messages) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  at.sin_port = htons(static_cast<std::uint16_t>(port));
  if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
    fail("pipe: cannot connect");
  }
  const auto* plain = reinterpret_cast<const unsigned char*>(payload.data());
  std::vector<unsigned char> batch(kPipeBatchBytes + 2 + kPipeSealedMax);
  std::size_t used = 0;
  std::uint64_t n = 0;
  const double t0 = now_s();
  for (int m = 0; m < messages; ++m) {
    for (std::size_t off = 0; off < payload.size();) {
      const std::size_t piece = std::min(kPipeSealedMax - kPipeTagBytes, payload.size() - off);
      batch[used] = static_cast<unsigned char>((piece + kPipeTagBytes) >> 8);
      batch[used + 1] = static_cast<unsigned char>((piece + kPipeTagBytes) & 0xff);
      unsigned long long sealed = 0;
      const auto nonce = pipe_nonce(n++);
      crypto_aead_chacha20poly1305_ietf_encrypt(batch.data() + used + 2, &sealed, plain + off,
                                                piece, nullptr, 0, nullptr, nonce.data(),
                                                pipe_key());
      used += 2 + sealed;
      off += piece;
      if (used >= kPipeBatchBytes) {
        write_all(s, batch.data(), used);
        used = 0;
      }
    }
  }
  write_all(s, batch.data(), used);
  char answer = 0;
  if (::read(s, &answer, 1) != 1) fail("pipe: no answer");
  const double t = now_s() - t0;
  ::close(s);
  return static_cast<double>(payload.size()) * messages / t / 1e6;
}

}  // namespace bench::mesh
