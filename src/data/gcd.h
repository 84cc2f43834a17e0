/*
 * src/data/gcd.h — the greatest-common-divisor task's data (Charton,
 * "Learning the greatest common divisor: explaining transformer
 * predictions", arXiv 2308.15594): pairs (a, b) drawn uniformly from
 * [1, bound]^2, written in base B as tokens, with their gcd as the answer.
 *
 * Tokens: the digits 0 .. B-1 are themselves; then '+' (B, the sign that
 * opens each number, as in Charton's encoding, so it also separates a
 * from b), '=' (B + 1, the end of the question), end-of-sequence (B + 2)
 * and padding (B + 3): a vocabulary of B + 4. A sequence is
 *
 *   + a_1 .. a_m + b_1 .. b_n = g_1 .. g_k EOS PAD ..
 *
 * with the digits most significant first and no leading zeros, padded at
 * the end to the length of the longest one (3 d + 4 tokens for d the
 * digits of the bound), so that every example of a batch has one length.
 * The answer is g's digits and EOS: a model predicts them from the '='
 * on, and gets a pair right when it predicts all of them.
 *
 * Randomness is Philox (core/rng.h): pair i of (seed, stream) is a pure
 * function of them. P(gcd = k) tends to 6 / (pi^2 k^2); for a finite
 * bound the exact law is counted by cls_gcd_distribution.
 */
#ifndef CLSCALE_DATA_GCD_H
#define CLSCALE_DATA_GCD_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

/* Limits: the vocabulary (B + 4) stays far below the 2^24 ids that are
 * exact floats, and a, b fit 53 bits (exact as JSON numbers). */
#define CLS_GCD_MAX_BASE  ((uint64_t)1 << 20)
#define CLS_GCD_MAX_BOUND ((uint64_t)1 << 53)

/* The layout of a base and bound. */
typedef struct cls_gcd_format {
  uint64_t base, bound;
  size_t digits; /* of the bound in base B: the most any number has */
  size_t length; /* tokens of a padded sequence: 3 digits + 4 */
  size_t vocab;  /* B + 4 */
  int32_t plus, eq, eos, pad;
} cls_gcd_format;

/* The format of base and bound: CLS_OK, or CLS_ERR_INVALID_VALUE with a
 * message for a base outside [2, CLS_GCD_MAX_BASE] or a bound outside
 * [1, CLS_GCD_MAX_BOUND]. */
cls_status cls_gcd_format_make(uint64_t base, uint64_t bound, cls_gcd_format *f, char *err, size_t err_len);

/* Digits of n >= 1 in base >= 2 (1 for n = 0). */
size_t cls_gcd_digits(uint64_t n, uint64_t base);

/* gcd(a, b) (Euclid); gcd(0, b) = b. */
uint64_t cls_gcd(uint64_t a, uint64_t b);

/* A question and its answer. */
typedef struct cls_gcd_pair {
  uint64_t a, b, g;
} cls_gcd_pair;

/* Pair i of (seed, stream): a and b uniform in [1, bound], g their gcd. */
cls_gcd_pair cls_gcd_sample(uint64_t bound, uint64_t seed, uint32_t stream, uint64_t i);

/* Writes the f->length tokens of (a, b) with the answer g (a, b, g in
 * [1, bound]; g need not be their gcd: a corpus of a model's answers
 * holds wrong ones) into seq and returns the position of '=' (the answer
 * takes positions eq + 1 .. eq + k + 1, EOS last). */
size_t cls_gcd_encode(const cls_gcd_format *f, const cls_gcd_pair *p, int32_t *seq);

/* Reads a sequence of f->length tokens back: CLS_OK with the pair, or
 * CLS_ERR_FORMAT with the position and reason in err (a token out of
 * place, a leading zero, a number outside [1, bound], padding that is not
 * padding). */
cls_status cls_gcd_decode(const cls_gcd_format *f, const int32_t *seq, cls_gcd_pair *p, char *err, size_t err_len);

/* The exact law of the gcd of two independent uniform numbers in
 * [1, bound]: p[k - 1] = P(gcd = k) for k = 1 .. kmax (kmax <= bound), by
 * counting the pairs (Moebius inversion: the pairs with gcd k are the
 * coprime pairs of [1, bound / k]^2). Time and memory O(bound):
 * CLS_ERR_INVALID_SIZE above bound 2^26, CLS_ERR_OUT_OF_MEMORY. */
cls_status cls_gcd_distribution(uint64_t bound, size_t kmax, double *p, char *err, size_t err_len);

/* The limit of P(gcd = k) as the bound grows: 6 / (pi^2 k^2). */
double cls_gcd_asymptote(uint64_t k);

/* ------------------------------------------------------ pair sources */

/* Where a task's training pairs come from: the real sampler (an endless
 * stream, or its first n pairs as a fixed training set) or a corpus of
 * pairs held in memory (a previous model's answers, to come). Pair i of a
 * source is a pure function of the source and i. */
typedef enum { CLS_GCD_SOURCE_REAL = 0, CLS_GCD_SOURCE_PAIRS = 1 } cls_gcd_source_kind;

typedef struct cls_gcd_source {
  cls_gcd_source_kind kind;
  /* REAL: pairs of (seed, stream) up to bound; PAIRS: the array */
  uint64_t bound, seed;
  uint32_t stream;
  const cls_gcd_pair *pairs;
  size_t n; /* pairs in the source; 0: endless (REAL only) */
} cls_gcd_source;

cls_gcd_source cls_gcd_source_real(uint64_t bound, uint64_t seed, uint32_t stream, size_t n);
cls_gcd_source cls_gcd_source_pairs(const cls_gcd_pair *pairs, size_t n);

/* Pair i (i < n for a finite source; a PAIRS source wraps around). */
cls_gcd_pair cls_gcd_source_get(const cls_gcd_source *s, uint64_t i);

#endif
