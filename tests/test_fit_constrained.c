/*
 * tests/test_fit_constrained.c — the data-constrained law (Muennighoff et
 * al. 2023, src/fit/constrained.c): on runs drawn from it (repeated data
 * decaying with R*_D, excess parameters with R*_N), R*_D comes back within
 * 10% with an interval that holds it; runs without repeats, or without
 * epochs, leave it unfitted with the reason.
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

/* Chinchilla's base law and the paper's decay constants */
static const double T[5] = {1.69, 406.4, 0.34, 410.7, 0.28};
static const double RD = 15.4, RN = 5.3;

static double eff(double u, double r, double rs) {
  return u + u * rs * (1 - exp(-r / rs));
}

/* compute-optimal N for D tokens under the base law (C = 6ND) */
static double nopt_for(double d) {
  double G = pow(T[2] * T[1] / (T[4] * T[3]), 1 / (T[2] + T[4]));
  double c6 = pow(G * d, (T[2] + T[4]) / T[2]);
  return G * pow(c6, T[4] / (T[2] + T[4]));
}

/* N in 4 sizes x U in 3 unique-data sizes x 7 epoch counts; loss from the
 * data-constrained law (excess parameters included when rn > 0) with
 * log-normal noise sigma. */
static cls_fit_input *runs(double sigma, bool excess, uint64_t seed) {
  enum { M = 4 * 3 * 7 };
  double N[M], D[M], C[M], L[M], ep[M];
  const double us[3] = {1e8, 1e9, 1e10}, eps[7] = {1, 2, 4, 8, 16, 32, 64};
  cls_rng rng = cls_rng_make(seed, 5);
  size_t k = 0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++)
      for (int e = 0; e < 7; e++, k++) {
        N[k] = 1e7 * pow(10, i * 2.0 / 3);
        D[k] = us[j] * eps[e], ep[k] = eps[e];
        C[k] = 6 * N[k] * D[k];
        double dp = eff(us[j], eps[e] - 1, RD), np = N[k];
        if (excess) {
          double un = fmin(N[k], nopt_for(us[j]));
          np = eff(un, N[k] / un - 1, RN);
        }
        L[k] = (T[0] + T[1] / pow(np, T[2]) + T[3] / pow(dp, T[4])) * exp(sigma * cls_rng_normal(rng, k, 0));
      }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, NULL, L, &in), CLS_OK);
  for (size_t i = 0; i < k; i++) in->pts[i].epochs = ep[i];
  return in;
}

static void fit(cls_fit_input *in, int boot, cls_fit_result *r) {
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = boot;
  o.starts = 200;
  assert_int_equal(cls_fit_all(in, &o, r), CLS_OK);
}

static void check(bool excess, double sigma, int boot) {
  cls_fit_input *in = runs(sigma, excess, 1);
  cls_fit_result r;
  fit(in, boot, &r);
  const cls_fit_constrained *c = &r.constrained;
  if (!c->ok) fail_msg("not fitted: %s", c->why);
  print_message("excess %d sigma %g: R*_D %.4g [%.4g, %.4g], R*_N %.4g (%zu runs with excess parameters), E %.4g, "
                "objective %.3g (plain %.3g)\n",
                excess, sigma, c->rd_star, c->rd_star_ci.lo, c->rd_star_ci.hi, c->rn_star, c->n_excess, c->E,
                c->objective, c->plain_objective);
  if (!(fabs(c->rd_star / RD - 1) < 0.1)) fail_msg("R*_D = %g, want %g within 10%%", c->rd_star, RD);
  assert_true(c->objective < c->plain_objective);
  assert_int_equal(c->n_repeated, 4 * 3 * 6);
  if (boot) assert_true(c->rd_star_ci.lo <= RD && RD <= c->rd_star_ci.hi);
  assert_true(fabs(c->half_value_epochs - (1 + c->rd_star * log(2))) < 1e-12);
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

static void test_constrained_recovers_rd(void **state) {
  (void)state;
  check(false, 0, 0);
  check(false, 0.005, 100);
}

static void test_constrained_with_excess_parameters(void **state) {
  (void)state;
  check(true, 0, 0);
  check(true, 0.005, 100);
}

static void test_constrained_not_fitted(void **state) {
  (void)state;
  cls_fit_input *in = runs(0, false, 1);
  for (size_t i = 0; i < in->n_pts; i++) in->pts[i].epochs = 1;
  cls_fit_result r;
  fit(in, 0, &r);
  assert_false(r.constrained.ok);
  assert_non_null(strstr(r.constrained.why, "repeat their data"));
  cls_fit_result_free(&r);
  in->pts[3].epochs = NAN;
  fit(in, 0, &r);
  assert_false(r.constrained.ok);
  assert_non_null(strstr(r.constrained.why, "83 of 84 runs record them"));
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constrained_recovers_rd),
      cmocka_unit_test(test_constrained_with_excess_parameters),
      cmocka_unit_test(test_constrained_not_fitted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
