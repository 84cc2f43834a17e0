/*
 * tests/test_fit_backtest.c — the backtest (src/fit/backtest.c): on runs of
 * a known law with noise, the truth of a held-out run falls inside its 95%
 * prediction interval in about 95% of cases over many seeds; a hold-out
 * that leaves fewer than two budgets is refused with the counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/fit.h"
#include "test_util.h"

static const double T[5] = {1.69, 406.4, 0.34, 410.7, 0.28};

static double law(double n, double d) {
  return T[0] + T[1] / pow(n, T[2]) + T[3] / pow(d, T[4]);
}

enum { NB = 5, NS = 6 };

/* An IsoFLOP design: NB budgets a decade apart, NS sizes around each
 * budget's optimum (C = 6ND), log-normal noise sigma drawn with seed. */
static cls_fit_input *design(double sigma, uint64_t seed) {
  double N[NB * NS], D[NB * NS], C[NB * NS], bud[NB * NS], L[NB * NS];
  double G = pow(T[2] * T[1] / (T[4] * T[3]), 1 / (T[2] + T[4])), a = T[4] / (T[2] + T[4]);
  cls_rng rng = cls_rng_make(seed, 99);
  size_t k = 0;
  for (int b = 0; b < NB; b++) {
    double c = 1e17 * pow(10, b), ns = G * pow(c / 6, a);
    for (int j = 0; j < NS; j++, k++) {
      N[k] = ns * pow(10, 0.3 * (j - (NS - 1) / 2.0));
      D[k] = c / (6 * N[k]);
      C[k] = c, bud[k] = c;
      L[k] = law(N[k], D[k]) * exp(sigma * cls_rng_normal(rng, k, 0));
    }
  }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, bud, L, &in), CLS_OK);
  return in;
}

/* Over 50 seeds x 6 held-out runs, the 95% prediction intervals hold the
 * observed loss in 90-99% of the 300 cases (a binomial 95% gives 91.8-98.2%
 * at 2.5 standard deviations; the bootstrap's intervals are approximate). */
static void test_backtest_coverage(void **state) {
  (void)state;
  size_t inside = 0, total = 0;
  double err_sum = 0, pi_width = 0, ci_width = 0;
  for (uint64_t seed = 1; seed <= 50; seed++) {
    cls_fit_input *in = design(0.01, seed), *train = NULL;
    cls_fit_options o;
    cls_fit_options_default(&o);
    o.bootstrap = 100;
    o.starts = 25;
    o.seed = seed;
    cls_fit_result r;
    cls_fit_backtest bt;
    char err[512];
    cls_status st = cls_fit_backtest_run(in, &o, 1, &r, &train, &bt, err, sizeof err);
    if (st) fail_msg("seed %llu: %s", (unsigned long long)seed, err);
    assert_int_equal(bt.n_runs, NS);
    assert_int_equal(bt.n_train, (NB - 1) * NS);
    assert_int_equal(bt.n_held_budgets, 1);
    for (size_t i = 0; i < bt.n_runs; i++) {
      err_sum += fabs(bt.runs[i].rel_error);
      pi_width += bt.runs[i].pi.hi - bt.runs[i].pi.lo;
      ci_width += bt.runs[i].ci.hi - bt.runs[i].ci.lo;
    }
    inside += bt.n_inside, total += bt.n_runs;
    cls_fit_backtest_free(&bt);
    cls_fit_result_free(&r);
    cls_fit_input_destroy(train);
    cls_fit_input_destroy(in);
  }
  double cov = (double)inside / (double)total;
  print_message("backtest coverage %.3f over %zu held-out runs, mean |error| %.4f\n", cov, total,
                err_sum / (double)total);
  /* a run's loss is less certain than the law's value at it */
  assert_true(pi_width > ci_width);
  if (cov < 0.90 || cov > 0.99) fail_msg("coverage %.3f of the 95%% prediction intervals", cov);
}

static void test_backtest_bad_holdout(void **state) {
  (void)state;
  cls_fit_input *in = design(0, 1), *train = NULL;
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 0;
  o.starts = 10;
  cls_fit_result r;
  cls_fit_backtest bt;
  char err[512];
  assert_int_equal(cls_fit_backtest_run(in, &o, 4, &r, &train, &bt, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "leaves 1 of the 5 budgets"));
  assert_non_null(strstr(err, "hold out at most 3"));
  assert_null(train);
  assert_int_equal(cls_fit_backtest_run(in, &o, 0, &r, &train, &bt, err, sizeof err), CLS_ERR_INVALID_VALUE);
  /* noise-free: the held-out runs are predicted to 1e-6 */
  o.starts = 300;
  assert_int_equal(cls_fit_backtest_run(in, &o, 2, &r, &train, &bt, err, sizeof err), CLS_OK);
  assert_int_equal(bt.n_runs, 2 * NS);
  if (!(bt.max_abs_rel_error < 1e-6)) fail_msg("noise-free prediction off by %g", bt.max_abs_rel_error);
  assert_true(bt.n_held_budgets == 2 && bt.budgets[0].budget == 1e20);
  cls_fit_backtest_free(&bt);
  cls_fit_result_free(&r);
  cls_fit_input_destroy(train);
  cls_fit_input_destroy(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backtest_coverage),
      cmocka_unit_test(test_backtest_bad_holdout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
