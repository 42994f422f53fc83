/* The compute benchmark's kernel: the same C source built natively (bench/wasm_bench) and for
 * wasm32 (bench/guests/compute.c), to compare the tiers against native code. Per round: a
 * sieve of Eratosthenes over 16 KiB (byte loads and stores), a 24x24 double matrix product
 * (floating point) and 4096 steps of xorshift hashing (integer arithmetic). Returns a
 * checksum, so both builds can be checked to compute the same thing. */
#ifndef TROUPE_BENCH_COMPUTE_KERNEL_H_
#define TROUPE_BENCH_COMPUTE_KERNEL_H_

#include <stdint.h>

#define KERNEL_SIEVE 16384
#define KERNEL_N 24

static uint64_t compute_kernel(uint32_t rounds) {
  static uint8_t sieve[KERNEL_SIEVE];
  static double a[KERNEL_N][KERNEL_N], b[KERNEL_N][KERNEL_N], c[KERNEL_N][KERNEL_N];
  uint64_t sum = 0, x = 88172645463325252ull;
  for (uint32_t r = 0; r < rounds; ++r) {
    for (uint32_t i = 0; i < KERNEL_SIEVE; ++i) sieve[i] = 1;
    uint32_t primes = 0;
    for (uint32_t i = 2; i < KERNEL_SIEVE; ++i) {
      if (!sieve[i]) continue;
      ++primes;
      for (uint32_t j = i * 2; j < KERNEL_SIEVE; j += i) sieve[j] = 0;
    }
    for (int i = 0; i < KERNEL_N; ++i) {
      for (int j = 0; j < KERNEL_N; ++j) {
        a[i][j] = (double)((i + j + r) % 7) * 0.5;
        b[i][j] = (double)((i * j + r) % 5) * 0.25;
      }
    }
    for (int i = 0; i < KERNEL_N; ++i) {
      for (int j = 0; j < KERNEL_N; ++j) {
        double s = 0;
        for (int k = 0; k < KERNEL_N; ++k) s += a[i][k] * b[k][j];
        c[i][j] = s;
      }
    }
    for (int i = 0; i < 4096; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    sum += primes + (uint64_t)c[r % KERNEL_N][(r * 7) % KERNEL_N] + (x & 0xffff);
  }
  return sum;
}

#endif /* TROUPE_BENCH_COMPUTE_KERNEL_H_ */
