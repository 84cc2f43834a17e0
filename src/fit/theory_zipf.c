/*
 * src/fit/theory_zipf.c — E(T), asymptotes and floors of the Zipf memoriser
 * for the deterministic sources; see theory_zipf.h and docs/theory.md ("The Zipf memoriser").
 */
#include "fit/theory_zipf.h"

#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/sum.h"

#define CHECK(cond, status, ...)                                                                                  \
  do {                                                                                                            \
    if (!(cond)) return cls_errf(err, err_len, status, "cls_zipf_theory: " __VA_ARGS__);                          \
  } while (0)

cls_status cls_zipf_theory_check(const cls_zipf_theory *th, char *err, size_t err_len) {
  if (!th) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_zipf_theory: the theory is NULL");
  CHECK(th->source == CLS_ZIPF_REAL || th->source == CLS_ZIPF_CUT || th->source == CLS_ZIPF_NARROWED,
        CLS_ERR_INVALID_VALUE, "`source` is %d; use real, cut or narrowed", (int)th->source);
  CHECK(!isnan(th->beta), CLS_ERR_INVALID_VALUE, "`beta` is NaN; give a finite exponent > 1");
  CHECK(!isnan(th->beta_narrow), CLS_ERR_INVALID_VALUE, "`beta_narrow` is NaN; give a finite exponent > `beta`");
  CHECK(!isnan(th->real_fraction), CLS_ERR_INVALID_VALUE, "`real_fraction` is NaN; give a fraction in [0, 1]");
  CHECK(th->beta > 1 && isfinite(th->beta), CLS_ERR_INVALID_VALUE, "`beta` is %g; it must be finite and > 1",
        th->beta);
  CHECK(th->real_fraction >= 0 && th->real_fraction <= 1, CLS_ERR_INVALID_VALUE,
        "`real_fraction` is %g; it must lie in [0, 1]", th->real_fraction);
  CHECK(th->vocab > 0, CLS_ERR_INVALID_SIZE, "`vocab` is 0; give at least one item");
  if (th->source == CLS_ZIPF_CUT)
    CHECK(th->cut >= 1 && th->cut <= th->vocab, CLS_ERR_INVALID_VALUE,
          "`cut` is %llu; it must lie in [1, `vocab` = %llu]", (unsigned long long)th->cut,
          (unsigned long long)th->vocab);
  if (th->source == CLS_ZIPF_NARROWED)
    CHECK(th->beta_narrow > th->beta && isfinite(th->beta_narrow), CLS_ERR_INVALID_VALUE,
          "`beta_narrow` is %g; it must be finite and > `beta` = %g", th->beta_narrow, th->beta);
  return CLS_OK;
}

/* H_n(b) = sum_{i=1..n} i^-b, smallest terms first. */
static double harmonic(uint64_t n, double b) {
  double s = 0, c = 0;
  for (uint64_t i = n; i-- > 0;) cls_sum_add(&s, &c, pow((double)(i + 1), -b));
  return s + c;
}

typedef struct {
  double h, hk, hn; /* normalisers of p, of the cut head, of the narrowed source */
} norms;

static norms norms_of(const cls_zipf_theory *th) {
  norms z = {harmonic(th->vocab, th->beta), 1, 1};
  if (th->source == CLS_ZIPF_CUT) z.hk = harmonic(th->cut, th->beta);
  if (th->source == CLS_ZIPF_NARROWED) z.hn = harmonic(th->vocab, th->beta_narrow);
  return z;
}

/* Item i (0-based): p_i and q_i, with the same operations as the data layer
 * so that both give the same bits. */
static inline double item(const cls_zipf_theory *th, const norms *z, uint64_t i, double *q) {
  double w = pow((double)(i + 1), -th->beta), p = w / z->h, qs;
  switch (th->source) {
  case CLS_ZIPF_CUT:
    qs = i < th->cut ? w / z->hk : 0;
    break;
  case CLS_ZIPF_NARROWED:
    qs = pow((double)(i + 1), -th->beta_narrow) / z->hn;
    break;
  default:
    qs = p;
    break;
  }
  double pi = th->real_fraction;
  *q = th->source != CLS_ZIPF_REAL && pi > 0 ? pi * p + (1 - pi) * qs : qs;
  return p;
}

cls_status cls_zipf_expected(const cls_zipf_theory *th, const double *T, size_t n, double *expected, char *err,
                             size_t err_len) {
  cls_status st = cls_zipf_theory_check(th, err, err_len);
  if (st != CLS_OK) return st;
  if (n > 0 && (!T || !expected))
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_zipf_expected: `%s` is NULL", !T ? "T" : "expected");
  for (size_t j = 0; j < n; j++)
    if (!(T[j] >= 1) || !isfinite(T[j]))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "cls_zipf_expected: `T[%zu]` is %g; give a finite number of samples >= 1", j, T[j]);
  double *acc = calloc(2 * (n ? n : 1), sizeof *acc);
  if (!acc) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_zipf_expected: no memory");
  norms z = norms_of(th);
  for (uint64_t i = th->vocab; i-- > 0;) {
    double q, p = item(th, &z, i, &q), l = log1p(-q);
    for (size_t j = 0; j < n; j++) {
      /* Most (item, T) pairs of a long tail have |T l| tiny: there the
       * series to x^4 is exact to double precision (its error x^5/120 is
       * below 1e-22 of the term) and five times cheaper than exp. */
      double x = T[j] * l;
      double e = x > -1e-4 ? 1 + x * (1 + x * (0.5 + x * (1.0 / 6 + x * (1.0 / 24)))) : exp(x);
      cls_sum_add(&acc[2 * j], &acc[2 * j + 1], p * e);
    }
  }
  for (size_t j = 0; j < n; j++) expected[j] = acc[2 * j] + acc[2 * j + 1];
  free(acc);
  return CLS_OK;
}

cls_status cls_zipf_asymptote_of(const cls_zipf_theory *th, cls_zipf_asymptote *out, char *err, size_t err_len) {
  cls_status st = cls_zipf_theory_check(th, err, err_len);
  if (st != CLS_OK) return st;
  if (!out) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_zipf_asymptote_of: `out` is NULL");
  norms z = norms_of(th);
  double b = th->beta, a = 1 - 1 / b, pi = th->real_fraction;
  /* Real: sum_i p_i e^{-T p_i} ~ integral over x of x^-b/H e^{-T x^-b/H};
   * u = T x^-b / H turns it into Gamma(1 - 1/b) / (b H^{1/b}) T^{-(1-1/b)}. */
  double real_coef = tgamma(a) / (b * pow(z.h, 1 / b));
  out->floor = 0;
  /* Euler-Maclaurin at the midpoint: sum_{i>V} i^-b ~ int_{V+1/2}^inf. */
  out->beyond = pow((double)th->vocab + 0.5, 1 - b) / ((b - 1) * z.h);
  out->exponent = a;
  out->coef = real_coef;
  if (th->source != CLS_ZIPF_REAL && pi > 0) {
    /* Every q_i >= pi p_i, and the tail's q_i / p_i -> pi: the real law at
     * pi T. */
    out->coef = real_coef * pow(pi, -a);
  } else if (th->source == CLS_ZIPF_CUT) {
    /* Head q_i = p_i / P_k: the real law at T / P_k until q_k T ~ 1. */
    double pk = z.hk / z.h, s = 0, c = 0;
    for (uint64_t i = th->vocab; i-- > th->cut;) cls_sum_add(&s, &c, pow((double)(i + 1), -b) / z.h);
    out->floor = s + c;
    out->coef = real_coef * pow(pk, a);
  } else if (th->source == CLS_ZIPF_NARROWED) {
    /* The same substitution with u = T x^-b' / H' gives
     * Gamma((b-1)/b') H'^((b-1)/b') / (b' H) T^{-(b-1)/b'}. */
    double bn = th->beta_narrow, e = (b - 1) / bn;
    out->exponent = e;
    out->coef = tgamma(e) * pow(z.hn, e) / (bn * z.h);
  }
  /* The smallest q > 0 sits at the end of the support (q decreases in i). */
  uint64_t last = th->source == CLS_ZIPF_CUT && pi == 0 ? th->cut - 1 : th->vocab - 1;
  double q;
  item(th, &z, last, &q);
  out->valid_below = 1 / q;
  return CLS_OK;
}

double cls_zipf_asymptote_at(const cls_zipf_asymptote *a, double T) {
  double law = a->coef * pow(T, -a->exponent) - a->beyond;
  return law > a->floor ? law : a->floor;
}
