/*
 * src/core/rng.h — the project's counter-based random numbers (Philox4x32-10
 * from Random123).
 *
 * Every number is a pure function of (seed, stream, i, j): no state is carried
 * from one draw to the next, so data generated in any order, on any machine,
 * split over any number of shards or threads, is the same. A stream names a
 * purpose (the line list, the training labels, the batch sampler of a split,
 * the initial weights of one tensor ...); i and j index the draw inside it.
 *
 * The Philox counter is (i low, i high, j, stream) and the key is the 64-bit
 * seed, so distinct (stream, i, j) never share a counter.
 */
#ifndef CLSCALE_CORE_RNG_H
#define CLSCALE_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct cls_rng {
  uint64_t seed;
  uint32_t stream;
} cls_rng;

static inline cls_rng cls_rng_make(uint64_t seed, uint32_t stream) {
  cls_rng r;
  r.seed = seed;
  r.stream = stream;
  return r;
}

/* The 128 raw bits of draw (i, j). */
void cls_rng_u32x4(cls_rng r, uint64_t i, uint32_t j, uint32_t out[4]);

/* 64 uniformly distributed bits (the first half of draw (i, j)). */
uint64_t cls_rng_u64(cls_rng r, uint64_t i, uint32_t j);

/* Uniform in [0, 1) with 53 random bits (a multiple of 2^-53). */
double cls_rng_uniform(cls_rng r, uint64_t i, uint32_t j);

/* Uniform in [lo, hi). */
double cls_rng_range(cls_rng r, uint64_t i, uint32_t j, double lo, double hi);

/* Standard normal by Box-Muller from the two halves of draw (i, j). */
double cls_rng_normal(cls_rng r, uint64_t i, uint32_t j);

/* An integer in [0, n) (0 when n is 0), by Lemire's multiply-shift on 64
 * random bits; the bias is below n / 2^64. */
uint64_t cls_rng_below(cls_rng r, uint64_t i, uint32_t j, uint64_t n);

/* Inverse-CDF sampling: the first index in [lo, hi] whose cumulative
 * probability cdf[index] exceeds u (hi when none in [lo, hi) does), by binary
 * search. The caller narrows [lo, hi] (a guide table) and keeps cdf
 * non-decreasing. */
static inline size_t cls_cdf_find(const double *cdf, size_t lo, size_t hi, double u) {
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] > u)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

#endif
