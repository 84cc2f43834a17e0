/*
 * src/fit/theory_zipf.h — the exact theory of the Zipf memoriser ("A Tale of
 * Tails", arXiv 2402.07043; Hutter 2021) for the deterministic sources, from
 * their parameters alone: the expected error E(T) = sum_i p_i (1 - q_i)^T,
 * its power-law asymptote and its floor. The data layer (data/memoriser.h)
 * simulates the same model and computes the same E(T) from its q array; the
 * fit layer cannot call it, so the formulas are here again, summed in the
 * same order (the tests hold the two to agree). docs/theory.md ("The Zipf memoriser") derives
 * the asymptotes.
 *
 * p_i = i^-beta / H_V(beta), i = 1..V. Sources: real (q = p), cut at rank k
 * (q_i = i^-beta / H_k(beta) for i <= k, 0 beyond), narrowed (q_i =
 * i^-beta' / H_V(beta')), each mixed with a fraction pi of real data:
 * q = pi p + (1 - pi) q_source. (The fitted generator's q is random: its E(T)
 * comes from the data layer.)
 *
 * Nothing here prints or exits; failures return a cls_status with a message
 * in err naming the field. Nothing is allocated: each call is two passes over
 * the V items (about 0.1 s per 10^6 items and per handful of T).
 */
#ifndef CLSCALE_FIT_THEORY_ZIPF_H
#define CLSCALE_FIT_THEORY_ZIPF_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

typedef enum cls_zipf_source { CLS_ZIPF_REAL = 0, CLS_ZIPF_CUT = 1, CLS_ZIPF_NARROWED = 2 } cls_zipf_source;

typedef struct cls_zipf_theory {
  cls_zipf_source source;
  double beta;          /* > 1 */
  uint64_t vocab;       /* V >= 1 */
  uint64_t cut;         /* k (cut): 1 <= k <= V */
  double beta_narrow;   /* beta' (narrowed): > beta */
  double real_fraction; /* pi in [0, 1] */
} cls_zipf_theory;

/* NaN anywhere, beta <= 1, V of zero, k outside [1, V] (cut), beta' <= beta
 * (narrowed), pi outside [0, 1]: CLS_ERR_INVALID_VALUE / _SIZE naming the
 * field in backquotes. */
cls_status cls_zipf_theory_check(const cls_zipf_theory *th, char *err, size_t err_len);

/* E(T[j]) for j < n, each T >= 1 and finite. */
cls_status cls_zipf_expected(const cls_zipf_theory *th, const double *T, size_t n, double *expected, char *err,
                             size_t err_len);

/* E(T) ~ max(coef * T^-exponent - beyond, floor) for 1 << T << valid_below
 * (the cut reaches its floor after valid_below):
 *   real:           exponent 1 - 1/beta, coef Gamma(1 - 1/beta) / (beta H^(1/beta)), floor 0;
 *   narrowed:       exponent (beta - 1)/beta', coef Gamma((beta-1)/beta') H'^((beta-1)/beta') / (beta' H);
 *   cut:            the real law at T / P_k (coef * P_k^exponent, P_k the head's mass) while
 *                   T << valid_below = 1/q_k, then E(T) -> floor = sum_{i>k} p_i exponentially;
 *   any mix pi > 0: the real law at pi T (the tail is learnt from real data only), floor 0.
 * The laws are those of infinitely many items with p_i = i^-beta / H,
 * H = H_V(beta); `beyond` = sum_{i>V} i^-beta / H (about
 * (V + 1/2)^(1-beta) / ((beta-1) H)) is the unseen mass that a finite V
 * lacks, so E(T) falls short of the law by it (it matters for beta near 1).
 * valid_below = 1 / (the smallest q_i > 0): about where every item of the
 * support has been seen once, so that the finite V (or the cut) ends the
 * power law. */
typedef struct cls_zipf_asymptote {
  double coef, exponent, floor, beyond, valid_below;
} cls_zipf_asymptote;

cls_status cls_zipf_asymptote_of(const cls_zipf_theory *th, cls_zipf_asymptote *out, char *err, size_t err_len);

/* max(coef * T^-exponent - beyond, floor). */
double cls_zipf_asymptote_at(const cls_zipf_asymptote *a, double T);

#endif
