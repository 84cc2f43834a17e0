/*
 * tests/test_theory_rf.c — the deterministic-equivalent test loss of
 * random-feature ridge regression (src/fit/theory_rf.h):
 *   - a double-precision Monte-Carlo simulation of the model, done here,
 *     lands within 10% of the theory on a grid that crosses N = T with a
 *     ridge (and the wrong ridge convention would not: the test can fail);
 *   - N → ∞ and T → ∞ approach their own limit functions;
 *   - ridgeless, the loss grows without bound as N → T from both sides, is
 *     +∞ at N = T, and, noiseless, is symmetric under N ↔ T;
 *   - with T ≫ N the loss falls as N^-alpha, with N ≫ T as T^-alpha;
 *   - bad input is refused with a message naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/theory_rf.h"
#include "test_util.h"

static double theory(size_t n, size_t t, double gamma, double sigma2, const double *lam, size_t m) {
  char err[256] = "";
  cls_fit_rf_theory th;
  cls_status s = cls_fit_rf_theory_loss(n, t, gamma, sigma2, lam, m, &th, err, sizeof err);
  if (s != CLS_OK) fail_msg("theory(N=%zu, T=%zu, gamma=%g) -> %d: %s", n, t, gamma, s, err);
  return th.loss;
}

static double *spectrum(double alpha, size_t m) {
  double *lam = malloc(m * sizeof *lam);
  assert_non_null(lam);
  char err[256] = "";
  cls_status s = cls_fit_rf_spectrum(alpha, m, lam, err, sizeof err);
  if (s != CLS_OK) fail_msg("spectrum: %s", err);
  return lam;
}

/* ------------------------------------------------------------ simulation */

/* In-place Cholesky A = LLᵀ (lower triangle, row-major n×n); -1 if A is not
 * positive definite. */
static int cholesky(double *a, size_t n) {
  for (size_t j = 0; j < n; j++) {
    double s = a[j * n + j];
    for (size_t k = 0; k < j; k++) s -= a[j * n + k] * a[j * n + k];
    if (!(s > 0)) return -1;
    double d = sqrt(s);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; i++) {
      double t = a[i * n + j];
      for (size_t k = 0; k < j; k++) t -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = t / d;
    }
  }
  return 0;
}

/* b ← A⁻¹b from the factor of cholesky(). */
static void cholesky_solve(const double *l, size_t n, double *b) {
  for (size_t i = 0; i < n; i++) {
    double t = b[i];
    for (size_t k = 0; k < i; k++) t -= l[i * n + k] * b[k];
    b[i] = t / l[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double t = b[i];
    for (size_t k = i + 1; k < n; k++) t -= l[k * n + i] * b[k];
    b[i] = t / l[i * n + i];
  }
}

/* One draw of the model with the conventions of theory_rf.h: w ~ N(0, I),
 * U_ij ~ N(0, 1/M), x = Λ^½z, y = w·x + ε; v minimises
 * (1/T)Σ(y − v·φ)² + gamma·(N/M)|v|², solved in the N×N form when N <= T and
 * in the T×T kernel form v = Φᵀ(ΦΦᵀ/T + γ_F)⁻¹y/T otherwise. Returns the
 * exact population loss sigma2 + (w − Uᵀv)ᵀΛ(w − Uᵀv): no sampling noise
 * beyond the draw of (w, U, training set) itself. */
static double simulate(size_t n, size_t t, size_t m, const double *lam, double gamma, double sigma2,
                       uint64_t seed) {
  double *w = malloc(m * sizeof *w), *u = malloc(n * m * sizeof *u), *x = malloc(t * m * sizeof *x);
  double *y = malloc(t * sizeof *y), *phi = malloc(t * n * sizeof *phi), *v = calloc(n, sizeof *v);
  size_t k = n <= t ? n : t;
  double *a = malloc(k * k * sizeof *a), *rhs = malloc(k * sizeof *rhs);
  assert_true(w && u && x && y && phi && v && a && rhs);
  cls_rng rw = cls_rng_make(seed, 1), ru = cls_rng_make(seed, 2), rx = cls_rng_make(seed, 3),
          re = cls_rng_make(seed, 4);
  for (size_t i = 0; i < m; i++) w[i] = cls_rng_normal(rw, i, 0);
  for (size_t f = 0; f < n; f++)
    for (size_t i = 0; i < m; i++) u[f * m + i] = cls_rng_normal(ru, f, (uint32_t)i) / sqrt((double)m);
  for (size_t s = 0; s < t; s++) {
    double acc = 0;
    for (size_t i = 0; i < m; i++) {
      x[s * m + i] = sqrt(lam[i]) * cls_rng_normal(rx, s, (uint32_t)i);
      acc += x[s * m + i] * w[i];
    }
    y[s] = acc + sqrt(sigma2) * cls_rng_normal(re, s, 0);
  }
  for (size_t s = 0; s < t; s++)
    for (size_t f = 0; f < n; f++) {
      double acc = 0;
      for (size_t i = 0; i < m; i++) acc += x[s * m + i] * u[f * m + i];
      phi[s * n + f] = acc;
    }
  double gf = gamma * (double)n / (double)m, td = (double)t;
  if (n <= t) {
    for (size_t f = 0; f < n; f++) {
      for (size_t g = 0; g < n; g++) {
        double acc = 0;
        for (size_t s = 0; s < t; s++) acc += phi[s * n + f] * phi[s * n + g];
        a[f * n + g] = acc / td + (f == g ? gf : 0);
      }
      double acc = 0;
      for (size_t s = 0; s < t; s++) acc += phi[s * n + f] * y[s];
      v[f] = acc / td;
    }
    assert_int_equal(cholesky(a, n), 0);
    cholesky_solve(a, n, v);
  } else {
    for (size_t s = 0; s < t; s++) {
      for (size_t r = 0; r < t; r++) {
        double acc = 0;
        for (size_t f = 0; f < n; f++) acc += phi[s * n + f] * phi[r * n + f];
        a[s * t + r] = acc / td + (s == r ? gf : 0);
      }
      rhs[s] = y[s] / td;
    }
    assert_int_equal(cholesky(a, t), 0);
    cholesky_solve(a, t, rhs);
    for (size_t f = 0; f < n; f++) {
      double acc = 0;
      for (size_t s = 0; s < t; s++) acc += phi[s * n + f] * rhs[s];
      v[f] = acc;
    }
  }
  double loss = sigma2;
  for (size_t i = 0; i < m; i++) {
    double r = w[i];
    for (size_t f = 0; f < n; f++) r -= u[f * m + i] * v[f];
    loss += lam[i] * r * r;
  }
  free(w), free(u), free(x), free(y), free(phi), free(v), free(a), free(rhs);
  return loss;
}

/* Mean simulated loss over seeds against the theory on a 5×3 grid of
 * (N, T) that holds N < T, N = T and N > T. Also returns the worst relative
 * gap of a theory with the bare-ridge convention gamma·|v|² (effective
 * x-space ridge gamma·M/N), to show that the grid tells them apart. */
static void mc_grid(double alpha, double gamma, double sigma2, int seeds, double *worst, double *worst_wrong) {
  enum { M = 200 };
  static const size_t ns[] = {50, 60, 90, 120, 150}, ts[] = {60, 90, 120};
  double *lam = spectrum(alpha, M);
  *worst = 0, *worst_wrong = 0;
  for (size_t ti = 0; ti < 3; ti++)
    for (size_t ni = 0; ni < 5; ni++) {
      double sum = 0;
      for (int s = 0; s < seeds; s++) sum += simulate(ns[ni], ts[ti], M, lam, gamma, sigma2, 1000 + (uint64_t)s);
      double mean = sum / seeds, th = theory(ns[ni], ts[ti], gamma, sigma2, lam, M);
      double wrong = theory(ns[ni], ts[ti], gamma * M / (double)ns[ni], sigma2, lam, M);
      double rel = fabs(th / mean - 1);
      printf("  alpha=%g gamma=%g sigma2=%g N=%3zu T=%3zu: simulated %.5f theory %.5f (%+.1f%%)\n", alpha, gamma,
             sigma2, ns[ni], ts[ti], mean, th, 100 * (th / mean - 1));
      assert_true(th >= sigma2);
      if (rel > *worst) *worst = rel;
      if (fabs(wrong / mean - 1) > *worst_wrong) *worst_wrong = fabs(wrong / mean - 1);
    }
  free(lam);
}

/* The most important test: it proves the conventions (the N/M in the ridge,
 * label noise in the loss) and the equations against the model itself. */
static void test_monte_carlo(void **state) {
  (void)state;
  double worst, wrong;
  /* Noiseless, ridge 1e-2: the ridge convention matters most here. The
   * loss is dominated by a few top directions of w, so it takes 64 seeds to
   * bring the seed noise (~2%) well under the tolerance. */
  mc_grid(1.0, 1e-2, 0.0, 64, &worst, &wrong);
  printf("  worst gap %.1f%% (bare-ridge convention: %.1f%%)\n", 100 * worst, 100 * wrong);
  assert_true(worst < 0.10);
  assert_true(wrong > 0.20);
  /* Label noise and a smaller ridge, slower spectrum. */
  mc_grid(0.5, 1e-3, 0.1, 32, &worst, &wrong);
  printf("  worst gap %.1f%%\n", 100 * worst);
  assert_true(worst < 0.10);
}

/* ---------------------------------------------------------------- limits */

static void assert_rel(double got, double want, double tol, const char *what) {
  double rel = fabs(got - want) / fabs(want);
  if (!(rel <= tol)) fail_msg("%s = %.9g, want %.9g (relative error %.3g > %.3g)", what, got, want, rel, tol);
}

static void test_limits(void **state) {
  (void)state;
  enum { M = 1000 };
  double *lam = spectrum(1.0, M);
  static const double gammas[] = {0, 1e-4, 1e-2};
  static const size_t sizes[] = {50, 500, 2000};
  char err[256] = "", what[128];
  for (size_t g = 0; g < 3; g++)
    for (size_t i = 0; i < 3; i++) {
      cls_fit_rf_theory lim;
      /* N → ∞ at T = sizes[i]: ridge regression on x. */
      assert_int_equal(cls_fit_rf_theory_loss_n_inf(sizes[i], gammas[g], 0.1, lam, M, &lim, err, sizeof err),
                       CLS_OK);
      snprintf(what, sizeof what, "loss(N=1e7, T=%zu, gamma=%g)", sizes[i], gammas[g]);
      assert_rel(theory(10000000, sizes[i], gammas[g], 0.1, lam, M), lim.loss, 1e-3, what);
      /* T → ∞ at N = sizes[i]: the best N-feature ridge approximation. */
      assert_int_equal(cls_fit_rf_theory_loss_t_inf(sizes[i], gammas[g], 0.1, lam, M, &lim, err, sizeof err),
                       CLS_OK);
      snprintf(what, sizeof what, "loss(N=%zu, T=1e7, gamma=%g)", sizes[i], gammas[g]);
      assert_rel(theory(sizes[i], 10000000, gammas[g], 0.1, lam, M), lim.loss, 1e-3, what);
    }
  /* Known closed forms: ridgeless least squares on x with T > M samples
   * has loss σ²/(1 − M/T); N >= M features at T → ∞ leave only σ². */
  cls_fit_rf_theory lim;
  assert_int_equal(cls_fit_rf_theory_loss_n_inf(4 * M, 0, 0.1, lam, M, &lim, err, sizeof err), CLS_OK);
  assert_rel(lim.loss, 0.1 / (1 - 0.25), 1e-12, "ridgeless least squares");
  assert_int_equal(cls_fit_rf_theory_loss_t_inf(M, 0, 0.1, lam, M, &lim, err, sizeof err), CLS_OK);
  assert_rel(lim.loss, 0.1, 1e-12, "T = inf, N = M");
  /* More data or more features never hurt at this ridge, and the loss
   * never drops below the noise floor. */
  double prev = INFINITY;
  for (size_t t = 10; t <= 100000; t *= 10) {
    double l = theory(300, t, 1e-2, 0.1, lam, M);
    assert_true(l < prev && l >= 0.1);
    prev = l;
  }
  free(lam);
}

/* ------------------------------------------------------ ridgeless peak */

static void test_ridgeless(void **state) {
  (void)state;
  enum { M = 1000, T = 200 };
  double *lam = spectrum(1.0, M);
  const double tiny = 1e-10;
  /* Grows without bound as N → T from below and from above. */
  static const size_t below[] = {100, 150, 190, 199}, above[] = {400, 250, 210, 201};
  double far = theory(100, T, tiny, 0, lam, M), prev_b = 0, prev_a = 0;
  for (size_t i = 0; i < 4; i++) {
    double lb = theory(below[i], T, tiny, 0, lam, M), la = theory(above[i], T, tiny, 0, lam, M);
    printf("  ridgeless noiseless, T=%d: L(N=%zu) = %.4g, L(N=%zu) = %.4g\n", T, below[i], lb, above[i], la);
    assert_true(lb > prev_b && la > prev_a);
    prev_b = lb, prev_a = la;
  }
  /* At N = T the ridge alone bounds the loss: k − k0 and the denominator of
   * (3) scale as gamma^(1/2), so the peak grows as gamma^(-1/2). */
  double peak = theory(T, T, tiny, 0, lam, M), peak16 = theory(T, T, 1e-16, 0, lam, M);
  printf("  L(N=T=%d) = %.4g at gamma=1e-10, %.4g at gamma=1e-16\n", T, peak, peak16);
  assert_true(peak > prev_b && peak > prev_a);
  assert_true(peak16 > 500 * peak && peak16 < 2000 * peak);
  assert_true(peak16 > 1e3 * far);
  /* Even a ridge far below double resolution of k stays finite and larger. */
  double peak300 = theory(T, T, 1e-300, 0, lam, M);
  assert_true(isfinite(peak300) && peak300 > 1e100);
  /* A huge ridge predicts 0: the loss is tr Λ + σ² = 1.1. */
  assert_rel(theory(150, T, 1e300, 0.1, lam, M), 1.1, 1e-12, "loss at gamma=1e300");
  assert_rel(theory(T, T, DBL_MAX, 0.1, lam, M), 1.1, 1e-12, "loss at gamma=DBL_MAX");
  /* gamma = 0 exactly: +∞ at the peak, finite and the gamma → 0 limit off it. */
  assert_true(isinf(theory(T, T, 0, 0, lam, M)));
  assert_true(isinf(theory(T, T, 0, 0.1, lam, M)));
  assert_rel(theory(150, T, 0, 0.1, lam, M), theory(150, T, 1e-14, 0.1, lam, M), 1e-6,
             "L(gamma=0) vs L(gamma=1e-14)");
  assert_rel(theory(300, T, 0, 0.1, lam, M), theory(300, T, 1e-14, 0.1, lam, M), 1e-6,
             "L(gamma=0) vs L(gamma=1e-14)");

  /* Symmetry. The renormalisation equation k(1 − d1/N)(1 − d1/T) = γ is
   * symmetric in N ↔ T for every γ; the loss is symmetric only ridgeless and
   * noiseless, where it is k0·min(N,T)/(1 − min(N,T)/max(N,T)). Label noise
   * breaks it (it is amplified differently on the two sides). */
  static const size_t pairs[][2] = {{50, 300}, {120, 180}, {199, 201}, {10, 5000}, {700, 1500}};
  for (size_t i = 0; i < 5; i++) {
    size_t a = pairs[i][0], b = pairs[i][1];
    char what[96];
    snprintf(what, sizeof what, "L(N=%zu,T=%zu) vs L(N=%zu,T=%zu), gamma=1e-10", a, b, b, a);
    assert_rel(theory(a, b, tiny, 0, lam, M), theory(b, a, tiny, 0, lam, M), 1e-6, what);
    snprintf(what, sizeof what, "L(N=%zu,T=%zu) vs L(N=%zu,T=%zu), gamma=0", a, b, b, a);
    assert_rel(theory(a, b, 0, 0, lam, M), theory(b, a, 0, 0, lam, M), 1e-9, what);
  }
  double ln = theory(50, 300, 0, 0.1, lam, M), lt = theory(300, 50, 0, 0.1, lam, M);
  assert_true(fabs(ln / lt - 1) > 1e-2);
  free(lam);
}

/* ------------------------------------------------------------ exponents */

/* Least-squares slope of log L against log X over X = 64, 128, ..., 4096,
 * with the other size at 1e8, ridge 1e-10, no noise. M = 10^6 keeps the
 * spectrum's cut-off far below the loss at X = 4096 (M^-alpha against
 * 4096^-alpha). */
static double slope(const double *lam, size_t m, int against_t) {
  double xs[7], ys[7];
  for (int i = 0; i < 7; i++) {
    size_t x = (size_t)64 << i;
    double l = against_t ? theory(100000000, x, 1e-10, 0, lam, m) : theory(x, 100000000, 1e-10, 0, lam, m);
    xs[i] = log((double)x), ys[i] = log(l);
  }
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < 7; i++) mx += xs[i] / 7, my += ys[i] / 7;
  for (int i = 0; i < 7; i++) sxx += (xs[i] - mx) * (xs[i] - mx), sxy += (xs[i] - mx) * (ys[i] - my);
  return -sxy / sxx;
}

static void test_exponents(void **state) {
  (void)state;
  enum { M = 1000000 };
  static const double alphas[] = {0.5, 1.0};
  for (size_t i = 0; i < 2; i++) {
    double *lam = spectrum(alphas[i], M);
    double sn = slope(lam, M, 0), st = slope(lam, M, 1);
    printf("  alpha=%g: slope against N %.4f, against T %.4f\n", alphas[i], sn, st);
    assert_true(fabs(sn - alphas[i]) <= 0.02);
    assert_true(fabs(st - alphas[i]) <= 0.02);
    free(lam);
  }
}

/* ------------------------------------------------------------ bad input */

static void expect_refused(cls_status got, cls_status want, const char *err, const char *field) {
  if (got != want) fail_msg("status %d, want %d (message: %s)", got, want, err);
  if (!strstr(err, field)) fail_msg("message '%s' does not name %s", err, field);
}

static void test_bad_input(void **state) {
  (void)state;
  double lam[4] = {0.4, 0.3, 0.2, 0.1}, buf[4], big[64];
  char err[256];
  cls_fit_rf_theory o;
  const cls_status V = CLS_ERR_INVALID_VALUE, S = CLS_ERR_INVALID_SIZE;
#define REFUSE(call, want, field)                                                                                 \
  do {                                                                                                            \
    err[0] = 0;                                                                                                   \
    expect_refused((call), want, err, field);                                                                     \
  } while (0)
  REFUSE(cls_fit_rf_theory_loss_powerlaw(10, 10, 0, 0, 0.0, 4, &o, err, sizeof err), V, "`alpha`");
  REFUSE(cls_fit_rf_theory_loss_powerlaw(10, 10, 0, 0, -1.0, 4, &o, err, sizeof err), V, "`alpha`");
  REFUSE(cls_fit_rf_theory_loss_powerlaw(10, 10, 0, 0, NAN, 4, &o, err, sizeof err), V, "`alpha`");
  REFUSE(cls_fit_rf_theory_loss_powerlaw(10, 10, 0, 0, INFINITY, 4, &o, err, sizeof err), V, "`alpha`");
  REFUSE(cls_fit_rf_spectrum(-0.5, 4, buf, err, sizeof err), V, "`alpha`");
  REFUSE(cls_fit_rf_spectrum(1, 0, buf, err, sizeof err), S, "`m`");
  REFUSE(cls_fit_rf_spectrum(200, 64, big, err, sizeof err), V, "`lambda[");
  REFUSE(cls_fit_rf_theory_loss_powerlaw(10, 10, 0, 0, 1.0, 0, &o, err, sizeof err), S, "`m`");
  REFUSE(cls_fit_rf_theory_loss(0, 10, 0, 0, lam, 4, &o, err, sizeof err), S, "`n`");
  REFUSE(cls_fit_rf_theory_loss(10, 0, 0, 0, lam, 4, &o, err, sizeof err), S, "`t`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, 0, 0, lam, 0, &o, err, sizeof err), S, "`m`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, -1e-3, 0, lam, 4, &o, err, sizeof err), V, "`gamma`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, NAN, 0, lam, 4, &o, err, sizeof err), V, "`gamma`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, INFINITY, 0, lam, 4, &o, err, sizeof err), V, "`gamma`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, 0, -0.1, lam, 4, &o, err, sizeof err), V, "`sigma2`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, 0, NAN, lam, 4, &o, err, sizeof err), V, "`sigma2`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, 0, 0, NULL, 4, &o, err, sizeof err), CLS_ERR_NULL_ARGUMENT, "`lambda`");
  REFUSE(cls_fit_rf_theory_loss(10, 10, 0, 0, lam, 4, NULL, err, sizeof err), CLS_ERR_NULL_ARGUMENT, "`out`");
  REFUSE(cls_fit_rf_theory_loss_n_inf(0, 0, 0, lam, 4, &o, err, sizeof err), S, "`t`");
  REFUSE(cls_fit_rf_theory_loss_t_inf(0, 0, 0, lam, 4, &o, err, sizeof err), S, "`n`");
  REFUSE(cls_fit_rf_theory_loss_n_inf(10, -1, 0, lam, 4, &o, err, sizeof err), V, "`gamma`");
  REFUSE(cls_fit_rf_theory_loss_t_inf(10, 0, NAN, lam, 4, &o, err, sizeof err), V, "`sigma2`");
  static const double bad[] = {NAN, 0.0, -0.2, INFINITY};
  for (size_t i = 0; i < 4; i++) {
    double l2[4] = {0.4, 0.3, 0.2, 0.1};
    l2[2] = bad[i];
    REFUSE(cls_fit_rf_theory_loss(10, 10, 0, 0, l2, 4, &o, err, sizeof err), V, "`lambda[2]`");
  }
  double huge[2] = {DBL_MAX, DBL_MAX};
  REFUSE(cls_fit_rf_theory_loss(10, 10, 0, 0, huge, 2, &o, err, sizeof err), V, "`lambda`");
#undef REFUSE
  /* The NULL err buffer is allowed: the status still comes back. */
  assert_int_equal(cls_fit_rf_theory_loss(0, 10, 0, 0, lam, 4, &o, NULL, 0), S);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_monte_carlo), cmocka_unit_test(test_limits),    cmocka_unit_test(test_ridgeless),
      cmocka_unit_test(test_exponents),   cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
