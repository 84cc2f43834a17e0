/*
 * tests/test_fit_plan.c — planning from a fit (src/fit/plan.c): from a fit
 * of a known law the planned N, D and loss match the law's closed form to
 * 1e-6; a loss or model-size target lands on the budget that gives it; the
 * plan read back from fit.json equals the plan of the fit itself; fit.json
 * of another version and impossible targets are refused with a reason.
 * The plan under the data-constrained law matches the closed form where it
 * is the base law and a brute-force search elsewhere to 1e-6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit.h"
#include "fit/fitfile.h"
#include "test_util.h"

/* Chinchilla's law (Hoffmann et al. 2022) */
static const double T[5] = {1.69, 406.4, 0.34, 410.7, 0.28};

static double law(double n, double d) {
  return T[0] + T[1] / pow(n, T[2]) + T[3] / pow(d, T[4]);
}

/* The closed form: N* = G (C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)). */
static double closed_nopt(double c) {
  double G = pow(T[2] * T[1] / (T[4] * T[3]), 1 / (T[2] + T[4]));
  return G * pow(c / 6, T[4] / (T[2] + T[4]));
}

static void assert_rel(double got, double want, double tol, const char *what) {
  double rel = fabs(got - want) / fabs(want);
  if (!(rel <= tol)) fail_msg("%s = %.12g, want %.12g (relative error %.3g > %.3g)", what, got, want, rel, tol);
}

/* Noise-free runs of the law: 8 N x 8 D. */
static cls_fit_input *grid(void) {
  enum { G = 8 };
  double N[G * G], D[G * G], C[G * G], L[G * G];
  size_t k = 0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++, k++) {
      N[k] = 1e7 * pow(10, 3.0 * i / (G - 1));
      D[k] = 1e8 * pow(10, 3.0 * j / (G - 1));
      C[k] = 6 * N[k] * D[k];
      L[k] = law(N[k], D[k]);
    }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, NULL, L, &in), CLS_OK);
  return in;
}

static void fit(cls_fit_input *in, int boot, cls_fit_result *r) {
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = boot;
  o.starts = 300;
  assert_int_equal(cls_fit_all(in, &o, r), CLS_OK);
  assert_true(r->parametric.ok);
}

static void test_plan_closed_form(void **state) {
  (void)state;
  cls_fit_input *in = grid();
  cls_fit_result r;
  fit(in, 20, &r);
  cls_fit_laws laws;
  cls_fit_laws_of_result(&r, &laws);
  cls_fit_optimum opt[CLS_FIT_N_LAWS];
  char err[256];
  const double budgets[3] = {1e19, 1e22, 1e24};
  for (int i = 0; i < 3; i++) {
    double c = budgets[i], n = closed_nopt(c), d = c / (6 * n);
    assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, c, opt, err, sizeof err), CLS_OK);
    assert_true(opt[1].ok);
    assert_string_equal(opt[1].law, "parametric");
    assert_rel(opt[1].c, c, 1e-15, "C");
    assert_rel(opt[1].n, n, 1e-6, "N_opt");
    assert_rel(opt[1].d, d, 1e-6, "D_opt");
    assert_rel(opt[1].loss, law(n, d), 1e-6, "loss");
    /* the interval holds the point (noise-free: it is nearly the point) */
    assert_true(opt[1].n_ci.lo <= opt[1].n * (1 + 1e-9) && opt[1].n_ci.hi >= opt[1].n * (1 - 1e-9));
    assert_true(isnan(opt[1].c_ci.lo)); /* a budget asked for has no interval */
  }
  /* a model size: the budget at which it is optimal, and N back */
  double n = 3e9, c = 6 * pow(n / closed_nopt(6), (T[2] + T[4]) / T[4]);
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_PARAMS, n, opt, err, sizeof err), CLS_OK);
  assert_rel(opt[1].c, c, 1e-6, "C for N");
  assert_rel(opt[1].n, n, 1e-9, "N back");
  /* a loss: the budget whose optimal loss it is */
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, 1e23, opt, err, sizeof err), CLS_OK);
  double target = opt[1].loss;
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_LOSS, target, opt, err, sizeof err), CLS_OK);
  assert_rel(opt[1].c, 1e23, 1e-8, "C for L");
  assert_rel(opt[1].loss, target, 1e-12, "L back");
  /* below the floor: no budget, and the reason names E */
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_LOSS, 1.5, opt, err, sizeof err), CLS_OK);
  assert_false(opt[1].ok);
  assert_non_null(strstr(opt[1].why, "irreducible loss E"));
  /* the frontier says nothing of N; the IsoFLOP laws nothing of the loss */
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_PARAMS, 1e9, opt, err, sizeof err), CLS_OK);
  assert_false(opt[2].ok);
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, -1, opt, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "positive"));
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

/* fit.json keeps the draws: the plan from the file equals the plan of the
 * fit, intervals included. */
static void test_plan_from_file(void **state) {
  (void)state;
  cls_fit_input *in = grid();
  cls_fit_result r;
  fit(in, 30, &r);
  char dir[1024], path[1200], err[1024];
  test_tmpdir("fit_plan", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  assert_int_equal(cls_fit_write_json(&r, in, path, err, sizeof err), CLS_OK);
  cls_fit *f = NULL;
  if (cls_fit_load(path, &f, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(f->version, CLS_FIT_JSON_VERSION);
  assert_rel(f->runs_c_lo, 6e15, 1e-12, "runs_flops_range lo");
  cls_fit_laws a, b;
  cls_fit_laws_of_result(&r, &a);
  assert_int_equal(cls_fit_laws_of_file(f, path, &b, err, sizeof err), CLS_OK);
  assert_int_equal(b.n_par_draws, 30);
  cls_fit_optimum x[CLS_FIT_N_LAWS], y[CLS_FIT_N_LAWS];
  assert_int_equal(cls_fit_optimum_at(&a, CLS_PLAN_FLOPS, 1e22, x, err, sizeof err), CLS_OK);
  assert_int_equal(cls_fit_optimum_at(&b, CLS_PLAN_FLOPS, 1e22, y, err, sizeof err), CLS_OK);
  for (int i = 0; i < CLS_FIT_N_LAWS; i++) {
    assert_int_equal(x[i].ok, y[i].ok);
    if (!x[i].ok) continue;
    if (isfinite(x[i].n)) assert_rel(y[i].n, x[i].n, 1e-12, "N from the file");
    if (isfinite(x[i].loss)) assert_rel(y[i].loss, x[i].loss, 1e-12, "loss from the file");
    if (isfinite(x[i].n_ci.lo)) assert_rel(y[i].n_ci.lo, x[i].n_ci.lo, 1e-12, "N interval from the file");
    if (isfinite(x[i].loss_ci.hi)) assert_rel(y[i].loss_ci.hi, x[i].loss_ci.hi, 1e-12, "loss interval");
  }
  cls_fit_destroy(f);
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

/* Version 1 (no draws) is read for the plots but refused for a plan; an
 * unknown version is refused by the reader. */
static void test_plan_versions(void **state) {
  (void)state;
  char dir[1024], path[1200], err[1024];
  test_tmpdir("fit_plan_versions", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  FILE *o = fopen(path, "w");
  assert_non_null(o);
  fprintf(
      o,
      "{\"version\": 1, \"parametric\": {\"E\": 1.7, \"A\": 400, \"alpha\": 0.34, \"B\": 410, \"beta\": 0.28}}\n");
  fclose(o);
  cls_fit *f = NULL;
  assert_int_equal(cls_fit_load(path, &f, err, sizeof err), CLS_OK);
  cls_fit_laws laws;
  assert_int_equal(cls_fit_laws_of_file(f, path, &laws, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "rerun clscale fit"));
  cls_fit_destroy(f);
  o = fopen(path, "w");
  assert_non_null(o);
  fprintf(o, "{\"version\": 3, \"frontier\": {\"E\": 1, \"k\": 2, \"gamma\": 0.3}}\n");
  fclose(o);
  assert_int_equal(cls_fit_load(path, &f, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "version 3"));
  /* no law at all */
  memset(&laws, 0, sizeof laws);
  cls_fit_optimum opt[CLS_FIT_N_LAWS];
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, 1e20, opt, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "no law is fitted"));
}

/* The choices: E pinned (--fix-E) stays where it is pinned and, pinned at
 * the truth, the rest comes back; IsoFLOP parabolas of the loss itself
 * (--isoflop-space loss); a profile without an interior minimum names the
 * way to extend its grid; the prediction interval of a run's loss holds
 * the confidence interval of the law's. */
static void test_choices(void **state) {
  (void)state;
  cls_fit_input *in = grid();
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 0;
  o.starts = 300;
  o.fix_E = T[0];
  cls_fit_parametric p;
  assert_int_equal(cls_fit_parametric_run(in, &o, &p), CLS_OK);
  assert_true(p.ok);
  assert_true(p.E == T[0]);
  assert_rel(p.alpha, T[2], 1e-6, "alpha with E pinned");
  assert_rel(p.B, T[3], 1e-6, "B with E pinned");
  free(p.predicted), free(p.boot), free(p.residuals);
  o.fix_E = 1.5; /* a wrong floor: E stays put, the others bend to it */
  assert_int_equal(cls_fit_parametric_run(in, &o, &p), CLS_OK);
  assert_true(p.ok && p.E == 1.5 && p.objective > 0);
  free(p.predicted), free(p.boot), free(p.residuals);
  cls_fit_input_destroy(in);

  /* IsoFLOP: 6 sizes around the optimum of 3 budgets, and one budget
   * whose sizes are all below its optimum */
  double N[24], D[24], C[24], bud[24], L[24];
  size_t k = 0;
  for (int b = 0; b < 4; b++) {
    double c = 1e19 * pow(10, b), ns = closed_nopt(c) * (b == 3 ? 1e-3 : 1);
    for (int j = 0; j < 6; j++, k++) {
      N[k] = ns * pow(10, 0.3 * (j - 2.5)), D[k] = c / (6 * N[k]), C[k] = c, bud[k] = c;
      L[k] = law(N[k], D[k]);
    }
  }
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, bud, L, &in), CLS_OK);
  cls_fit_isoflop lg, ln;
  o.fix_E = NAN;
  assert_int_equal(cls_fit_isoflop_run(in, &o, &lg), CLS_OK);
  o.isoflop_linear = true;
  assert_int_equal(cls_fit_isoflop_run(in, &o, &ln), CLS_OK);
  assert_int_equal(lg.n_used, 3);
  assert_int_equal(ln.n_used, 3);
  for (int b = 0; b < 3; b++) {
    /* both near the law's optimum, and not the same parabola */
    assert_rel(lg.budgets[b].n_opt, closed_nopt(1e19 * pow(10, b)), 0.1, "N_opt, log loss");
    assert_rel(ln.budgets[b].n_opt, closed_nopt(1e19 * pow(10, b)), 0.1, "N_opt, loss");
    assert_true(lg.budgets[b].n_opt != ln.budgets[b].n_opt);
    assert_rel(ln.budgets[b].loss_opt, law(ln.budgets[b].n_opt, 1e19 * pow(10, b) / (6 * ln.budgets[b].n_opt)),
               1e-3, "loss_opt, loss");
  }
  assert_false(lg.budgets[3].used);
  if (!strstr(lg.budgets[3].why, "extend this budget's grid to larger models"))
    fail_msg("why: %s", lg.budgets[3].why);
  free(lg.budgets), free(lg.boot_a), free(lg.boot_b), free(lg.boot_law), free(lg.point_budget);
  free(ln.budgets), free(ln.boot_a), free(ln.boot_b), free(ln.boot_law), free(ln.point_budget);
  cls_fit_input_destroy(in);

  /* noise-free runs of the law: resampling the runs picks parabolas through
   * other subsets of an imperfect profile, and the interval on the exponent
   * stays wide; resampling the residuals about each parabola shrinks it to
   * their (small, systematic) scatter */
  k = 0;
  for (int b = 0; b < 4; b++) {
    double c = 1e18 * pow(10, b), ns = closed_nopt(c);
    for (int j = 0; j < 6; j++, k++) {
      N[k] = ns * pow(10, 0.3 * (j - 2.5)), D[k] = c / (6 * N[k]), C[k] = c, bud[k] = c;
      L[k] = law(N[k], D[k]);
    }
  }
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, bud, L, &in), CLS_OK);
  double width[2];
  for (int m = 0; m < 2; m++) {
    cls_fit_isoflop iso;
    o.isoflop_linear = false;
    o.isoflop_residuals = m == 1;
    o.bootstrap = 200;
    assert_int_equal(cls_fit_isoflop_run(in, &o, &iso), CLS_OK);
    assert_true(iso.ok);
    width[m] = iso.n_fit.exponent_ci.hi - iso.n_fit.exponent_ci.lo;
    free(iso.budgets), free(iso.boot_a), free(iso.boot_b), free(iso.boot_law), free(iso.point_budget);
  }
  print_message("exponent interval width on exact data: runs %.3g, residuals %.3g\n", width[0], width[1]);
  assert_true(width[1] < 0.5 * width[0]);
  o.bootstrap = 0;
  o.isoflop_residuals = false;
  cls_fit_input_destroy(in);

  /* prediction interval beside the confidence interval, on noisy runs */
  in = grid();
  for (size_t i = 0; i < in->n_pts; i++) in->pts[i].loss *= 1 + 0.01 * sin(7.0 * (double)i);
  cls_fit_result r;
  fit(in, 100, &r);
  cls_fit_laws laws;
  cls_fit_laws_of_result(&r, &laws);
  cls_fit_optimum opt[CLS_FIT_N_LAWS];
  char err[256];
  assert_int_equal(cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, 1e21, opt, err, sizeof err), CLS_OK);
  assert_true(opt[1].loss_pi.lo < opt[1].loss_ci.lo && opt[1].loss_pi.hi > opt[1].loss_ci.hi);
  assert_true(isnan(opt[0].loss_pi.lo) && isnan(opt[2].loss_pi.lo)); /* the parametric law's only */
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

/* Runs whose log loss is exactly a parabola in log N at every budget, with
 * the minima on an exact power law N_opt = 0.1·C^0.5: resampling the
 * residuals about the parabolas (--isoflop-resample residuals) redraws
 * zeros, so the interval on the exponent is the point (docs/fit.md,
 * "Intervals on noise-free data"). */
static void test_isoflop_exact_parabolas_collapse(void **state) {
  (void)state;
  double N[24], D[24], C[24], bud[24], L[24];
  size_t k = 0;
  for (int b = 0; b < 4; b++) {
    double c = 1e18 * pow(10, b), xs = log10(0.1 * sqrt(c));
    for (int j = 0; j < 6; j++, k++) {
      double x = xs + 0.3 * (j - 2.5);
      N[k] = pow(10, x), D[k] = c / (6 * N[k]), C[k] = c, bud[k] = c;
      L[k] = pow(10, 0.05 * (x - xs) * (x - xs) + 0.3 - 0.05 * b);
    }
  }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, bud, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 100;
  o.isoflop_residuals = true;
  cls_fit_isoflop iso;
  assert_int_equal(cls_fit_isoflop_run(in, &o, &iso), CLS_OK);
  assert_true(iso.ok);
  assert_rel(iso.n_fit.exponent, 0.5, 1e-9, "N_opt exponent");
  print_message("exponent interval on exact parabolas: [%.15g, %.15g]\n", iso.n_fit.exponent_ci.lo,
                iso.n_fit.exponent_ci.hi);
  assert_true(iso.n_fit.exponent_ci.hi - iso.n_fit.exponent_ci.lo < 1e-9);
  assert_rel(iso.n_fit.exponent_ci.lo, 0.5, 1e-9, "interval on exact parabolas");
  free(iso.budgets), free(iso.boot_a), free(iso.boot_b), free(iso.boot_law), free(iso.point_budget);
  cls_fit_input_destroy(in);
}

/* ------------------------------------------- the data-constrained plan */

static const double RD = 15.4, RN = 5.3; /* Muennighoff et al.'s decay constants */

/* The test's own statement of the data-constrained law over the base law
 * T: D' = U + U·R*_D·(1 − e^{−(D/U − 1)/R*_D}) when D > U; N' = U_N +
 * U_N·R*_N·(1 − e^{−(N/U_N − 1)/R*_N}) when N > U_N, with U_N the base
 * law's compute-optimal N for min(D, U) tokens, G^((α+β)/α)·U^(β/α). */
static double dc_law(double rd, double rn, double n, double d, double u) {
  double dp = d, np = n;
  if (d > u) dp = u + u * rd * (1 - exp(-(d / u - 1) / rd));
  if (isfinite(rn)) {
    double G = pow(T[2] * T[1] / (T[4] * T[3]), 1 / (T[2] + T[4]));
    double un = pow(G, (T[2] + T[4]) / T[2]) * pow(fmin(d, u), T[4] / T[2]);
    if (n > un) np = un + un * rn * (1 - exp(-(n / un - 1) / rn));
  }
  return law(np, dp);
}

static double dc_along(double rd, double rn, double c, double u, double x) {
  return dc_law(rd, rn, exp(x), c / 6 / exp(x), u);
}

/* The brute-force optimum along C = 6ND: every 0.001 of ln N over 12
 * e-folds either side of the base law's N_opt, then a ternary search
 * between the best point's neighbours. */
static double brute_nopt(double rd, double rn, double c, double u) {
  double x0 = log(closed_nopt(c)) - 12, best = x0, fb = INFINITY;
  for (int i = 0; i <= 24000; i++) {
    double x = x0 + 1e-3 * i, f = dc_along(rd, rn, c, u, x);
    if (f < fb) fb = f, best = x;
  }
  assert_true(best > x0 + 0.5 && best < x0 + 23.5); /* inside the scan */
  double a = best - 1e-3, b = best + 1e-3;
  for (int k = 0; k < 300 && b - a > 1e-13; k++) {
    double m1 = a + (b - a) / 3, m2 = b - (b - a) / 3;
    if (dc_along(rd, rn, c, u, m1) < dc_along(rd, rn, c, u, m2))
      b = m2;
    else
      a = m1;
  }
  return exp(0.5 * (a + b));
}

static void dc_laws(double rd, double rn, cls_fit_laws *L) {
  memset(L, 0, sizeof *L);
  L->has_par = L->has_dc = true;
  memcpy(L->par, T, sizeof T);
  memcpy(L->dc, T, sizeof T);
  L->dc[5] = rd, L->dc[6] = rn;
}

static void check_dc_plan(double rd, double rn, double c, double u, double n_want) {
  cls_fit_laws L;
  dc_laws(rd, rn, &L);
  cls_fit_dc_plan p;
  char err[256];
  assert_int_equal(cls_fit_constrained_plan(&L, c, u, &p, err, sizeof err), CLS_OK);
  if (!p.ok) fail_msg("no plan at C %g, U %g: %s", c, u, p.why);
  double d_want = c / 6 / n_want;
  print_message("R*_D %g R*_N %g C %g U %g: N %.10g (want %.10g), %.4g epochs, loss %.10g\n", rd, rn, c, u, p.n,
                n_want, p.epochs, p.loss);
  if (p.n_flat_hi > 1.05 * p.n_flat_lo) {
    /* both D' and N' saturated: every N of the span is optimal */
    print_message("  flat from N %.4g to %.4g\n", p.n_flat_lo, p.n_flat_hi);
    assert_true(p.n_flat_lo <= n_want && n_want <= p.n_flat_hi);
    assert_rel(p.loss, dc_law(rd, rn, n_want, c / 6 / n_want, u), 1e-9, "constrained loss on the flat");
    return;
  }
  assert_true(p.n_flat_lo <= p.n && p.n <= p.n_flat_hi);
  assert_rel(p.n, n_want, 1e-6, "constrained N_opt");
  assert_rel(p.d, d_want, 1e-6, "constrained D_opt");
  assert_rel(p.epochs, d_want / u, 1e-6, "epochs");
  assert_rel(p.loss, dc_law(rd, rn, n_want, d_want, u), 1e-6, "constrained loss");
  assert_true(isnan(p.n_ci.lo)); /* no draws, no interval */
}

/* The plan under the data-constrained law: the closed form where the law
 * is the base law (unique data beyond the plain D_opt; R*_D so large that
 * repeats are as good as fresh data), a brute-force search elsewhere. */
static void test_constrained_plan(void **state) {
  (void)state;
  double c = 1e22, n = closed_nopt(c), d = c / 6 / n;
  /* closed form: no repeats, or repeats worth fresh data */
  check_dc_plan(RD, NAN, c, 2 * d, n);
  check_dc_plan(RD, RN, c, 2 * d, n);
  check_dc_plan(1e9, NAN, c, d / 40, n);
  /* brute force: a few to many repeats, with and without excess parameters */
  const double us[3] = {d / 3, d / 40, d / 1000};
  for (int i = 0; i < 3; i++) {
    check_dc_plan(RD, NAN, c, us[i], brute_nopt(RD, NAN, c, us[i]));
    check_dc_plan(RD, RN, c, us[i], brute_nopt(RD, RN, c, us[i]));
  }
  /* repeats cost: with 1/40 of the data the run is larger and the loss higher */
  cls_fit_laws L;
  cls_fit_dc_plan p;
  char err[256];
  dc_laws(RD, NAN, &L);
  assert_int_equal(cls_fit_constrained_plan(&L, c, d / 40, &p, err, sizeof err), CLS_OK);
  assert_true(p.n > n && p.loss > law(n, d));
  /* the library's loss is the test's law */
  const double np[3] = {1e8, 3e10, 1e12}, dp[3] = {1e9, 5e10, 1e13};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      assert_rel(cls_fit_constrained_loss(L.dc, L.par, np[i], dp[j], 2e10), dc_law(RD, NAN, np[i], dp[j], 2e10),
                 1e-12, "the library's law");
  L.dc[6] = RN;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      assert_rel(cls_fit_constrained_loss(L.dc, L.par, np[i], dp[j], 2e10), dc_law(RD, RN, np[i], dp[j], 2e10),
                 1e-12, "the library's law with R*_N");
  /* bad inputs: no unique data, a budget that is none, no law */
  assert_int_equal(cls_fit_constrained_plan(&L, c, 0, &p, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "--n-train"));
  assert_int_equal(cls_fit_constrained_plan(&L, c, NAN, &p, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "unique training data"));
  assert_int_equal(cls_fit_constrained_plan(&L, -1, 1e9, &p, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "budget"));
  L.has_par = false;
  assert_int_equal(cls_fit_constrained_plan(&L, c, 1e9, &p, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "plain parametric law"));
  L.has_dc = false;
  assert_int_equal(cls_fit_constrained_plan(&L, c, 1e9, &p, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "not fitted"));
}

/* From a fit: runs drawn from the data-constrained law (4 N x 3 unique
 * sizes x 6 epoch counts, exact) give the law back, the plan's intervals
 * from its resamples hold the plan, and fit.json gives the same plan. */
static void test_constrained_plan_from_fit(void **state) {
  (void)state;
  enum { M = 4 * 3 * 6 };
  double N[M], D[M], C[M], L[M], ep[M];
  const double us[3] = {1e8, 1e9, 1e10}, eps[6] = {1, 2, 4, 8, 16, 32};
  size_t k = 0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++)
      for (int e = 0; e < 6; e++, k++) {
        N[k] = 1e7 * pow(10, i * 2.0 / 3), D[k] = us[j] * eps[e], ep[k] = eps[e];
        C[k] = 6 * N[k] * D[k], L[k] = dc_law(RD, NAN, N[k], D[k], us[j]);
      }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, NULL, L, &in), CLS_OK);
  for (size_t i = 0; i < k; i++) in->pts[i].epochs = ep[i];
  cls_fit_result r;
  fit(in, 20, &r);
  if (!r.constrained.ok) fail_msg("not fitted: %s", r.constrained.why);
  cls_fit_laws a, b;
  cls_fit_laws_of_result(&r, &a);
  assert_true(a.has_dc);
  assert_int_equal(a.n_dc_draws, 20);
  assert_rel(a.dc[5], RD, 1e-3, "R*_D");
  double c = 1e21, u = 1e9;
  cls_fit_dc_plan x, y;
  char dir[1024], path[1200], err[1024];
  assert_int_equal(cls_fit_constrained_plan(&a, c, u, &x, err, sizeof err), CLS_OK);
  assert_true(x.ok);
  assert_rel(x.n, brute_nopt(RD, NAN, c, u), 1e-3, "N_opt of the fitted law");
  assert_true(x.n_ci.lo <= x.n * (1 + 1e-9) && x.n * (1 - 1e-9) <= x.n_ci.hi);
  assert_true(x.loss_ci.lo <= x.loss * (1 + 1e-9) && x.loss * (1 - 1e-9) <= x.loss_ci.hi);
  assert_true(x.epochs_ci.lo <= x.epochs * (1 + 1e-9) && x.epochs * (1 - 1e-9) <= x.epochs_ci.hi);
  test_tmpdir("fit_plan_dc", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  assert_int_equal(cls_fit_write_json(&r, in, path, err, sizeof err), CLS_OK);
  cls_fit *f = NULL;
  if (cls_fit_load(path, &f, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(cls_fit_laws_of_file(f, path, &b, err, sizeof err), CLS_OK);
  assert_true(b.has_dc);
  assert_rel(b.dc[6], a.dc[6], 1e-12, "R*_N from the file"); /* fitted: the plain law puts U_N below N */
  assert_int_equal(cls_fit_constrained_plan(&b, c, u, &y, err, sizeof err), CLS_OK);
  assert_rel(y.n, x.n, 1e-7, "N from the file"); /* fit.json's digits move the flat optimum */
  assert_rel(y.loss, x.loss, 1e-12, "loss from the file");
  assert_rel(y.n_ci.hi, x.n_ci.hi, 1e-7, "N interval from the file");
  cls_fit_destroy(f);
  /* a fit without repeats has no such law, and fit.json says why */
  for (size_t i = 0; i < k; i++) in->pts[i].epochs = 1;
  cls_fit_result_free(&r);
  fit(in, 0, &r);
  assert_false(r.constrained.ok);
  assert_int_equal(cls_fit_write_json(&r, in, path, err, sizeof err), CLS_OK);
  if (cls_fit_load(path, &f, err, sizeof err)) fail_msg("%s", err);
  assert_false(f->constrained.present);
  assert_non_null(strstr(f->constrained.why, "repeat their data"));
  assert_int_equal(cls_fit_laws_of_file(f, path, &b, err, sizeof err), CLS_OK);
  assert_false(b.has_dc);
  cls_fit_destroy(f);
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_closed_form),
      cmocka_unit_test(test_plan_from_file),
      cmocka_unit_test(test_plan_versions),
      cmocka_unit_test(test_choices),
      cmocka_unit_test(test_isoflop_exact_parabolas_collapse),
      cmocka_unit_test(test_constrained_plan),
      cmocka_unit_test(test_constrained_plan_from_fit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
