/*
 * tests/test_memoriser.c — the Zipf memoriser: the sampler against q, the
 * simulated learning curve against the exact expectation for every source,
 * the data layer's E(T) against the fit layer's theory, the exponent
 * 1 - 1/beta and the asymptotes' constants, the cut's floor, same seed same
 * numbers, bad parameters, and V = 10^7.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/memoriser.h"
#include "fit/theory_zipf.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static cls_memoriser_config config(cls_memoriser_kind kind, double beta, uint64_t v) {
  cls_memoriser_config c;
  cls_memoriser_config_default(&c);
  c.kind = kind;
  c.beta = beta;
  c.vocab = v;
  c.cut = v;
  c.beta_narrow = beta + 1;
  return c;
}

static cls_memoriser *make(const cls_memoriser_config *c) {
  cls_memoriser *m = NULL;
  char err[512] = "";
  cls_status s = cls_memoriser_create(c, &m, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_memoriser_create -> %d: %s", s, err);
  return m;
}

static void expected(const cls_memoriser *m, const double *T, size_t n, double *e, double *var) {
  char err[512] = "";
  cls_status s = cls_memoriser_expected(m, T, n, e, var, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_memoriser_expected -> %d: %s", s, err);
}

static void theory(const cls_zipf_theory *th, const double *T, size_t n, double *e) {
  char err[512] = "";
  cls_status s = cls_zipf_expected(th, T, n, e, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_zipf_expected -> %d: %s", s, err);
}

static void curve(const cls_memoriser *m, uint64_t seed, const uint64_t *T, size_t n, double *out) {
  char err[512] = "";
  cls_status s = cls_memoriser_curve(m, seed, T, n, out, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_memoriser_curve -> %d: %s", s, err);
}

/* ----------------------------------------------------------- the sampler */

/* Counts of 4*10^5 draws lie within 5 standard deviations of n q_i, item by
 * item, and items with q_i = 0 never come. */
static void test_sampler_follows_q(void **state) {
  (void)state;
  cls_memoriser_kind kinds[] = {CLS_MEMORISER_REAL, CLS_MEMORISER_CUT, CLS_MEMORISER_NARROWED};
  for (size_t kk = 0; kk < 3; kk++) {
    cls_memoriser_config c = config(kinds[kk], 1.3, 40);
    c.cut = 7;
    cls_memoriser *m = make(&c);
    const double *q = cls_memoriser_q(m);
    size_t n = 400000;
    uint32_t *items = malloc(n * sizeof *items);
    uint64_t counts[40] = {0};
    assert_int_equal(cls_memoriser_sample(m, 5, 0, n, items, NULL, 0), CLS_OK);
    for (size_t t = 0; t < n; t++) {
      assert_true(items[t] < 40);
      counts[items[t]]++;
    }
    for (size_t i = 0; i < 40; i++) {
      double mean = (double)n * q[i], sd = sqrt((double)n * q[i] * (1 - q[i]));
      if (q[i] == 0) assert_int_equal(counts[i], 0);
      if (fabs((double)counts[i] - mean) > 5 * sd + 1e-9)
        fail_msg("%s: item %zu came %llu times, expected %.1f +- %.1f", cls_memoriser_kind_name(kinds[kk]), i,
                 (unsigned long long)counts[i], mean, sd);
    }
    free(items);
    cls_memoriser_destroy(m);
  }
}

/* ----------------------------------------------- simulation against E(T) */

/* For each source, the mean error of 8 seeds at four checkpoints lies
 * within 5 standard errors of E(T); the standard error comes from the exact
 * variance bound, so the test cannot pass by luck of a noisy estimate. */
static void test_simulation_matches_expectation(void **state) {
  (void)state;
  struct {
    cls_memoriser_kind kind;
    double pi;
  } cases[] = {{CLS_MEMORISER_REAL, 0},    {CLS_MEMORISER_CUT, 0},   {CLS_MEMORISER_NARROWED, 0},
               {CLS_MEMORISER_FITTED, 0},  {CLS_MEMORISER_CUT, 0.3}, {CLS_MEMORISER_NARROWED, 0.5},
               {CLS_MEMORISER_FITTED, 0.2}};
  enum { NT = 4, SEEDS = 8 };
  const uint64_t T[NT] = {100, 1000, 10000, 100000};
  const double Td[NT] = {100, 1000, 10000, 100000};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cls_memoriser_config c = config(cases[k].kind, 1.5, 100000);
    c.cut = 300;
    c.beta_narrow = 2.2;
    c.fit_samples = 3000;
    c.real_fraction = cases[k].pi;
    cls_memoriser *m = make(&c);
    double e[NT], var[NT], mean[NT] = {0}, run[NT];
    expected(m, Td, NT, e, var);
    for (uint64_t s = 0; s < SEEDS; s++) {
      curve(m, 100 + s, T, NT, run);
      for (size_t j = 0; j < NT; j++) mean[j] += run[j] / SEEDS;
    }
    for (size_t j = 0; j < NT; j++) {
      double se = sqrt(var[j] / SEEDS);
      if (fabs(mean[j] - e[j]) > 5 * se + 1e-12)
        fail_msg("%s pi=%g T=%llu: simulated %.6g, expected %.6g (standard error <= %.3g)",
                 cls_memoriser_kind_name(c.kind), c.real_fraction, (unsigned long long)T[j], mean[j], e[j], se);
    }
    /* The checkpoints must see the curve move: a learner that learnt
     * nothing (err = 1) or everything (err = 0) would not pass above, but
     * say so plainly. */
    assert_true(e[0] > e[NT - 1]);
    cls_memoriser_destroy(m);
  }
}

/* The learner's error is sum of p over the items absent from the sample
 * stream, recomputed here from cls_memoriser_sample's items. */
static void test_learner_error_from_samples(void **state) {
  (void)state;
  cls_memoriser_config c = config(CLS_MEMORISER_NARROWED, 1.2, 5000);
  cls_memoriser *m = make(&c);
  size_t n = 20000;
  uint32_t *items = malloc(n * sizeof *items);
  unsigned char *seen = calloc(5000, 1);
  assert_int_equal(cls_memoriser_sample(m, 9, 0, n, items, NULL, 0), CLS_OK);
  for (size_t t = 0; t < n; t++) seen[items[t]] = 1;
  double want = 0;
  uint64_t distinct = 0;
  for (size_t i = 0; i < 5000; i++) want += seen[i] ? 0 : cls_memoriser_p(m)[i], distinct += seen[i];
  cls_memoriser_learner *l = NULL;
  assert_int_equal(cls_memoriser_learner_create(m, 9, &l, NULL, 0), CLS_OK);
  assert_int_equal(cls_memoriser_learn(m, l, n, NULL, 0), CLS_OK);
  assert_int_equal(cls_memoriser_learner_samples(l), n);
  assert_int_equal(cls_memoriser_learner_distinct(l), distinct);
  assert_true(fabs(cls_memoriser_learner_error(l) - want) < 1e-12);
  cls_memoriser_learner_destroy(l);
  free(seen);
  free(items);
  cls_memoriser_destroy(m);
}

/* ------------------------------------------------ data layer vs fit layer */

static void test_expected_agrees_with_theory(void **state) {
  (void)state;
  struct {
    cls_memoriser_kind kind;
    cls_zipf_source source;
    double pi;
  } cases[] = {{CLS_MEMORISER_REAL, CLS_ZIPF_REAL, 0},
               {CLS_MEMORISER_CUT, CLS_ZIPF_CUT, 0},
               {CLS_MEMORISER_NARROWED, CLS_ZIPF_NARROWED, 0},
               {CLS_MEMORISER_CUT, CLS_ZIPF_CUT, 0.3},
               {CLS_MEMORISER_NARROWED, CLS_ZIPF_NARROWED, 0.5}};
  const double T[] = {1, 10, 1000, 123456.5, 1e8};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cls_memoriser_config c = config(cases[k].kind, 1.7, 20000);
    c.cut = 150;
    c.beta_narrow = 2.4;
    c.real_fraction = cases[k].pi;
    cls_memoriser *m = make(&c);
    cls_zipf_theory th = {cases[k].source, 1.7, 20000, 150, 2.4, cases[k].pi};
    double a[5], b[5];
    expected(m, T, 5, a, NULL);
    theory(&th, T, 5, b);
    for (size_t j = 0; j < 5; j++)
      if (!(fabs(a[j] - b[j]) <= 1e-12 * b[j]))
        fail_msg("source %d pi %g T %g: data %.17g, theory %.17g", (int)th.source, th.real_fraction, T[j], a[j],
                 b[j]);
    /* The floors agree too: the cut's tail, or nothing once real data mix in. */
    cls_zipf_asymptote as;
    assert_int_equal(cls_zipf_asymptote_of(&th, &as, NULL, 0), CLS_OK);
    assert_true(fabs(as.floor - cls_memoriser_floor(m)) <= 1e-14);
    /* E(1) = 1 - sum p q exactly. */
    double pq = 0;
    for (size_t i = 0; i < 20000; i++) pq += cls_memoriser_p(m)[i] * cls_memoriser_q(m)[i];
    assert_true(fabs(a[0] - (1 - pq)) < 1e-12);
    cls_memoriser_destroy(m);
  }
}

/* -------------------------------------------------- exponent, asymptotes */

static double fitted_exponent(const cls_zipf_theory *th, double t_lo, double t_hi) {
  enum { N = 13 };
  double T[N], e[N];
  for (int j = 0; j < N; j++) T[j] = t_lo * pow(t_hi / t_lo, j / (double)(N - 1));
  theory(th, T, N, e);
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (int j = 0; j < N; j++) mx += log(T[j]) / N, my += log(e[j]) / N;
  for (int j = 0; j < N; j++) {
    double dx = log(T[j]) - mx;
    sxx += dx * dx, sxy += dx * (log(e[j]) - my);
  }
  return -sxy / sxx;
}

static void test_exponent_of_real_source(void **state) {
  (void)state;
  const double betas[] = {1.5, 2.0};
  for (size_t k = 0; k < 2; k++) {
    /* 10^7 items for beta = 1.5, whose tail beyond V still holds 2% of
     * E(10^6); 10^6 suffice for beta = 2. */
    cls_zipf_theory th = {CLS_ZIPF_REAL, betas[k], betas[k] < 2 ? 10000000u : 1000000u, 0, 0, 0};
    double t0 = now(), got = fitted_exponent(&th, 1e3, 1e6), want = 1 - 1 / betas[k];
    print_message("beta %.1f, V %llu: fitted exponent %.4f, 1 - 1/beta = %.4f (%.2f s)\n", betas[k],
                  (unsigned long long)th.vocab, got, want, now() - t0);
    assert_true(fabs(got - want) <= 0.02);

    /* The simulated learning curve (mean of 4 seeds) measures it too. */
    enum { NT = 7, SEEDS = 4 };
    uint64_t T[NT];
    double x[NT], y[NT] = {0}, run[NT];
    for (int j = 0; j < NT; j++) T[j] = (uint64_t)llround(pow(10, 3 + 0.5 * j)), x[j] = log((double)T[j]);
    cls_memoriser_config c = config(CLS_MEMORISER_REAL, betas[k], th.vocab);
    cls_memoriser *m = make(&c);
    for (uint64_t s = 0; s < SEEDS; s++) {
      curve(m, 40 + s, T, NT, run);
      for (int j = 0; j < NT; j++) y[j] += run[j] / SEEDS;
    }
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int j = 0; j < NT; j++) mx += x[j] / NT, my += log(y[j]) / NT;
    for (int j = 0; j < NT; j++) sxx += (x[j] - mx) * (x[j] - mx), sxy += (x[j] - mx) * (log(y[j]) - my);
    print_message("  simulated: fitted exponent %.4f (%.2f s in all)\n", -sxy / sxx, now() - t0);
    assert_true(fabs(-sxy / sxx - want) <= 0.02);
    cls_memoriser_destroy(m);
  }
}

/* The asymptotes' constants: E(T) / (floor + coef T^-exponent) -> 1. */
static void test_asymptotes(void **state) {
  (void)state;
  struct {
    cls_zipf_theory th;
    double T, tol;
  } cases[] = {
      {{CLS_ZIPF_REAL, 2.0, 1000000, 0, 0, 0}, 1e4, 0.002},
      {{CLS_ZIPF_REAL, 1.5, 1000000, 0, 0, 0}, 1e4, 0.002},
      {{CLS_ZIPF_REAL, 1.1, 1000000, 0, 0, 0}, 1e4, 0.002},
      {{CLS_ZIPF_NARROWED, 1.5, 1000000, 0, 2.5, 0}, 1e4, 0.002},
      {{CLS_ZIPF_CUT, 2.0, 1000000, 1000, 0, 0}, 1e3, 0.002},      /* T << valid_below ~ 1.6e6 */
      {{CLS_ZIPF_CUT, 2.0, 1000000, 30, 0, 0.5}, 1e5, 0.002},      /* mix: the real law at pi T */
      {{CLS_ZIPF_NARROWED, 2.0, 1000000, 0, 3.0, 0.3}, 1e6, 0.01}, /* q_i / p_i - pi ~ 1/i at the frontier */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cls_zipf_asymptote as;
    char err[256] = "";
    assert_int_equal(cls_zipf_asymptote_of(&cases[k].th, &as, err, sizeof err), CLS_OK);
    assert_true(cases[k].T < as.valid_below);
    double e;
    theory(&cases[k].th, &cases[k].T, 1, &e);
    double a = cls_zipf_asymptote_at(&as, cases[k].T);
    print_message("case %zu: E(%g) = %.6g, asymptote %.6g (ratio %.5f), exponent %.4f, floor %.4g, beyond %.3g\n",
                  k, cases[k].T, e, a, e / a, as.exponent, as.floor, as.beyond);
    assert_true(fabs(e / a - 1) <= cases[k].tol);
  }
  /* The exponents themselves. */
  cls_zipf_theory n = {CLS_ZIPF_NARROWED, 1.5, 100, 0, 2.5, 0};
  cls_zipf_asymptote as;
  assert_int_equal(cls_zipf_asymptote_of(&n, &as, NULL, 0), CLS_OK);
  assert_true(fabs(as.exponent - 0.5 / 2.5) < 1e-15);
  n.real_fraction = 0.1;
  assert_int_equal(cls_zipf_asymptote_of(&n, &as, NULL, 0), CLS_OK);
  assert_true(fabs(as.exponent - 1.0 / 3.0) < 1e-15);
}

/* Tail-cut: after enough samples every kept item is seen, and the simulated
 * error sits on the floor sum_{i>k} p_i (within 2%), where the real source
 * keeps falling. */
static void test_cut_floor(void **state) {
  (void)state;
  cls_memoriser_config c = config(CLS_MEMORISER_CUT, 1.5, 100000);
  c.cut = 100;
  cls_memoriser *m = make(&c);
  cls_zipf_theory th = {CLS_ZIPF_CUT, 1.5, 100000, 100, 0, 0};
  cls_zipf_asymptote as;
  assert_int_equal(cls_zipf_asymptote_of(&th, &as, NULL, 0), CLS_OK);
  const uint64_t T[] = {1000, 200000};
  double run[2];
  curve(m, 3, T, 2, run);
  print_message("cut k=100: error %.5g at T=1e3, %.5g at T=2e5; floor %.5g\n", run[0], run[1], as.floor);
  assert_true(as.floor > 0.05);
  assert_true(fabs(run[1] / as.floor - 1) <= 0.02);
  assert_true(run[0] > 1.1 * as.floor);
  cls_memoriser_destroy(m);
}

/* ----------------------------------------------------------- determinism */

static void test_same_seed_same_numbers(void **state) {
  (void)state;
  cls_memoriser_config c = config(CLS_MEMORISER_FITTED, 1.4, 50000);
  c.fit_samples = 20000;
  c.real_fraction = 0.25;
  c.fit_seed = 77;
  cls_memoriser *a = make(&c), *b = make(&c);
  assert_memory_equal(cls_memoriser_q(a), cls_memoriser_q(b), 50000 * sizeof(double));
  const uint64_t T[] = {10, 1000, 54321, 100000};
  double ra[4], rb[4];
  curve(a, 11, T, 4, ra);
  curve(b, 11, T, 4, rb);
  assert_memory_equal(ra, rb, sizeof ra);
  /* Extending a learner piece by piece gives the one-pass numbers. */
  cls_memoriser_learner *l = NULL;
  assert_int_equal(cls_memoriser_learner_create(a, 11, &l, NULL, 0), CLS_OK);
  for (size_t j = 0; j < 4; j++) {
    assert_int_equal(cls_memoriser_learn(a, l, T[j] - 7 * (j > 0), NULL, 0), CLS_OK);
    assert_int_equal(cls_memoriser_learn(a, l, T[j], NULL, 0), CLS_OK);
    double e = cls_memoriser_learner_error(l);
    assert_memory_equal(&e, &ra[j], sizeof e);
  }
  char err[256] = "";
  assert_int_equal(cls_memoriser_learn(a, l, 5, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "`T`"));
  cls_memoriser_learner_destroy(l);
  /* Samples at an offset are the same samples (resume). */
  uint32_t s1[64], s2[32];
  assert_int_equal(cls_memoriser_sample(a, 11, 1000, 64, s1, NULL, 0), CLS_OK);
  assert_int_equal(cls_memoriser_sample(b, 11, 1033, 32, s2, NULL, 0), CLS_OK);
  assert_memory_equal(s1 + 33, s2, sizeof s2 - sizeof s2[0]);
  /* Another seed, another curve; another fit seed, another generator. */
  curve(a, 12, T, 4, rb);
  assert_true(memcmp(ra, rb, sizeof ra) != 0);
  c.fit_seed = 78;
  cls_memoriser *d = make(&c);
  assert_true(memcmp(cls_memoriser_q(a), cls_memoriser_q(d), 50000 * sizeof(double)) != 0);
  cls_memoriser_destroy(a);
  cls_memoriser_destroy(b);
  cls_memoriser_destroy(d);
}

/* ------------------------------------------------------ bad parameters */

static void expect_refused(const cls_memoriser_config *c, cls_status want, const char *field) {
  char err[512] = "";
  cls_memoriser *m = (cls_memoriser *)1;
  cls_status s = cls_memoriser_create(c, &m, err, sizeof err);
  if (s != want || m != NULL || !strstr(err, field))
    fail_msg("expected %d naming %s, got %d: %s", want, field, s, err);
}

static void expect_theory_refused(const cls_zipf_theory *th, const char *field) {
  char err[512] = "";
  double T = 10, e;
  cls_status s = cls_zipf_expected(th, &T, 1, &e, err, sizeof err);
  if (s == CLS_OK || !strstr(err, field))
    fail_msg("theory: expected a refusal naming %s, got %d: %s", field, s, err);
}

static void test_bad_parameters(void **state) {
  (void)state;
  cls_memoriser_config c;
  c = config(CLS_MEMORISER_REAL, 1.0, 100);
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`beta`");
  c.beta = NAN;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`beta`");
  c.beta = INFINITY;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`beta`");
  c = config(CLS_MEMORISER_NARROWED, 1.5, 100);
  c.beta_narrow = 1.5;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`beta_narrow`");
  c.beta_narrow = NAN;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`beta_narrow`");
  c = config(CLS_MEMORISER_CUT, 1.5, 100);
  c.cut = 0;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`cut`");
  c.cut = 101;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`cut`");
  c = config(CLS_MEMORISER_CUT, 1.5, 100);
  c.real_fraction = -0.1;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`real_fraction`");
  c.real_fraction = 1.5;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`real_fraction`");
  c.real_fraction = NAN;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`real_fraction`");
  c = config(CLS_MEMORISER_REAL, 1.5, 0);
  expect_refused(&c, CLS_ERR_INVALID_SIZE, "`vocab`");
  c = config(CLS_MEMORISER_FITTED, 1.5, 100);
  c.fit_samples = 0;
  expect_refused(&c, CLS_ERR_INVALID_SIZE, "`fit_samples`");
  c.fit_samples = (uint64_t)1 << 33;
  expect_refused(&c, CLS_ERR_INVALID_SIZE, "`fit_samples`");
  c = config(CLS_MEMORISER_REAL, 1.5, 7);
  c.kind = (cls_memoriser_kind)9;
  expect_refused(&c, CLS_ERR_INVALID_VALUE, "`kind`");
  /* Tables that do not fit: the size is named in bytes. */
  c = config(CLS_MEMORISER_NARROWED, 1.5, (uint64_t)1 << 36);
  expect_refused(&c, CLS_ERR_INVALID_SIZE, "bytes");
  c = config(CLS_MEMORISER_NARROWED, 1.5, 10000000);
  c.max_bytes = 100u << 20;
  assert_int_equal(cls_memoriser_bytes(&c), 240000000 + ((1u << 20) + 1) * 4);
  expect_refused(&c, CLS_ERR_INVALID_SIZE, "244194308");
  expect_refused(&c, CLS_ERR_INVALID_SIZE, "`max_bytes`");

  /* T of zero or NaN, checkpoints out of order. */
  c = config(CLS_MEMORISER_REAL, 1.5, 100);
  cls_memoriser *m = make(&c);
  char err[512] = "";
  double T0 = 0, e;
  assert_int_equal(cls_memoriser_expected(m, &T0, 1, &e, NULL, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "`T[0]`"));
  T0 = NAN;
  assert_int_equal(cls_memoriser_expected(m, &T0, 1, &e, NULL, err, sizeof err), CLS_ERR_INVALID_VALUE);
  const uint64_t bad0[] = {0, 5}, bad1[] = {5, 5};
  double out[2];
  assert_int_equal(cls_memoriser_curve(m, 1, bad0, 2, out, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "`T[0]`"));
  assert_int_equal(cls_memoriser_curve(m, 1, bad1, 2, out, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "`T[1]`"));
  cls_memoriser_destroy(m);

  /* The theory refuses the same. */
  cls_zipf_theory th = {CLS_ZIPF_REAL, 1.0, 100, 0, 0, 0};
  expect_theory_refused(&th, "`beta`");
  th.beta = NAN;
  expect_theory_refused(&th, "`beta`");
  th = (cls_zipf_theory){CLS_ZIPF_NARROWED, 2, 100, 0, 1.5, 0};
  expect_theory_refused(&th, "`beta_narrow`");
  th = (cls_zipf_theory){CLS_ZIPF_CUT, 2, 100, 0, 0, 0};
  expect_theory_refused(&th, "`cut`");
  th.cut = 200;
  expect_theory_refused(&th, "`cut`");
  th = (cls_zipf_theory){CLS_ZIPF_CUT, 2, 100, 5, 0, 2};
  expect_theory_refused(&th, "`real_fraction`");
  th = (cls_zipf_theory){CLS_ZIPF_REAL, 2, 0, 0, 0, 0};
  expect_theory_refused(&th, "`vocab`");
  th = (cls_zipf_theory){CLS_ZIPF_REAL, 2, 10, 0, NAN, 0};
  expect_theory_refused(&th, "`beta_narrow`");
  th = (cls_zipf_theory){CLS_ZIPF_REAL, 2, 10, 0, 3, 0};
  double Tz = 0.5, ez;
  assert_int_equal(cls_zipf_expected(&th, &Tz, 1, &ez, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "`T[0]`"));
}

/* The smallest models: one item is learnt by its first sample; a cut at
 * k = 1 of two items leaves the second's mass for ever. */
static void test_tiny_models(void **state) {
  (void)state;
  cls_memoriser_config c = config(CLS_MEMORISER_REAL, 2, 1);
  cls_memoriser *m = make(&c);
  const uint64_t T[] = {1, 5};
  const double Td[] = {1, 5};
  double run[2], e[2];
  curve(m, 1, T, 2, run);
  expected(m, Td, 2, e, NULL);
  assert_true(run[0] == 0 && run[1] == 0 && e[0] == 0 && e[1] == 0);
  cls_memoriser_destroy(m);
  c = config(CLS_MEMORISER_CUT, 2, 2);
  c.cut = 1;
  m = make(&c);
  curve(m, 1, T, 2, run);
  expected(m, Td, 2, e, NULL);
  double floor = 0.25 / 1.25;
  assert_true(fabs(run[0] - floor) < 1e-15 && fabs(run[1] - floor) < 1e-15);
  assert_true(fabs(e[0] - floor) < 1e-15 && fabs(cls_memoriser_floor(m) - floor) < 1e-15);
  /* The support is seen, so 10^18 samples cost nothing and change nothing. */
  const uint64_t Tbig[] = {100, 1000000000000000000u};
  curve(m, 1, Tbig, 2, run);
  assert_true(fabs(run[0] - floor) < 1e-15 && run[1] == run[0]);
  cls_memoriser_destroy(m);
}

/* ------------------------------------------------------------ V = 10^7 */

static void test_ten_million_items(void **state) {
  (void)state;
  cls_memoriser_config c = config(CLS_MEMORISER_REAL, 1.5, 10000000);
  double t0 = now();
  cls_memoriser *m = make(&c);
  double t1 = now();
  const uint64_t T[] = {10000, 100000, 2000000};
  const double Td[] = {10000, 100000, 2000000};
  double run[3], e[3], var[3];
  curve(m, 1, T, 3, run);
  double t2 = now();
  expected(m, Td, 3, e, var);
  double t3 = now();
  print_message("V = 1e7: build %.2f s, 2e6 samples %.2f s (%.0f ns each), E(T) at 3 points %.2f s; "
                "tables %zu bytes\n",
                t1 - t0, t2 - t1, 1e9 * (t2 - t1) / 2e6, t3 - t2, cls_memoriser_bytes(&c));
  for (size_t j = 0; j < 3; j++) {
    print_message("  T = %llu: simulated %.6g, expected %.6g +- %.2g\n", (unsigned long long)T[j], run[j], e[j],
                  sqrt(var[j]));
    assert_true(fabs(run[j] - e[j]) <= 5 * sqrt(var[j]));
  }
  /* The last item can come: the guide and the search reach the end. */
  cls_zipf_theory th = {CLS_ZIPF_REAL, 1.5, 10000000, 0, 0, 0};
  double et;
  theory(&th, &Td[2], 1, &et);
  assert_true(fabs(et - e[2]) <= 1e-12 * e[2]);
  cls_memoriser_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sampler_follows_q),
      cmocka_unit_test(test_simulation_matches_expectation),
      cmocka_unit_test(test_learner_error_from_samples),
      cmocka_unit_test(test_expected_agrees_with_theory),
      cmocka_unit_test(test_exponent_of_real_source),
      cmocka_unit_test(test_asymptotes),
      cmocka_unit_test(test_cut_floor),
      cmocka_unit_test(test_same_seed_same_numbers),
      cmocka_unit_test(test_bad_parameters),
      cmocka_unit_test(test_tiny_models),
      cmocka_unit_test(test_ten_million_items),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
