/*
 * src/core/rng.c — Philox4x32-10 draws; see rng.h.
 */
#include "core/rng.h"

#include <math.h>

#include <Random123/philox.h>

void cls_rng_u32x4(cls_rng r, uint64_t i, uint32_t j, uint32_t out[4]) {
  philox4x32_ctr_t c = {{(uint32_t)i, (uint32_t)(i >> 32), j, r.stream}};
  philox4x32_key_t k = {{(uint32_t)r.seed, (uint32_t)(r.seed >> 32)}};
  philox4x32_ctr_t x = philox4x32(c, k);
  for (int q = 0; q < 4; q++) out[q] = x.v[q];
}

static double to_unit(uint32_t hi, uint32_t lo) {
  /* 53 bits: 27 from hi (top), 26 from lo. Exact in a double. */
  uint64_t m = ((uint64_t)(hi >> 5) << 26) | (uint64_t)(lo >> 6);
  return (double)m * (1.0 / 9007199254740992.0);
}

uint64_t cls_rng_u64(cls_rng r, uint64_t i, uint32_t j) {
  uint32_t w[4];
  cls_rng_u32x4(r, i, j, w);
  return ((uint64_t)w[0] << 32) | w[1];
}

double cls_rng_uniform(cls_rng r, uint64_t i, uint32_t j) {
  uint32_t w[4];
  cls_rng_u32x4(r, i, j, w);
  return to_unit(w[0], w[1]);
}

double cls_rng_range(cls_rng r, uint64_t i, uint32_t j, double lo, double hi) {
  return lo + (hi - lo) * cls_rng_uniform(r, i, j);
}

double cls_rng_normal(cls_rng r, uint64_t i, uint32_t j) {
  uint32_t w[4];
  cls_rng_u32x4(r, i, j, w);
  /* 1 - u lies in (0, 1], so the logarithm is finite. */
  double u1 = 1.0 - to_unit(w[0], w[1]);
  double u2 = to_unit(w[2], w[3]);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t cls_rng_below(cls_rng r, uint64_t i, uint32_t j, uint64_t n) {
  /* The high 64 bits of x * n, computed from 32-bit halves (no __int128 in
   * strict C11): floor(x * n / 2^64) lies in [0, n). */
  uint64_t x = cls_rng_u64(r, i, j);
  uint64_t xh = x >> 32, xl = x & 0xffffffffu, nh = n >> 32, nl = n & 0xffffffffu;
  uint64_t ll = xl * nl, lh = xl * nh, hl = xh * nl, hh = xh * nh;
  uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}
