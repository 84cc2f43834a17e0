/*
 * src/data/memoriser.h — the Zipf memoriser of "A Tale of Tails" (arXiv
 * 2402.07043; Hutter, "Learning Curve Theory", 2021): its data sources, the
 * simulated learning curve and the exact expectation of its error.
 *
 * V items have the real distribution p_i = i^-beta / H (i = 1..V, H the sum
 * of i^-beta). A learner memorises every item it has seen among T training
 * samples drawn from a source q; its test error is the real mass of the items
 * it has not seen, err = sum_{i unseen} p_i, computed exactly from what it has
 * seen (no test sampling). The sources q:
 *   real      q = p
 *   cut       q_i = p_i / P_k for i <= k, 0 beyond (P_k the head's mass)
 *   narrowed  q_i = i^-beta' / H' with beta' > beta (a thinner tail)
 *   fitted    q_i = c_i / T0: the empirical distribution of T0 samples of p
 * and, for any of them, a mix with a fraction pi of real data:
 * q = pi p + (1 - pi) q_source (pi = 0: the source alone).
 *
 * Training sample t (t = 0, 1, ...) is a pure function of (seed, t): the
 * Philox draw (t / 2) of the training stream, half t % 2, mapped through the
 * inverse CDF of q. The same seed gives bitwise the same samples, and a
 * learning curve can be extended (learn further) or resumed (replay) at will.
 * The fitted source's T0 samples come the same way from `fit_seed`.
 *
 * Memory: 8 bytes per item for p, 8 for q (except the real source, whose q is
 * p), 8 for the cumulative q, 4 per guide-table entry (at most 2^20) and one
 * bit per item for a learner; cls_memoriser_bytes() says how much before
 * anything is allocated. V = 1e7: 244 MB for a non-real source (164 MB real)
 * plus 1.25 MB per learner; building a fitted source takes 4 bytes per item
 * more while it counts.
 *
 * Nothing here prints, exits or aborts: failures return a cls_status with a
 * one-line message in err (when err is not NULL) that names the field.
 * A memoriser is read-only after creation, so several threads may sample
 * from it and run learners of their own at once.
 */
#ifndef CLSCALE_DATA_MEMORISER_H
#define CLSCALE_DATA_MEMORISER_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

typedef enum cls_memoriser_kind {
  CLS_MEMORISER_REAL = 0,
  CLS_MEMORISER_CUT = 1,
  CLS_MEMORISER_NARROWED = 2,
  CLS_MEMORISER_FITTED = 3
} cls_memoriser_kind;

/* "real", "cut", "narrowed", "fitted"; NULL for anything else. */
const char *cls_memoriser_kind_name(cls_memoriser_kind kind);

typedef struct cls_memoriser_config {
  cls_memoriser_kind kind;
  double beta;          /* real exponent, > 1 */
  uint64_t vocab;       /* V: number of items, 1 .. 2^32 - 1 */
  uint64_t cut;         /* k (cut): items 1..k are kept, 1 <= k <= V */
  double beta_narrow;   /* beta' (narrowed): > beta */
  uint64_t fit_samples; /* T0 (fitted): real samples the generator is fitted to, 1 .. 2^32 - 1 */
  double real_fraction; /* pi: the fraction of real data mixed in, in [0, 1] */
  uint64_t seed;        /* training samples */
  uint64_t fit_seed;    /* the fitted source's T0 samples */
  size_t max_bytes;     /* refuse a memoriser whose tables exceed this (0: no limit) */
} cls_memoriser_config;

/* kind real, beta 1.5, V 10^6, k = V, beta' 2, T0 10^6, pi 0, seeds 1,
 * no memory limit. */
void cls_memoriser_config_default(cls_memoriser_config *cfg);

/* Checks every field (NaN anywhere, beta <= 1, beta' <= beta for narrowed,
 * k outside [1, V] for cut, T0 of zero for fitted, pi outside [0, 1], V of
 * zero or beyond 2^32 - 1, tables beyond `max_bytes`). CLS_ERR_INVALID_VALUE
 * or CLS_ERR_INVALID_SIZE with the field named in backquotes. */
cls_status cls_memoriser_config_check(const cls_memoriser_config *cfg, char *err, size_t err_len);

/* The bytes the memoriser's tables take (peak, while it is built), and those
 * of one learner; 0 when V is 0 or the size overflows. */
size_t cls_memoriser_bytes(const cls_memoriser_config *cfg);
size_t cls_memoriser_learner_bytes(uint64_t vocab);

typedef struct cls_memoriser cls_memoriser;

/* Builds p, the source's q (drawing the T0 samples of a fitted source) and
 * the sampling tables. CLS_ERR_OUT_OF_MEMORY names the bytes it asked for. */
cls_status cls_memoriser_create(const cls_memoriser_config *cfg, cls_memoriser **out, char *err, size_t err_len);
void cls_memoriser_destroy(cls_memoriser *m);

const cls_memoriser_config *cls_memoriser_config_of(const cls_memoriser *m);
/* p[0..V) and q[0..V): item i + 1's real and source probability. */
const double *cls_memoriser_p(const cls_memoriser *m);
const double *cls_memoriser_q(const cls_memoriser *m);
/* The real mass of the items the source never produces (q_i = 0): the floor
 * under which the error cannot go (the cut's tail, the fitted source's
 * unseen items; 0 with any real data mixed in). */
double cls_memoriser_floor(const cls_memoriser *m);

/* Training samples first .. first + n - 1 of `seed` as items 0..V-1 (item i
 * is rank i + 1). */
cls_status cls_memoriser_sample(const cls_memoriser *m, uint64_t seed, uint64_t first, size_t n, uint32_t *items,
                                char *err, size_t err_len);

/* The exact expectation E(T) = sum_i p_i (1 - q_i)^T at T[0..n) (each >= 1,
 * finite), into expected[0..n); when var_bound is not NULL, the upper bound
 * sum_i p_i^2 a_i (1 - a_i), a_i = (1 - q_i)^T, of the error's variance (the
 * "unseen" events of a multinomial sample are negatively correlated, so the
 * covariances only lower it). */
cls_status cls_memoriser_expected(const cls_memoriser *m, const double *T, size_t n, double *expected,
                                  double *var_bound, char *err, size_t err_len);

/* ---------------------------------------------------------------- learner */

/* What a learner has seen after its first t samples of one seed. */
typedef struct cls_memoriser_learner cls_memoriser_learner;

cls_status cls_memoriser_learner_create(const cls_memoriser *m, uint64_t seed, cls_memoriser_learner **out,
                                        char *err, size_t err_len);
void cls_memoriser_learner_destroy(cls_memoriser_learner *l);

/* Learns samples t .. T - 1, so that it has seen the first T; T below the
 * samples already seen is CLS_ERR_INVALID_VALUE (a learner never forgets).
 * Time is linear in T - t (about 26 ns a sample at V = 10^7, beta = 1.5)
 * until every item with q > 0 has been seen, after which it is constant. */
cls_status cls_memoriser_learn(const cls_memoriser *m, cls_memoriser_learner *l, uint64_t T, char *err,
                               size_t err_len);

uint64_t cls_memoriser_learner_samples(const cls_memoriser_learner *l);  /* t */
uint64_t cls_memoriser_learner_distinct(const cls_memoriser_learner *l); /* items seen */
double cls_memoriser_learner_error(const cls_memoriser_learner *l);      /* sum of p over unseen items */

/* The learning curve of `seed` in one pass: err_out[j] = the error after the
 * first T[j] samples, for 1 <= T[0] < T[1] < ... (strictly increasing). */
cls_status cls_memoriser_curve(const cls_memoriser *m, uint64_t seed, const uint64_t *T, size_t n, double *err_out,
                               char *err, size_t err_len);

#endif
