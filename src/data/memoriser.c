/*
 * src/data/memoriser.c — the Zipf memoriser: sources, sampling, learners and
 * the exact expectation; see memoriser.h and docs/theory.md ("The Zipf memoriser").
 */
#include "data/memoriser.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "core/sum.h"

/* Philox streams: training samples, the fitted source's T0 samples. */
enum { STREAM_TRAIN = 0x2e00, STREAM_FIT = 0x2e01 };

/* The guide table has at most this many buckets: 4 MB, so that it mostly
 * stays in cache while a Zipf head sends nearly every draw to a few items. */
#define GUIDE_MAX ((size_t)1 << 20)

struct cls_memoriser {
  cls_memoriser_config cfg;
  double *p, *q; /* q == p for the real source */
  double *cdf;   /* cumulative q, divided by its total; 1 exactly from the last item with q > 0 */
  uint32_t *guide;
  size_t n_guide; /* buckets; guide has n_guide + 1 entries */
  double floor;
  uint64_t support; /* items with q > 0 */
};

struct cls_memoriser_learner {
  cls_rng rng;
  uint64_t *seen; /* one bit per item */
  uint64_t t, distinct;
  double err, err_c; /* Neumaier sum: the unseen mass and its compensation */
};

const char *cls_memoriser_kind_name(cls_memoriser_kind kind) {
  switch (kind) {
  case CLS_MEMORISER_REAL:
    return "real";
  case CLS_MEMORISER_CUT:
    return "cut";
  case CLS_MEMORISER_NARROWED:
    return "narrowed";
  case CLS_MEMORISER_FITTED:
    return "fitted";
  }
  return NULL;
}

void cls_memoriser_config_default(cls_memoriser_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->kind = CLS_MEMORISER_REAL;
  cfg->beta = 1.5;
  cfg->vocab = 1000000;
  cfg->cut = cfg->vocab;
  cfg->beta_narrow = 2.0;
  cfg->fit_samples = 1000000;
  cfg->real_fraction = 0.0;
  cfg->seed = 1;
  cfg->fit_seed = 1;
}

/* ------------------------------------------------------------ summation */

/* Compensated sums (core/sum.h) throughout: the error terms of a million
 * additions of numbers spanning ten decades would otherwise reach the
 * tail's own size. */

/* w[0..n) = (i + 1)^-b, returning their sum (added smallest first). */
static double power_weights(double *w, size_t n, double b) {
  for (size_t i = 0; i < n; i++) w[i] = pow((double)(i + 1), -b);
  double s = 0, c = 0;
  for (size_t i = n; i-- > 0;) cls_sum_add(&s, &c, w[i]);
  return s + c;
}

/* ---------------------------------------------------------------- sizes */

static size_t guide_buckets(uint64_t v) {
  size_t g = 1;
  while (g < v && g < GUIDE_MAX) g *= 2;
  return g;
}

size_t cls_memoriser_learner_bytes(uint64_t vocab) {
  if (vocab == 0 || vocab > UINT32_MAX) return 0;
  return (size_t)((vocab + 63) / 64) * sizeof(uint64_t);
}

size_t cls_memoriser_bytes(const cls_memoriser_config *cfg) {
  uint64_t v = cfg->vocab;
  /* Items are uint32 and V * 28 bytes stays far below 2^64; a 32-bit size_t
   * is checked below. */
  if (v == 0 || v > UINT32_MAX) return 0;
  uint64_t per = 16; /* p and the cumulative q */
  if (cfg->kind != CLS_MEMORISER_REAL) per += 8;
  if (cfg->kind == CLS_MEMORISER_FITTED) per += 4; /* the counts, while it is built */
  uint64_t total = v * per + (uint64_t)(guide_buckets(v) + 1) * 4;
  if (total > SIZE_MAX) return 0;
  return (size_t)total;
}

/* ------------------------------------------------------------ the check */

#define CHECK(cond, status, ...)                                                                                  \
  do {                                                                                                            \
    if (!(cond)) return cls_errf(err, err_len, status, "cls_memoriser: " __VA_ARGS__);                            \
  } while (0)

cls_status cls_memoriser_config_check(const cls_memoriser_config *cfg, char *err, size_t err_len) {
  if (!cfg) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser: the config is NULL");
  CHECK(cls_memoriser_kind_name(cfg->kind) != NULL, CLS_ERR_INVALID_VALUE,
        "`kind` is %d; use real, cut, narrowed or fitted", (int)cfg->kind);
  /* NaN fails every comparison, so each test below is written to pass only
   * for a good value; the explicit checks make the message say NaN. */
  CHECK(!isnan(cfg->beta), CLS_ERR_INVALID_VALUE, "`beta` is NaN; give a finite exponent > 1");
  CHECK(!isnan(cfg->beta_narrow), CLS_ERR_INVALID_VALUE, "`beta_narrow` is NaN; give a finite exponent > `beta`");
  CHECK(!isnan(cfg->real_fraction), CLS_ERR_INVALID_VALUE, "`real_fraction` is NaN; give a fraction in [0, 1]");
  CHECK(cfg->beta > 1 && isfinite(cfg->beta), CLS_ERR_INVALID_VALUE,
        "`beta` is %g; it must be finite and > 1 (p_i ~ i^-beta must stay normalisable as V grows)", cfg->beta);
  CHECK(cfg->real_fraction >= 0 && cfg->real_fraction <= 1, CLS_ERR_INVALID_VALUE,
        "`real_fraction` is %g; it must lie in [0, 1]", cfg->real_fraction);
  CHECK(cfg->vocab > 0, CLS_ERR_INVALID_SIZE, "`vocab` is 0; give at least one item");
  if (cfg->kind == CLS_MEMORISER_CUT)
    CHECK(cfg->cut >= 1 && cfg->cut <= cfg->vocab, CLS_ERR_INVALID_VALUE,
          "`cut` is %llu; it must lie in [1, `vocab` = %llu]", (unsigned long long)cfg->cut,
          (unsigned long long)cfg->vocab);
  if (cfg->kind == CLS_MEMORISER_NARROWED)
    CHECK(cfg->beta_narrow > cfg->beta && isfinite(cfg->beta_narrow), CLS_ERR_INVALID_VALUE,
          "`beta_narrow` is %g; it must be finite and > `beta` = %g (a narrowed tail is thinner)",
          cfg->beta_narrow, cfg->beta);
  if (cfg->kind == CLS_MEMORISER_FITTED)
    CHECK(cfg->fit_samples >= 1 && cfg->fit_samples <= UINT32_MAX, CLS_ERR_INVALID_SIZE,
          "`fit_samples` is %llu; the fitted generator needs 1 .. %lu real samples",
          (unsigned long long)cfg->fit_samples, (unsigned long)UINT32_MAX);
  size_t bytes = cls_memoriser_bytes(cfg);
  if (bytes == 0) {
    uint64_t per = cfg->kind == CLS_MEMORISER_REAL ? 16 : cfg->kind == CLS_MEMORISER_FITTED ? 28 : 24;
    double want = (double)cfg->vocab * (double)per;
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "cls_memoriser: `vocab` = %llu needs %.4g bytes of tables; items are 32-bit, so use "
                    "`vocab` <= %lu",
                    (unsigned long long)cfg->vocab, want, (unsigned long)UINT32_MAX);
  }
  CHECK(cfg->max_bytes == 0 || bytes <= cfg->max_bytes, CLS_ERR_INVALID_SIZE,
        "`vocab` = %llu needs %zu bytes of tables, more than `max_bytes` = %zu; use fewer items",
        (unsigned long long)cfg->vocab, bytes, cfg->max_bytes);
  return CLS_OK;
}

/* ------------------------------------------------------------- sampling */

/* A uniform double in [0, 1) with 53 bits from two 32-bit words. */
static inline double unit53(uint32_t hi, uint32_t lo) {
  uint64_t m = ((uint64_t)(hi >> 5) << 26) | (uint64_t)(lo >> 6);
  return (double)m * (1.0 / 9007199254740992.0);
}

/* The first item whose cumulative q exceeds u: the guide bucket of u bounds
 * it on both sides, a binary search finds it in between. */
static inline uint32_t inverse_cdf(const cls_memoriser *m, double u) {
  size_t j = (size_t)(u * (double)m->n_guide);
  return (uint32_t)cls_cdf_find(m->cdf, m->guide[j], m->guide[j + 1], u);
}

/* Sample t of a stream: half t % 2 of Philox draw t / 2, so that one draw
 * (its cost dominates a head-heavy search) serves two samples. */
static inline uint32_t sample_at(const cls_memoriser *m, cls_rng r, uint64_t t) {
  uint32_t w[4];
  cls_rng_u32x4(r, t >> 1, 0, w);
  return (t & 1) ? inverse_cdf(m, unit53(w[2], w[3])) : inverse_cdf(m, unit53(w[0], w[1]));
}

/* The cumulative table and the guide of q (sum of q > 0). */
static void build_tables(cls_memoriser *m) {
  size_t v = (size_t)m->cfg.vocab, last = 0;
  double s = 0;
  for (size_t i = 0; i < v; i++) {
    s += m->q[i];
    m->cdf[i] = s;
    if (m->q[i] > 0) last = i;
  }
  /* Division by the total is monotone and sends the total to 1 exactly; the
   * items from the last with q > 0 on get 1, so no u < 1 runs past it. */
  for (size_t i = 0; i < v; i++) m->cdf[i] = i >= last ? 1.0 : m->cdf[i] / s;
  size_t i = 0;
  for (size_t j = 0; j < m->n_guide; j++) {
    double thr = (double)j / (double)m->n_guide; /* exact: n_guide is a power of two */
    while (m->cdf[i] <= thr) i++;
    m->guide[j] = (uint32_t)i;
  }
  m->guide[m->n_guide] = (uint32_t)(v - 1);
}

cls_status cls_memoriser_create(const cls_memoriser_config *cfg, cls_memoriser **out, char *err, size_t err_len) {
  if (!out) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser_create: `out` is NULL");
  *out = NULL;
  cls_status st = cls_memoriser_config_check(cfg, err, err_len);
  if (st != CLS_OK) return st;
  size_t v = (size_t)cfg->vocab;
  cls_memoriser *m = calloc(1, sizeof *m);
  if (!m) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_memoriser_create: no memory");
  m->cfg = *cfg;
  m->n_guide = guide_buckets(cfg->vocab);
  m->p = malloc(v * sizeof *m->p);
  m->cdf = malloc(v * sizeof *m->cdf);
  m->guide = malloc((m->n_guide + 1) * sizeof *m->guide);
  m->q = cfg->kind == CLS_MEMORISER_REAL ? m->p : malloc(v * sizeof *m->q);
  uint32_t *counts = cfg->kind == CLS_MEMORISER_FITTED ? calloc(v, sizeof *counts) : NULL;
  if (!m->p || !m->cdf || !m->guide || !m->q || (cfg->kind == CLS_MEMORISER_FITTED && !counts)) {
    free(counts);
    cls_memoriser_destroy(m);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY,
                    "cls_memoriser_create: no memory for the tables of `vocab` = %zu items (%zu bytes); use "
                    "fewer items",
                    v, cls_memoriser_bytes(cfg));
  }
  double h = power_weights(m->p, v, cfg->beta);
  for (size_t i = 0; i < v; i++) m->p[i] /= h;

  switch (cfg->kind) {
  case CLS_MEMORISER_REAL:
    break;
  case CLS_MEMORISER_CUT: {
    size_t k = (size_t)cfg->cut;
    double hk = power_weights(m->q, k, cfg->beta);
    for (size_t i = 0; i < k; i++) m->q[i] /= hk;
    for (size_t i = k; i < v; i++) m->q[i] = 0;
    break;
  }
  case CLS_MEMORISER_NARROWED: {
    double hn = power_weights(m->q, v, cfg->beta_narrow);
    for (size_t i = 0; i < v; i++) m->q[i] /= hn;
    break;
  }
  case CLS_MEMORISER_FITTED: {
    /* The generator's T0 samples come from p through the same sampler. */
    memcpy(m->q, m->p, v * sizeof *m->q);
    build_tables(m);
    cls_rng r = cls_rng_make(cfg->fit_seed, STREAM_FIT);
    for (uint64_t t = 0; t < cfg->fit_samples; t++) counts[sample_at(m, r, t)]++;
    for (size_t i = 0; i < v; i++) m->q[i] = (double)counts[i] / (double)cfg->fit_samples;
    free(counts);
    break;
  }
  }
  if (cfg->kind != CLS_MEMORISER_REAL && cfg->real_fraction > 0) {
    double pi = cfg->real_fraction;
    for (size_t i = 0; i < v; i++) m->q[i] = pi * m->p[i] + (1 - pi) * m->q[i];
  }
  build_tables(m);
  double s = 0, c = 0;
  for (size_t i = v; i-- > 0;)
    if (m->q[i] == 0)
      cls_sum_add(&s, &c, m->p[i]);
    else
      m->support++;
  m->floor = s + c;
  *out = m;
  return CLS_OK;
}

void cls_memoriser_destroy(cls_memoriser *m) {
  if (!m) return;
  if (m->q != m->p) free(m->q);
  free(m->p);
  free(m->cdf);
  free(m->guide);
  free(m);
}

const cls_memoriser_config *cls_memoriser_config_of(const cls_memoriser *m) {
  return &m->cfg;
}
const double *cls_memoriser_p(const cls_memoriser *m) {
  return m->p;
}
const double *cls_memoriser_q(const cls_memoriser *m) {
  return m->q;
}
double cls_memoriser_floor(const cls_memoriser *m) {
  return m->floor;
}

cls_status cls_memoriser_sample(const cls_memoriser *m, uint64_t seed, uint64_t first, size_t n, uint32_t *items,
                                char *err, size_t err_len) {
  if (!m || (!items && n > 0))
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser_sample: `%s` is NULL",
                    m ? "items" : "memoriser");
  if (n > 0 && first > UINT64_MAX - n)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "cls_memoriser_sample: samples %llu + %zu run past 2^64; use a smaller `first`",
                    (unsigned long long)first, n);
  cls_rng r = cls_rng_make(seed, STREAM_TRAIN);
  for (size_t k = 0; k < n; k++) items[k] = sample_at(m, r, first + k);
  return CLS_OK;
}

/* ---------------------------------------------------------- expectation */

cls_status cls_memoriser_expected(const cls_memoriser *m, const double *T, size_t n, double *expected,
                                  double *var_bound, char *err, size_t err_len) {
  if (!m || (n > 0 && (!T || !expected)))
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser_expected: `%s` is NULL",
                    !m   ? "memoriser"
                    : !T ? "T"
                         : "expected");
  for (size_t j = 0; j < n; j++)
    if (!(T[j] >= 1) || !isfinite(T[j]))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "cls_memoriser_expected: `T[%zu]` is %g; give a finite number of samples >= 1", j, T[j]);
  double *acc = calloc(4 * (n ? n : 1), sizeof *acc); /* sum, comp for E; sum, comp for the bound */
  if (!acc) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_memoriser_expected: no memory");
  size_t v = (size_t)m->cfg.vocab;
  /* Smallest terms first; (1 - q)^T as exp(T log1p(-q)) keeps the digits of
   * a q of 1e-11 that 1 - q would round away. */
  for (size_t i = v; i-- > 0;) {
    double p = m->p[i], l = log1p(-m->q[i]);
    for (size_t j = 0; j < n; j++) {
      double a = exp(T[j] * l);
      cls_sum_add(&acc[4 * j], &acc[4 * j + 1], p * a);
      if (var_bound) cls_sum_add(&acc[4 * j + 2], &acc[4 * j + 3], p * p * a * (1 - a));
    }
  }
  for (size_t j = 0; j < n; j++) {
    expected[j] = acc[4 * j] + acc[4 * j + 1];
    if (var_bound) var_bound[j] = acc[4 * j + 2] + acc[4 * j + 3];
  }
  free(acc);
  return CLS_OK;
}

/* ------------------------------------------------------------- learners */

cls_status cls_memoriser_learner_create(const cls_memoriser *m, uint64_t seed, cls_memoriser_learner **out,
                                        char *err, size_t err_len) {
  if (!m || !out)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser_learner_create: `%s` is NULL",
                    m ? "out" : "memoriser");
  *out = NULL;
  size_t bytes = cls_memoriser_learner_bytes(m->cfg.vocab);
  cls_memoriser_learner *l = calloc(1, sizeof *l);
  if (l) l->seen = calloc(bytes, 1);
  if (!l || !l->seen) {
    free(l);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY,
                    "cls_memoriser_learner_create: no memory for %zu bytes of seen-flags", bytes);
  }
  l->rng = cls_rng_make(seed, STREAM_TRAIN);
  /* The unseen mass starts as the whole of p, summed as the error will be. */
  for (size_t i = (size_t)m->cfg.vocab; i-- > 0;) cls_sum_add(&l->err, &l->err_c, m->p[i]);
  *out = l;
  return CLS_OK;
}

void cls_memoriser_learner_destroy(cls_memoriser_learner *l) {
  if (!l) return;
  free(l->seen);
  free(l);
}

cls_status cls_memoriser_learn(const cls_memoriser *m, cls_memoriser_learner *l, uint64_t T, char *err,
                               size_t err_len) {
  if (!m || !l)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser_learn: `%s` is NULL",
                    m ? "learner" : "memoriser");
  if (T < l->t)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "cls_memoriser_learn: `T` = %llu is below the %llu samples already learnt; a learner only "
                    "goes forward (make a new one to start again)",
                    (unsigned long long)T, (unsigned long long)l->t);
  /* Once the whole support is seen no sample can change anything, so a
   * learner of a small support jumps to any T, however large. */
  for (uint64_t t = l->t; t < T && l->distinct < m->support; t++) {
    uint32_t i = sample_at(m, l->rng, t);
    uint64_t bit = (uint64_t)1 << (i & 63);
    if (!(l->seen[i >> 6] & bit)) {
      l->seen[i >> 6] |= bit;
      l->distinct++;
      cls_sum_add(&l->err, &l->err_c, -m->p[i]);
    }
  }
  l->t = T;
  return CLS_OK;
}

uint64_t cls_memoriser_learner_samples(const cls_memoriser_learner *l) {
  return l->t;
}
uint64_t cls_memoriser_learner_distinct(const cls_memoriser_learner *l) {
  return l->distinct;
}
double cls_memoriser_learner_error(const cls_memoriser_learner *l) {
  /* Rounding can leave a last -1e-17 once every item is seen. */
  double e = l->err + l->err_c;
  return e > 0 ? e : 0;
}

cls_status cls_memoriser_curve(const cls_memoriser *m, uint64_t seed, const uint64_t *T, size_t n, double *err_out,
                               char *err, size_t err_len) {
  if (!m || (n > 0 && (!T || !err_out)))
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_memoriser_curve: `%s` is NULL",
                    !m   ? "memoriser"
                    : !T ? "T"
                         : "err_out");
  for (size_t j = 0; j < n; j++)
    if (T[j] == 0 || (j > 0 && T[j] <= T[j - 1]))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "cls_memoriser_curve: `T[%zu]` is %llu; the checkpoints must be >= 1 and strictly "
                      "increasing",
                      j, (unsigned long long)T[j]);
  cls_memoriser_learner *l = NULL;
  cls_status st = cls_memoriser_learner_create(m, seed, &l, err, err_len);
  if (st != CLS_OK) return st;
  for (size_t j = 0; j < n && st == CLS_OK; j++) {
    st = cls_memoriser_learn(m, l, T[j], err, err_len);
    err_out[j] = cls_memoriser_learner_error(l);
  }
  cls_memoriser_learner_destroy(l);
  return st;
}
