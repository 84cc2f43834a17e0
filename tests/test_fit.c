/*
 * tests/test_fit.c — the scaling-law fitter recovers known laws: noise-free
 * data give every parameter back to 1e-3 relative (frontier, IsoFLOP,
 * parametric); with multiplicative noise the bootstrap intervals cover the
 * truth in most seeds; a budget without an interior minimum is reported and
 * left out; fit.json reads back through the plotter's reader.
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
#include "plot/rundir.h"
#include "test_util.h"

/* Chinchilla's fitted law (Hoffmann et al. 2022) */
static const double T_E = 1.69, T_A = 406.4, T_ALPHA = 0.34, T_B = 410.7, T_BETA = 0.28;

static double law(double n, double d) {
  return T_E + T_A / pow(n, T_ALPHA) + T_B / pow(d, T_BETA);
}

/* R runs of the law with 1% log-normal noise, drawn uniformly in log N
 * (from n_lo over three decades) and log D (from 10^8 over three), from
 * the counter-based stream (seed, stream): the data of the many-rows tests. */
static void draw_runs(size_t R, double n_lo, uint64_t seed, uint64_t stream, double *N, double *D, double *C,
                      double *L) {
  cls_rng rng = cls_rng_make(seed, stream);
  for (size_t k = 0; k < R; k++) {
    N[k] = n_lo * pow(10, 3.0 * cls_rng_uniform(rng, k, 0));
    D[k] = 1e8 * pow(10, 3.0 * cls_rng_uniform(rng, k, 1));
    C[k] = 6 * N[k] * D[k];
    L[k] = law(N[k], D[k]) * exp(0.01 * cls_rng_normal(rng, k, 2));
  }
}

static void assert_rel(double got, double want, double tol, const char *what) {
  double rel = fabs(got - want) / fabs(want);
  if (!(rel <= tol)) fail_msg("%s = %.9g, want %.9g (relative error %.3g > %.3g)", what, got, want, rel, tol);
}

/* A grid of 8 N × 8 D, optionally with log-normal noise of relative size
 * sigma drawn with the given seed. */
static cls_fit_input *grid_input(double sigma, uint64_t seed) {
  enum { G = 8 };
  double N[G * G], D[G * G], C[G * G], L[G * G];
  cls_rng rng = cls_rng_make(seed, 77);
  size_t k = 0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++, k++) {
      N[k] = 1e7 * pow(10, 3.0 * i / (G - 1));
      D[k] = 1e8 * pow(10, 3.0 * j / (G - 1));
      C[k] = 6 * N[k] * D[k];
      L[k] = law(N[k], D[k]) * exp(sigma * cls_rng_normal(rng, k, 0));
    }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(k, N, D, C, NULL, L, &in), CLS_OK);
  return in;
}

static void test_parametric_noise_free(void **state) {
  (void)state;
  cls_fit_input *in = grid_input(0, 0);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 0;
  cls_fit_parametric p;
  assert_int_equal(cls_fit_parametric_run(in, &o, &p), CLS_OK);
  assert_true(p.ok);
  assert_int_equal(p.n_starts, 5400);
  assert_rel(p.E, T_E, 1e-3, "E");
  assert_rel(p.A, T_A, 1e-3, "A");
  assert_rel(p.alpha, T_ALPHA, 1e-3, "alpha");
  assert_rel(p.B, T_B, 1e-3, "B");
  assert_rel(p.beta, T_BETA, 1e-3, "beta");
  assert_rel(p.a, T_BETA / (T_ALPHA + T_BETA), 1e-3, "a");
  assert_rel(p.b, T_ALPHA / (T_ALPHA + T_BETA), 1e-3, "b");
  for (size_t i = 0; i < in->n_pts; i++) assert_rel(p.predicted[i], in->pts[i].loss, 1e-6, "predicted");
  free(p.predicted), free(p.boot), free(p.residuals);
  cls_fit_input_destroy(in);
}

/* 1% multiplicative noise: the 95% intervals cover the true value of every
 * parameter in at least 8 of 10 seeds. */
static void test_parametric_coverage(void **state) {
  (void)state;
  const double truth[7] = {
      T_E, T_A, T_ALPHA, T_B, T_BETA, T_BETA / (T_ALPHA + T_BETA), T_ALPHA / (T_ALPHA + T_BETA)};
  const char *names[7] = {"E", "A", "alpha", "B", "beta", "a", "b"};
  int covered[7] = {0};
  for (uint64_t seed = 1; seed <= 10; seed++) {
    cls_fit_input *in = grid_input(0.01, seed);
    cls_fit_options o;
    cls_fit_options_default(&o);
    o.bootstrap = 200;
    o.starts = 300; /* a strided subset of the grid keeps the test short */
    o.seed = seed;
    cls_fit_parametric p;
    assert_int_equal(cls_fit_parametric_run(in, &o, &p), CLS_OK);
    assert_true(p.ok);
    assert_true(p.boot_ok >= 190);
    cls_ci ci[7] = {p.E_ci, p.A_ci, p.alpha_ci, p.B_ci, p.beta_ci, p.a_ci, p.b_ci};
    for (int k = 0; k < 7; k++) {
      assert_true(isfinite(ci[k].lo) && ci[k].lo <= ci[k].hi);
      covered[k] += ci[k].lo <= truth[k] && truth[k] <= ci[k].hi;
    }
    free(p.predicted), free(p.boot), free(p.residuals);
    cls_fit_input_destroy(in);
  }
  for (int k = 0; k < 7; k++) {
    print_message("coverage of %s: %d/10\n", names[k], covered[k]);
    if (covered[k] < 8) fail_msg("the interval of %s covers the truth in %d of 10 seeds", names[k], covered[k]);
  }
}

/* 6,000 runs at random N and D with 1% noise: beyond the row counts at
 * which the parametric fit runs its start grid on a subsample and its
 * bootstrap m-out-of-n (src/fit/parametric.c). The law still comes back,
 * and the rescaled intervals still cover the truth in most seeds. */
static void test_parametric_many_rows(void **state) {
  (void)state;
  enum { R = 6000 };
  static double N[R], D[R], C[R], L[R];
  int covered_alpha = 0, covered_beta = 0;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    draw_runs(R, 1e7, seed, 78, N, D, C, L);
    cls_fit_input *in;
    assert_int_equal(cls_fit_input_from_arrays(R, N, D, C, NULL, L, &in), CLS_OK);
    cls_fit_options o;
    cls_fit_options_default(&o);
    o.bootstrap = 100;
    o.starts = 300;
    o.seed = seed;
    cls_fit_parametric p;
    assert_int_equal(cls_fit_parametric_run(in, &o, &p), CLS_OK);
    assert_true(p.ok && p.boot_ok >= 95);
    assert_rel(p.alpha, T_ALPHA, 0.03, "alpha");
    assert_rel(p.beta, T_BETA, 0.03, "beta");
    assert_true(p.alpha_ci.lo < p.alpha && p.alpha < p.alpha_ci.hi);
    covered_alpha += p.alpha_ci.lo <= T_ALPHA && T_ALPHA <= p.alpha_ci.hi;
    covered_beta += p.beta_ci.lo <= T_BETA && T_BETA <= p.beta_ci.hi;
    free(p.predicted), free(p.boot), free(p.residuals);
    cls_fit_input_destroy(in);
  }
  print_message("many rows: coverage of alpha %d/10, beta %d/10\n", covered_alpha, covered_beta);
  if (covered_alpha < 7 || covered_beta < 7)
    fail_msg("m-out-of-n intervals cover alpha in %d and beta in %d of 10 seeds", covered_alpha, covered_beta);
}

/* Issue 14, defect 5: 2·10^5 runs of Chinchilla's law with 1% noise, drawn
 * uniformly in log N and log D. Every fit recovers the law, and the two
 * bootstraps whose work grew with the runs stay bounded: an IsoFLOP
 * resample draws at most CLS__ISO_MAX_RUNS runs per budget, and a frontier
 * resample looks only at the rows that reach its envelope (drawing and
 * sorting every run, as it did, is B·R draws and B sorts of R rows). The
 * counts, not a wall time, are checked: the machine may be loaded. */
static void test_fit_many_rows_bounded(void **state) {
  (void)state;
  enum { R = 200000 };
  static double N[R], D[R], C[R], L[R];
  draw_runs(R, 1e6, 5, 79, N, D, C, L);
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(R, N, D, C, NULL, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o); /* 200 resamples */
  o.starts = 300;              /* the parametric grid's cost does not grow with the rows */
  cls_fit_result r;
  assert_int_equal(cls_fit_all(in, &o, &r), CLS_OK);
  size_t B = (size_t)o.bootstrap;
  /* the laws: along the compute-optimal path L − E ∝ C^−αβ/(α+β), N* ∝ C^β/(α+β), D* ∝ C^α/(α+β) */
  const double g = T_ALPHA * T_BETA / (T_ALPHA + T_BETA), a = T_BETA / (T_ALPHA + T_BETA), b = 1 - a;
  assert_true(r.frontier.ok && r.isoflop.ok && r.parametric.ok);
  assert_rel(r.frontier.gamma, g, 0.05, "frontier gamma");
  assert_rel(r.isoflop.n_fit.exponent, a, 0.03, "isoflop a");
  assert_rel(r.isoflop.d_fit.exponent, b, 0.03, "isoflop b");
  assert_rel(r.parametric.alpha, T_ALPHA, 0.03, "alpha");
  assert_rel(r.parametric.beta, T_BETA, 0.03, "beta");
  assert_true(r.frontier.boot_ok >= 190 && r.isoflop.boot_ok >= 190 && r.parametric.boot_ok >= 190);
  assert_true(r.frontier.gamma_ci.lo < r.frontier.gamma && r.frontier.gamma < r.frontier.gamma_ci.hi);
  assert_true(r.isoflop.n_fit.exponent_ci.lo < a && a < r.isoflop.n_fit.exponent_ci.hi);
  print_message("2e5 rows: frontier looked at %.0f rows per resample, IsoFLOP drew %.0f (%zu budgets used)\n",
                (double)r.frontier.boot_rows / (double)B, (double)r.isoflop.boot_rows / (double)B,
                r.isoflop.n_used);
  if (r.frontier.boot_rows > B * R / 20)
    fail_msg("the frontier's bootstrap looked at %zu rows, more than 1/20 of %zu resamples x %d rows",
             r.frontier.boot_rows, B, R);
  if (r.isoflop.boot_rows > B * CLS__ISO_MAX_RUNS * r.isoflop.n_used || r.isoflop.boot_rows > B * R / 2)
    fail_msg("the IsoFLOP bootstrap drew %zu runs (%zu resamples, %zu budgets, at most %d runs each, %d rows)",
             r.isoflop.boot_rows, B, r.isoflop.n_used, CLS__ISO_MAX_RUNS, R);
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

/* Above CLS__FR_BOOT_RUNS runs the frontier's bootstrap draws each run
 * Poisson(1) times instead of n runs with replacement: the same resampling
 * as n grows. One run more, which cannot reach the envelope, switches it:
 * the fit is the same, and so is the interval, within the resampling noise
 * of two bootstraps; the same seed gives the same numbers. */
static void test_frontier_poisson_bootstrap(void **state) {
  (void)state;
  enum { R = CLS__FR_BOOT_RUNS + 1 };
  static double N[R], D[R], C[R], L[R];
  draw_runs(R, 1e6, 6, 80, N, D, C, L);
  /* the last run: the largest C of the others with 10 times the loss */
  size_t top = 0;
  for (size_t k = 1; k < R - 1; k++) top = C[k] > C[top] ? k : top;
  N[R - 1] = N[top], D[R - 1] = D[top], C[R - 1] = C[top], L[R - 1] = 10 * L[top];
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 400;
  cls_fit_frontier f[3];
  for (int i = 0; i < 3; i++) {
    cls_fit_input *in;
    assert_int_equal(cls_fit_input_from_arrays(i ? R : R - 1, N, D, C, NULL, L, &in), CLS_OK);
    assert_int_equal(cls_fit_frontier_run(in, &o, &f[i]), CLS_OK);
    assert_true(f[i].ok && f[i].boot_ok >= 390);
    cls_fit_input_destroy(in);
  }
  assert_true(f[0].gamma == f[1].gamma && f[0].E == f[1].E && f[0].k == f[1].k);
  assert_memory_equal(f[1].boot, f[2].boot, 3 * sizeof(double) * (size_t)o.bootstrap);
  double w0 = f[0].gamma_ci.hi - f[0].gamma_ci.lo, w1 = f[1].gamma_ci.hi - f[1].gamma_ci.lo;
  print_message("gamma interval: n out of n [%.5f, %.5f], Poisson [%.5f, %.5f]\n", f[0].gamma_ci.lo,
                f[0].gamma_ci.hi, f[1].gamma_ci.lo, f[1].gamma_ci.hi);
  assert_true(w1 > 0 && w1 / w0 < 1.3 && w0 / w1 < 1.3);
  assert_true(fabs((f[1].gamma_ci.lo + f[1].gamma_ci.hi) - (f[0].gamma_ci.lo + f[0].gamma_ci.hi)) < 0.3 * w0);
  for (int i = 0; i < 3; i++) free(f[i].c), free(f[i].l), free(f[i].boot);
}

/* Frontier: runs at log-spaced C exactly on L = E + k·C^−γ, plus dominated
 * runs (higher loss at equal or larger C) that must not enter the envelope. */
static void test_frontier_exact(void **state) {
  (void)state;
  const double E = 1.5, k = 1000, g = 0.15;
  double N[20], D[20], C[20], L[20];
  size_t n = 0;
  for (int i = 0; i < 12; i++, n++) {
    C[n] = 1e15 * pow(10, 4.0 * i / 11);
    L[n] = E + k * pow(C[n], -g);
    N[n] = sqrt(C[n] / 120), D[n] = C[n] / (6 * N[n]);
  }
  for (int i = 0; i < 5; i++, n++) { /* dominated */
    C[n] = C[2 * i + 1] * 1.3;
    L[n] = L[2 * i] * 1.01;
    N[n] = N[0], D[n] = C[n] / (6 * N[n]);
  }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, NULL, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 50;
  cls_fit_frontier f;
  assert_int_equal(cls_fit_frontier_run(in, &o, &f), CLS_OK);
  assert_true(f.ok);
  assert_int_equal(f.n, 12);
  for (size_t i = 0; i < f.n; i++) assert_rel(f.c[i], C[i], 1e-12, "envelope C");
  assert_rel(f.E, E, 1e-3, "E");
  assert_rel(f.k, k, 1e-3, "k");
  assert_rel(f.gamma, g, 1e-3, "gamma");
  assert_true(f.gamma_ci.lo <= g + 1e-6 && g - 1e-6 <= f.gamma_ci.hi);
  free(f.c), free(f.l), free(f.boot);
  cls_fit_input_destroy(in);
}

/* Curves that sit on a plateau for their first steps (warm-up: the loss has
 * not started to fall) and then follow L = E + k C^-g exactly. The default
 * frontier_skip leaves the plateau rows out and recovers the law; with
 * skip 0 the plateau rows join the envelope and bend the fit. */
static void test_frontier_skips_warmup(void **state) {
  (void)state;
  const double E = 0.5, k = 300, g = 0.3;
  enum { RUNS = 4, ROWS = 20 };
  double N[RUNS], D[RUNS], C[RUNS], L[RUNS];
  for (int r = 0; r < RUNS; r++) {
    C[r] = 1e12 * pow(10, r), N[r] = 1e4 * pow(3, r), D[r] = C[r] / (6 * N[r]);
    L[r] = E + k * pow(C[r], -g);
  }
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(RUNS, N, D, C, NULL, L, &in), CLS_OK);
  /* Replace the one-row curves by ROWS log-spaced rows from C/1000 to C. */
  free(in->curve_c), free(in->curve_l);
  in->curve_c = malloc(RUNS * ROWS * sizeof(double));
  in->curve_l = malloc(RUNS * ROWS * sizeof(double));
  in->n_curve = RUNS * ROWS;
  for (int r = 0; r < RUNS; r++) {
    in->pts[r].curve0 = (size_t)r * ROWS, in->pts[r].curve_n = ROWS;
    for (int j = 0; j < ROWS; j++) {
      double c = C[r] * pow(10, -3.0 + 3.0 * j / (ROWS - 1));
      in->curve_c[r * ROWS + j] = c;
      /* plateau below 5% of the run's compute: the initial loss */
      in->curve_l[r * ROWS + j] = c < 0.05 * C[r] ? 9.0 : E + k * pow(c, -g);
    }
  }
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 0;
  cls_fit_frontier f;
  assert_int_equal(cls_fit_frontier_run(in, &o, &f), CLS_OK);
  assert_true(f.ok);
  assert_rel(f.gamma, g, 1e-3, "gamma with the default skip");
  assert_rel(f.E, E, 1e-3, "E with the default skip");
  free(f.c), free(f.l), free(f.boot);
  o.frontier_skip = 0;
  assert_int_equal(cls_fit_frontier_run(in, &o, &f), CLS_OK);
  assert_true(!f.ok || fabs(f.gamma - g) > 0.01 * g); /* the plateau bends it */
  free(f.c), free(f.l), free(f.boot);
  cls_fit_input_destroy(in);
}

/* IsoFLOP data with known answers: at budget C the loss is exactly
 * L0(C) + q·(log10 N − log10 N*(C))², N* = 0.1·C^0.5 sampled asymmetrically,
 * and the runs' tokens follow C = 8·N·D (measured FLOPs per token ≠ 6N), so
 * D* = C/(8·N*) exactly. */
enum { ISO_NB = 4, ISO_PER = 5 };
static const double iso_offsets[ISO_PER] = {-0.6, -0.3, 0.1, 0.4, 0.7};

static double iso_nstar(double c) {
  return 0.1 * pow(c, 0.5);
}

static size_t iso_data(double *N, double *D, double *C, double *bud, double *L, bool nominal, bool extra) {
  size_t n = 0;
  for (int b = 0; b < ISO_NB; b++) {
    double c = 1e18 * pow(10, b);
    for (int j = 0; j < ISO_PER; j++, n++) {
      N[n] = iso_nstar(c) * pow(10, iso_offsets[j]);
      D[n] = c / (8 * N[n]);
      /* measured C a few % off the budget, as a real sweep's are */
      C[n] = c * (1 + 0.03 * sin(n));
      bud[n] = nominal ? c : NAN;
      L[n] = (2 + 5 * pow(c, -0.1)) * pow(10, 0.3 * iso_offsets[j] * iso_offsets[j]);
    }
  }
  if (extra) {
    /* 1e22: all runs smaller than N*: the vertex lies outside the range */
    double c = 1e22;
    for (int j = 0; j < 4; j++, n++) {
      double off = -1.5 + 0.25 * j;
      N[n] = iso_nstar(c) * pow(10, off), D[n] = c / (8 * N[n]), C[n] = c, bud[n] = c;
      L[n] = 2 * pow(10, 0.3 * off * off);
    }
    /* 1e23: a loss that peaks in the middle: the parabola opens downward */
    c = 1e23;
    for (int j = 0; j < 4; j++, n++) {
      double off = -0.45 + 0.3 * j;
      N[n] = iso_nstar(c) * pow(10, off), D[n] = c / (8 * N[n]), C[n] = c, bud[n] = c;
      L[n] = 2 * pow(10, -0.3 * off * off);
    }
  }
  return n;
}

static void check_iso_exact(const cls_fit_isoflop *r, size_t n_budgets) {
  assert_true(r->ok);
  assert_int_equal(r->n_budgets, n_budgets);
  assert_int_equal(r->n_used, ISO_NB);
  for (int b = 0; b < ISO_NB; b++) {
    const cls_fit_budget *q = &r->budgets[b];
    double c = 1e18 * pow(10, b);
    assert_true(q->used);
    assert_rel(q->budget, c, 0.05, "budget");
    assert_rel(q->n_opt, iso_nstar(c), 1e-9, "n_opt");
    assert_rel(q->d_opt, c / (8 * iso_nstar(c)), 1e-9, "d_opt");
    assert_rel(q->loss_opt, 2 + 5 * pow(c, -0.1), 1e-9, "loss_opt");
    assert_rel(q->a, 0.3, 1e-9, "parabola a");
    assert_int_equal(q->n_points, ISO_PER);
  }
}

static void test_isoflop_exact(void **state) {
  (void)state;
  double N[64], D[64], C[64], bud[64], L[64];
  size_t n = iso_data(N, D, C, bud, L, true, false);
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, bud, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 100;
  cls_fit_isoflop r;
  assert_int_equal(cls_fit_isoflop_run(in, &o, &r), CLS_OK);
  check_iso_exact(&r, ISO_NB);
  assert_rel(r.n_fit.exponent, 0.5, 1e-9, "a");
  assert_rel(r.d_fit.exponent, 0.5, 1e-9, "b");
  assert_rel(r.n_fit.coef, 0.1, 1e-9, "N coef");
  assert_rel(r.d_fit.coef, 1 / 0.8, 1e-9, "D coef");
  /* exact data: every resample gives the same minima */
  assert_rel(r.n_fit.exponent_ci.lo, 0.5, 1e-6, "a lo");
  assert_rel(r.n_fit.exponent_ci.hi, 0.5, 1e-6, "a hi");
  assert_int_equal(r.n_fit.band_n, 20);
  free(r.budgets), free(r.boot_a), free(r.boot_b), free(r.boot_law), free(r.point_budget);
  cls_fit_input_destroy(in);
}

/* IsoFLOP with 1% multiplicative noise: the 95% intervals of the exponents
 * cover the true 0.5 in at least 8 of 10 seeds. */
static void test_isoflop_coverage(void **state) {
  (void)state;
  int covered_a = 0, covered_b = 0;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    double N[64], D[64], C[64], bud[64], L[64];
    size_t n = 0;
    cls_rng rng = cls_rng_make(seed, 5);
    for (int b = 0; b < 5; b++) {
      double c = 1e18 * pow(10, 0.5 * b);
      for (int j = 0; j < 7; j++, n++) {
        double off = -0.75 + 0.25 * j;
        N[n] = iso_nstar(c) * pow(10, off), D[n] = c / (6 * N[n]), C[n] = c, bud[n] = c;
        L[n] = (2 + 5 * pow(c, -0.1)) * pow(10, 0.3 * off * off) * (1 + 0.01 * cls_rng_normal(rng, n, 0));
      }
    }
    cls_fit_input *in;
    assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, bud, L, &in), CLS_OK);
    cls_fit_options o;
    cls_fit_options_default(&o);
    o.seed = seed;
    cls_fit_isoflop r;
    assert_int_equal(cls_fit_isoflop_run(in, &o, &r), CLS_OK);
    assert_true(r.ok);
    covered_a += r.n_fit.exponent_ci.lo <= 0.5 && 0.5 <= r.n_fit.exponent_ci.hi;
    covered_b += r.d_fit.exponent_ci.lo <= 0.5 && 0.5 <= r.d_fit.exponent_ci.hi;
    free(r.budgets), free(r.boot_a), free(r.boot_b), free(r.boot_law), free(r.point_budget);
    cls_fit_input_destroy(in);
  }
  print_message("coverage of a: %d/10, of b: %d/10\n", covered_a, covered_b);
  assert_true(covered_a >= 8);
  assert_true(covered_b >= 8);
}

/* Without budget_flops the runs are grouped by measured C (±3% here). */
static void test_isoflop_grouped_by_flops(void **state) {
  (void)state;
  double N[64], D[64], C[64], bud[64], L[64];
  size_t n = iso_data(N, D, C, bud, L, false, false);
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, NULL, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 0;
  cls_fit_isoflop r;
  assert_int_equal(cls_fit_isoflop_run(in, &o, &r), CLS_OK);
  check_iso_exact(&r, ISO_NB);
  for (int b = 0; b < ISO_NB; b++) assert_false(r.budgets[b].nominal);
  /* the grouped budget is the geometric mean of measured C, a few % off the
   * nominal one, which shifts the coefficient but not the exponent much */
  assert_rel(r.n_fit.exponent, 0.5, 2e-2, "a");
  free(r.budgets), free(r.boot_a), free(r.boot_b), free(r.boot_law), free(r.point_budget);
  cls_fit_input_destroy(in);
}

/* Budgets with no interior minimum are reported and left out; the fits
 * through the others are exactly as without them. */
static void test_isoflop_excludes_budgets(void **state) {
  (void)state;
  double N[64], D[64], C[64], bud[64], L[64];
  size_t n = iso_data(N, D, C, bud, L, true, true);
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, bud, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 20;
  cls_fit_isoflop r;
  assert_int_equal(cls_fit_isoflop_run(in, &o, &r), CLS_OK);
  check_iso_exact(&r, ISO_NB + 2);
  assert_false(r.budgets[4].used);
  assert_non_null(strstr(r.budgets[4].why, "outside the sampled N range"));
  assert_false(r.budgets[5].used);
  assert_non_null(strstr(r.budgets[5].why, "opens downward"));
  assert_rel(r.n_fit.exponent, 0.5, 1e-9, "a");
  assert_rel(r.d_fit.exponent, 0.5, 1e-9, "b");
  free(r.budgets), free(r.boot_a), free(r.boot_b), free(r.boot_law), free(r.point_budget);
  cls_fit_input_destroy(in);
}

/* The same seed gives the same intervals; another seed others. */
static void test_bootstrap_reproducible(void **state) {
  (void)state;
  cls_fit_input *in = grid_input(0.01, 3);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 30;
  o.starts = 50;
  o.seed = 11;
  cls_fit_parametric p1, p2, p3;
  assert_int_equal(cls_fit_parametric_run(in, &o, &p1), CLS_OK);
  assert_int_equal(cls_fit_parametric_run(in, &o, &p2), CLS_OK);
  o.seed = 12;
  assert_int_equal(cls_fit_parametric_run(in, &o, &p3), CLS_OK);
  assert_true(p1.alpha_ci.lo == p2.alpha_ci.lo && p1.alpha_ci.hi == p2.alpha_ci.hi);
  assert_true(p1.alpha_ci.lo != p3.alpha_ci.lo || p1.alpha_ci.hi != p3.alpha_ci.hi);
  cls_fit_parametric *ps[3] = {&p1, &p2, &p3};
  for (int i = 0; i < 3; i++) free(ps[i]->predicted), free(ps[i]->boot), free(ps[i]->residuals);
  cls_fit_input_destroy(in);
}

/* fit.json from all three fits reads back through the plotter's reader. */
static void test_fit_json_roundtrip(void **state) {
  (void)state;
  double N[64], D[64], C[64], bud[64], L[64];
  size_t n = iso_data(N, D, C, bud, L, true, true);
  cls_fit_input *in;
  assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, bud, L, &in), CLS_OK);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 20;
  o.starts = 100;
  cls_fit_result r;
  assert_int_equal(cls_fit_all(in, &o, &r), CLS_OK);
  assert_true(r.isoflop.ok);
  assert_true(r.frontier.ok);
  assert_true(r.parametric.ok);
  assert_true(r.allocation.ok);
  assert_string_equal(r.allocation.exponents_from, "isoflop");
  assert_rel(r.allocation.model_factor, pow(10, 0.5), 1e-9, "model factor");
  char dir[1024], path[1200], err[1024];
  test_tmpdir("fit_json", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  assert_int_equal(cls_fit_write_json(&r, in, path, err, sizeof err), CLS_OK);
  cls_fit *f = NULL;
  cls_status st = cls_fit_load(path, &f, err, sizeof err);
  if (st) fail_msg("cls_fit_load: %s", err);
  assert_true(f->has_frontier && f->has_parametric);
  assert_int_equal(f->n_budgets, ISO_NB); /* the excluded two are not among them */
  assert_true(f->n_opt_fit.present && f->d_opt_fit.present);
  assert_rel(f->n_opt_fit.exponent, 0.5, 1e-9, "json a");
  assert_rel(f->budgets[0].n_opt, iso_nstar(1e18), 1e-9, "json n_opt");
  assert_rel(f->alpha, r.parametric.alpha, 1e-12, "json alpha");
  assert_int_equal(f->n_param_points, n);
  assert_rel(f->fr_gamma, r.frontier.gamma, 1e-12, "json gamma");
  cls_fit_destroy(f);
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parametric_noise_free),      cmocka_unit_test(test_parametric_coverage),
      cmocka_unit_test(test_parametric_many_rows),       cmocka_unit_test(test_frontier_exact),
      cmocka_unit_test(test_frontier_skips_warmup),      cmocka_unit_test(test_isoflop_exact),
      cmocka_unit_test(test_isoflop_coverage),           cmocka_unit_test(test_isoflop_grouped_by_flops),
      cmocka_unit_test(test_isoflop_excludes_budgets),   cmocka_unit_test(test_bootstrap_reproducible),
      cmocka_unit_test(test_fit_json_roundtrip),         cmocka_unit_test(test_fit_many_rows_bounded),
      cmocka_unit_test(test_frontier_poisson_bootstrap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
