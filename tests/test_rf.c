/*
 * tests/test_rf.c — random-feature ridge regression on the device
 * (src/nn/rf.h):
 *   - cls_add_diagonal against a double reference, touching nothing else;
 *   - the device pipeline against the double-precision host reference (the
 *     same draws), both forms (T >= N primal, T < N kernel), awkward sizes;
 *   - the fresh-sample estimate within 3 standard errors of the exact loss;
 *   - the mean exact loss over seeds within 10% of the deterministic
 *     equivalent (fit/theory_rf.h) on a grid crossing N = T;
 *   - with T ≫ N the loss falls as N^-alpha (slope within ±0.05);
 *   - the same seed gives the same bits; an ill-conditioned problem is
 *     refused with CLS_ERR_NUMERIC naming `gamma`; bad input is refused.
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

#include "fit/theory_rf.h"
#include "nn/rf.h"
#include "test_util.h"

static cls_rf_problem problem(size_t m, size_t n, size_t t, double gamma, double sigma2, uint64_t seed) {
  cls_rf_problem p;
  cls_rf_problem_init(&p);
  p.m = m;
  p.n = n;
  p.t = t;
  p.gamma = gamma;
  p.sigma2 = sigma2;
  p.seed = seed;
  return p;
}

static cls_rf_result solve(cls_context *ctx, const cls_rf_problem *p) {
  char err[512] = "";
  cls_rf_result r;
  cls_status s = cls_rf_solve(ctx, p, &r, err, sizeof err);
  if (s != CLS_OK) fail_msg("rf solve M=%zu N=%zu T=%zu -> %d: %s", p->m, p->n, p->t, s, err);
  return r;
}

static cls_rf_result reference(const cls_rf_problem *p) {
  char err[512] = "";
  cls_rf_result r;
  cls_status s = cls_rf_reference(p, &r, err, sizeof err);
  if (s != CLS_OK) fail_msg("rf reference M=%zu N=%zu T=%zu -> %d: %s", p->m, p->n, p->t, s, err);
  return r;
}

/* ------------------------------------------------------------ add_diagonal */

static void test_add_diagonal(void **state) {
  cls_context *ctx = *state;
  const size_t n = 7, lda = 9, pad = 5, count = n * lda;
  float *a = test_random_floats(count, 3, -1, 1);
  cls_buffer *buf = test_upload_padded(ctx, a, count, pad);
  TEST_OK(ctx, cls_add_diagonal(ctx, n, 0.25f, cls_ref_at(buf, pad), lda));
  float *got = test_download_padded(ctx, buf, count, pad);
  double *want = test_to_double(a, count);
  for (size_t i = 0; i < n; i++) want[i * lda + i] += 0.25;
  test_expect_close("add_diagonal", count, got, want, 1e-7, 1e-30);
  /* Refusals, with nothing written. */
  assert_int_equal(cls_add_diagonal(ctx, 0, 1, cls_ref_at(buf, pad), lda), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_add_diagonal(ctx, n, NAN, cls_ref_at(buf, pad), lda), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_add_diagonal(ctx, n, 1, cls_ref_at(buf, pad), n - 1), CLS_ERR_LEADING_DIM);
  assert_int_equal(cls_add_diagonal(ctx, n + 3, 1, cls_ref_at(buf, pad), n + 3), CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_add_diagonal(ctx, n, 1, CLS_NOREF, lda), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_add_diagonal(NULL, n, 1, cls_ref_at(buf, pad), lda), CLS_ERR_NULL_ARGUMENT);
  float *again = test_download_padded(ctx, buf, count, pad);
  assert_memory_equal(again, got, count * sizeof(float));
  free(again);
  free(got);
  free(want);
  free(a);
  cls_buffer_free(buf);
}

/* ------------------------------------------------------- device vs host */

static void test_vs_reference(void **state) {
  cls_context *ctx = *state;
  static const struct {
    size_t m, n, t;
    double gamma, sigma2;
  } cases[] = {
      {64, 1, 13, 1e-2, 0.1},    {64, 7, 101, 1e-2, 0},   {257, 97, 13, 1e-2, 0.1}, {100, 1, 1, 1e-2, 0.1},
      {128, 97, 101, 1e-2, 0},   {257, 13, 7, 1e-1, 0.5}, {200, 150, 50, 1e-3, 0},  {97, 101, 1, 1e-2, 0},
      {257, 101, 97, 1e-2, 0.1}, {65, 13, 13, 1e-2, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cls_rf_problem p = problem(cases[i].m, cases[i].n, cases[i].t, cases[i].gamma, cases[i].sigma2, 100 + i);
    p.test_samples = 64;
    cls_rf_result dev = solve(ctx, &p), ref = reference(&p);
    assert_int_equal(dev.kernel_form, p.t < p.n);
    assert_int_equal(ref.kernel_form, p.t < p.n);
    double rel = fabs(dev.loss - ref.loss) / ref.loss;
    double rel_est = fabs(dev.loss_estimate - ref.loss_estimate) / ref.loss_estimate;
    if (!(rel <= 1e-3) || !(rel_est <= 1e-3))
      fail_msg("M=%zu N=%zu T=%zu: device loss %.9g estimate %.9g, reference %.9g %.9g (rel %.2e %.2e)", p.m, p.n,
               p.t, dev.loss, dev.loss_estimate, ref.loss, ref.loss_estimate, rel, rel_est);
    assert_true(dev.flops > 0);
    assert_true(dev.solve.error <= 1e-4);
  }
}

/* The ops count what they do: the products dominate, so the FLOPs are at
 * least the features' 2 T N M and the Gram's 2 N² T. */
static void test_flops(void **state) {
  cls_context *ctx = *state;
  cls_rf_problem p = problem(96, 40, 120, 1e-2, 0, 5);
  cls_rf_result r = solve(ctx, &p);
  double floor = 2.0 * 120 * 40 * 96 + 2.0 * 40 * 40 * 120;
  if (!(r.flops >= floor && r.flops < 4 * floor)) fail_msg("flops %g, products alone %g", r.flops, floor);
}

/* ---------------------------------------------------- fresh-sample estimate */

static void test_estimate(void **state) {
  cls_context *ctx = *state;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    cls_rf_problem p = problem(200, 60, 120, 1e-2, 0.05, seed);
    p.test_samples = 4096;
    cls_rf_result r = solve(ctx, &p);
    assert_true(r.loss_se > 0);
    if (!(fabs(r.loss_estimate - r.loss) <= 3 * r.loss_se))
      fail_msg("seed %llu: estimate %g ± %g, exact %g", (unsigned long long)seed, r.loss_estimate, r.loss_se,
               r.loss);
  }
}

/* ------------------------------------------------------------------ theory */

static void test_theory(void **state) {
  cls_context *ctx = *state;
  const size_t m = 200, seeds = 24;
  /* N crosses T = 100 at fixed T, and T crosses N = 100 at fixed N. */
  static const struct {
    size_t n, t;
  } grid[] = {{50, 100}, {90, 100}, {100, 100}, {110, 100}, {150, 100}, {100, 60}, {100, 150}};
  for (size_t k = 0; k < sizeof grid / sizeof grid[0]; k++) {
    double sum = 0;
    for (uint64_t seed = 0; seed < seeds; seed++) {
      cls_rf_problem p = problem(m, grid[k].n, grid[k].t, 1e-2, 0.05, 1000 + seed);
      sum += solve(ctx, &p).loss;
    }
    double mean = sum / (double)seeds;
    char err[256] = "";
    cls_fit_rf_theory th;
    assert_int_equal(
        cls_fit_rf_theory_loss_powerlaw(grid[k].n, grid[k].t, 1e-2, 0.05, 1.0, m, &th, err, sizeof err), CLS_OK);
    double rel = fabs(mean - th.loss) / th.loss;
    printf("theory N=%zu T=%zu: mean over %zu seeds %.5g, theory %.5g (%.1f%%)\n", grid[k].n, grid[k].t, seeds,
           mean, th.loss, 100 * rel);
    if (!(rel <= 0.10)) fail_msg("N=%zu T=%zu: simulated %g, theory %g", grid[k].n, grid[k].t, mean, th.loss);
  }
}

/* --------------------------------------------------------------- exponent */

/* Least-squares slope of log y against log x. */
static double slope(const double *x, const double *y, size_t k) {
  double mx = 0, my = 0, sxy = 0, sxx = 0;
  for (size_t i = 0; i < k; i++) mx += log(x[i]) / (double)k, my += log(y[i]) / (double)k;
  for (size_t i = 0; i < k; i++) {
    sxy += (log(x[i]) - mx) * (log(y[i]) - my);
    sxx += (log(x[i]) - mx) * (log(x[i]) - mx);
  }
  return sxy / sxx;
}

/* With T ≫ N and a ridge far below λ_N the loss falls as N^-alpha while
 * N ≪ M; the finite M bends it (a slower alpha's tail reaches M sooner),
 * so alpha = 0.5 takes smaller N. The theory's own slopes on these grids
 * are 0.996 and 0.513. Each seed is one sweep: one draw, all N. */
static void test_exponent(void **state) {
  cls_context *ctx = *state;
  enum { K = 5, SEEDS = 8 };
  static const struct {
    double alpha;
    size_t m, t;
    size_t ns[K];
  } cfg[] = {{1.0, 2048, 4096, {16, 32, 64, 128, 256}}, {0.5, 2048, 2048, {8, 16, 32, 64, 128}}};
  const double gamma = 1e-6;
  for (size_t a = 0; a < 2; a++) {
    double loss[K] = {0}, x[K], th[K];
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
      cls_rf_problem p = problem(cfg[a].m, cfg[a].ns[K - 1], cfg[a].t, gamma, 0, 7 + seed);
      p.alpha = cfg[a].alpha;
      cls_rf_result r[K];
      char err[512] = "";
      cls_status s = cls_rf_solve_sweep(ctx, &p, cfg[a].ns, K, r, err, sizeof err);
      if (s != CLS_OK) fail_msg("sweep alpha %g seed %llu -> %d: %s", p.alpha, (unsigned long long)seed, s, err);
      for (size_t i = 0; i < K; i++) loss[i] += r[i].loss / SEEDS;
    }
    for (size_t i = 0; i < K; i++) {
      x[i] = (double)cfg[a].ns[i];
      char err[256] = "";
      cls_fit_rf_theory t;
      assert_int_equal(cls_fit_rf_theory_loss_powerlaw(cfg[a].ns[i], cfg[a].t, gamma, 0, cfg[a].alpha, cfg[a].m,
                                                       &t, err, sizeof err),
                       CLS_OK);
      th[i] = t.loss;
    }
    double sl = -slope(x, loss, K), sl_th = -slope(x, th, K);
    printf("alpha %.2f: loss", cfg[a].alpha);
    for (size_t i = 0; i < K; i++) printf(" %.4g (theory %.4g)", loss[i], th[i]);
    printf("; slope %.4f, theory's %.4f\n", sl, sl_th);
    if (!(fabs(sl - cfg[a].alpha) <= 0.05 && fabs(sl - sl_th) <= 0.05))
      fail_msg("alpha %g: fitted slope %g, theory's %g", cfg[a].alpha, sl, sl_th);
  }
}

/* A sweep gives what separate solves give, to float rounding; bad counts
 * are refused. */
static void test_sweep(void **state) {
  cls_context *ctx = *state;
  cls_rf_problem p = problem(150, 90, 60, 1e-2, 0.1, 11);
  p.test_samples = 50;
  static const size_t ns[] = {90, 1, 37, 60, 61};
  cls_rf_result r[5];
  char err[512] = "";
  TEST_OK(ctx, cls_rf_solve_sweep(ctx, &p, ns, 5, r, err, sizeof err));
  for (size_t k = 0; k < 5; k++) {
    cls_rf_problem q = p;
    q.n = ns[k];
    cls_rf_result one = solve(ctx, &q);
    assert_int_equal(r[k].kernel_form, q.t < q.n);
    if (!(fabs(r[k].loss - one.loss) <= 1e-4 * one.loss &&
          fabs(r[k].loss_estimate - one.loss_estimate) <= 1e-4 * one.loss_estimate))
      fail_msg("N=%zu: sweep %.9g %.9g, alone %.9g %.9g", ns[k], r[k].loss, r[k].loss_estimate, one.loss,
               one.loss_estimate);
  }
  static const size_t bad[] = {3, 91};
  assert_int_equal(cls_rf_solve_sweep(ctx, &p, bad, 2, r, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "`ns[1]`"));
  assert_int_equal(cls_rf_solve_sweep(ctx, &p, ns, 0, r, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_rf_solve_sweep(ctx, &p, NULL, 1, r, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
}

/* -------------------------------------------------------- bits, refusals */

static void test_same_bits(void **state) {
  cls_context *ctx = *state;
  cls_rf_problem p = problem(130, 37, 61, 1e-2, 0.1, 42);
  p.test_samples = 100;
  cls_rf_result a = solve(ctx, &p), b = solve(ctx, &p);
  assert_memory_equal(&a.loss, &b.loss, sizeof a.loss);
  assert_memory_equal(&a.loss_estimate, &b.loss_estimate, sizeof a.loss);
  p.seed = 43;
  cls_rf_result c = solve(ctx, &p);
  assert_true(c.loss != a.loss);
}

static void test_ill_conditioned(void **state) {
  cls_context *ctx = *state;
  /* M = 4 < N = 8: the features have rank 4, the ridgeless Gram matrix is
   * singular. */
  cls_rf_problem p = problem(4, 8, 64, 0, 0, 1);
  char err[512] = "";
  cls_rf_result r;
  assert_int_equal(cls_rf_solve(ctx, &p, &r, err, sizeof err), CLS_ERR_NUMERIC);
  assert_non_null(strstr(err, "`gamma`"));
  assert_true(isnan(r.loss));
}

/* Down to ridges float32 cannot handle, every answer is either right (the
 * reference's loss to 10⁻³) or refused: never a wrong loss. */
static void test_never_wrong(void **state) {
  cls_context *ctx = *state;
  /* At the interpolation peak (primal) and with T ≪ N (kernel). */
  static const size_t shapes[][3] = {{256, 64, 64}, {512, 256, 64}, {512, 100, 100}};
  int solved = 0, refused = 0;
  for (size_t k = 0; k < 3; k++)
    for (int e = 2; e <= 10; e += 2) {
      cls_rf_problem p = problem(shapes[k][0], shapes[k][1], shapes[k][2], pow(10, -e), 0, 3);
      p.alpha = 2;
      char err[512] = "";
      cls_rf_result r, ref = reference(&p);
      cls_status s = cls_rf_solve(ctx, &p, &r, err, sizeof err);
      if (s == CLS_OK) {
        solved++;
        if (!(fabs(r.loss - ref.loss) <= 1e-3 * ref.loss))
          fail_msg("M=%zu N=%zu T=%zu gamma 1e-%d: device %.9g, reference %.9g (probe %.3g)", p.m, p.n, p.t, e,
                   r.loss, ref.loss, r.loss_rounding);
      } else {
        refused++;
        assert_int_equal(s, CLS_ERR_NUMERIC);
        assert_non_null(strstr(err, "`gamma`"));
        assert_true(isnan(r.loss));
      }
    }
  printf("never wrong: %d solved, %d refused\n", solved, refused);
  assert_true(solved > 0 && refused > 0); /* both paths taken */
}

static void expect_refused(cls_context *ctx, cls_rf_problem p, cls_status want, const char *field) {
  char err[512] = "";
  cls_rf_result r;
  cls_status s = cls_rf_solve(ctx, &p, &r, err, sizeof err);
  if (s != want || !strstr(err, field)) fail_msg("wanted %d naming %s, got %d: %s", want, field, s, err);
  if (want == CLS_ERR_OUT_OF_MEMORY) return; /* the host reference has no device to fit */
  err[0] = 0;
  s = cls_rf_reference(&p, &r, err, sizeof err);
  if (s != want || !strstr(err, field))
    fail_msg("reference: wanted %d naming %s, got %d: %s", want, field, s, err);
}

static void test_bad_input(void **state) {
  cls_context *ctx = *state;
  cls_rf_problem ok = problem(64, 8, 16, 1e-2, 0, 1), p;
  p = ok, p.alpha = 0, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`alpha`");
  p = ok, p.alpha = -1, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`alpha`");
  p = ok, p.alpha = NAN, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`alpha`");
  p = ok, p.alpha = INFINITY, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`alpha`");
  p = ok, p.gamma = -1e-3, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`gamma`");
  p = ok, p.gamma = NAN, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`gamma`");
  p = ok, p.sigma2 = -1, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`sigma2`");
  p = ok, p.sigma2 = NAN, expect_refused(ctx, p, CLS_ERR_INVALID_VALUE, "`sigma2`");
  p = ok, p.m = 0, expect_refused(ctx, p, CLS_ERR_INVALID_SIZE, "`m`");
  p = ok, p.n = 0, expect_refused(ctx, p, CLS_ERR_INVALID_SIZE, "`n`");
  p = ok, p.t = 0, expect_refused(ctx, p, CLS_ERR_INVALID_SIZE, "`t`");
  p = ok, p.test_samples = 1, expect_refused(ctx, p, CLS_ERR_INVALID_SIZE, "`test_samples`");
  /* Sizes whose product overflows 32-bit indexing (and size_t on 32 bits). */
  p = ok, p.t = (size_t)1 << 20, p.m = (size_t)1 << 12, expect_refused(ctx, p, CLS_ERR_INVALID_SIZE, "`t`");
  p = ok, p.n = SIZE_MAX, expect_refused(ctx, p, CLS_ERR_INVALID_SIZE, "`n`");
  /* Fits the indexing, not the device: refused before allocating. */
  p = ok, p.m = 46340, p.n = 46340, p.t = 46340, p.test_samples = 46340;
  const cls_device_info *dev = cls_context_device(ctx);
  assert_true(cls_rf_device_bytes(&p) > dev->global_mem_bytes);
  cls_memory_usage before, after;
  cls_memory_usage_get(ctx, &before);
  expect_refused(ctx, p, CLS_ERR_OUT_OF_MEMORY, "bytes");
  cls_memory_usage_get(ctx, &after);
  assert_true(after.live_bytes == before.live_bytes && after.peak_bytes == before.peak_bytes);
  char err[256] = "";
  cls_rf_result r;
  assert_int_equal(cls_rf_solve(ctx, NULL, &r, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_rf_solve(NULL, &ok, &r, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_rf_reference(&ok, NULL, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_diagonal),    cmocka_unit_test(test_vs_reference),
      cmocka_unit_test(test_flops),           cmocka_unit_test(test_estimate),
      cmocka_unit_test(test_theory),          cmocka_unit_test(test_exponent),
      cmocka_unit_test(test_sweep),           cmocka_unit_test(test_same_bits),
      cmocka_unit_test(test_ill_conditioned), cmocka_unit_test(test_never_wrong),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
