/*
 * tests/test_cholesky.c — cls_spd_solve against LAPACK in double
 * (LAPACKE_dpotrf + dpotrs on the same float inputs): awkward sizes around
 * the block size, several right-hand sides, leading dimensions beyond the
 * rows and offsets (with the gaps checked untouched); an ill-conditioned
 * Gram matrix that refinement must solve to near float precision and that
 * the unrefined factor solves badly; matrices that are not positive
 * definite, NaN inputs and hopeless conditioning refused with
 * CLS_ERR_NUMERIC; every bad argument refused with X untouched; bitwise
 * reproducibility; the counters; the workspace kept between calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

/* A system on the device: A (n x n at offset ao, ld lda), B and X (n x nrhs
 * at their offsets and lds), every gap and pad holding TEST_SENTINEL. */
typedef struct sys {
  size_t n, nrhs, lda, ldb, ldx, ao, bo, xo;
  float *a, *b; /* host copies, packed (ld n and nrhs) */
  cls_buffer *ab, *xb;
} sys;

/* Host: A = G G^T / k + shift I, G n x k uniform in [-1, 1) (a Wishart
 * matrix: well conditioned for k >= 2n and shift 0.1), B uniform. */
static void make_spd(float *a, size_t n, size_t k, double shift, uint64_t seed) {
  float *g = test_random_floats(n * k, seed, -1.0f, 1.0f);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j <= i; j++) {
      double s = 0;
      for (size_t t = 0; t < k; t++) s += (double)g[i * k + t] * g[j * k + t];
      s /= (double)k;
      if (i == j) s += shift;
      a[i * n + j] = a[j * n + i] = (float)s;
    }
  free(g);
}

/* Uploads A and B into one buffer (B after A) and makes X's buffer. */
static void sys_upload(cls_context *ctx, sys *s) {
  size_t na = s->ao + (s->n - 1) * s->lda + s->n, nb = s->bo + (s->n - 1) * s->ldb + s->nrhs;
  size_t nx = s->xo + (s->n - 1) * s->ldx + s->nrhs + 4;
  float *h = malloc((na + nb) * sizeof *h);
  for (size_t i = 0; i < na + nb; i++) h[i] = TEST_SENTINEL;
  for (size_t i = 0; i < s->n; i++) {
    memcpy(h + s->ao + i * s->lda, s->a + i * s->n, s->n * sizeof *h);
    memcpy(h + na + s->bo + i * s->ldb, s->b + i * s->nrhs, s->nrhs * sizeof *h);
  }
  s->bo += na;
  s->ab = test_upload(ctx, h, na + nb);
  free(h);
  h = malloc(nx * sizeof *h);
  for (size_t i = 0; i < nx; i++) h[i] = TEST_SENTINEL;
  s->xb = test_upload(ctx, h, nx);
  free(h);
}

static cls_status sys_solve(cls_context *ctx, sys *s, const cls_spd_options *o, cls_spd_report *rep) {
  return cls_spd_solve(ctx, s->n, s->nrhs, cls_ref_at(s->ab, s->ao), s->lda, cls_ref_at(s->ab, s->bo), s->ldb,
                       cls_ref_at(s->xb, s->xo), s->ldx, o, rep);
}

/* X packed (n x nrhs); fails if anything outside X's rows changed. */
static float *sys_result(cls_context *ctx, const sys *s) {
  float *all = test_download(ctx, s->xb), *x = malloc(s->n * s->nrhs * sizeof *x);
  size_t nx = cls_buffer_count(s->xb);
  for (size_t p = 0; p < nx; p++) {
    int inside = p >= s->xo && (p - s->xo) % s->ldx < s->nrhs && (p - s->xo) / s->ldx < s->n;
    if (!inside && all[p] != TEST_SENTINEL)
      fail_msg("n=%zu nrhs=%zu: float %zu outside X was written", s->n, s->nrhs, p);
  }
  for (size_t i = 0; i < s->n; i++) memcpy(x + i * s->nrhs, all + s->xo + i * s->ldx, s->nrhs * sizeof *x);
  free(all);
  return x;
}

static void sys_free(sys *s) {
  cls_buffer_free(s->ab), cls_buffer_free(s->xb);
  free(s->a), free(s->b);
}

/* The LAPACK solution in double of the same float A and B. */
static double *reference(const sys *s) {
  size_t n = s->n, r = s->nrhs;
  double *a = test_to_double(s->a, n * n), *x = test_to_double(s->b, n * r);
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a, (lapack_int)n);
  if (info != 0) fail_msg("LAPACKE_dpotrf: info %d", (int)info);
  info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)r, a, (lapack_int)n, x, (lapack_int)r);
  if (info != 0) fail_msg("LAPACKE_dpotrs: info %d", (int)info);
  free(a);
  return x;
}

/* max over columns of ||x - ref||_inf / ||ref||_inf. */
static double forward_error(const float *x, const double *ref, size_t n, size_t nrhs) {
  double worst = 0;
  for (size_t c = 0; c < nrhs; c++) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
      double e = fabs((double)x[i * nrhs + c] - ref[i * nrhs + c]);
      if (!(e <= d)) d = e; /* NaN sticks */
      if (fabs(ref[i * nrhs + c]) > m) m = fabs(ref[i * nrhs + c]);
    }
    if (!(d / m <= worst)) worst = d / m;
  }
  return worst;
}

static sys well_conditioned(size_t n, size_t nrhs, uint64_t seed) {
  sys s = {n, nrhs, n + 3, nrhs + 2, nrhs + 1, 5, 7, 9, NULL, NULL, NULL, NULL};
  s.a = malloc(n * n * sizeof *s.a);
  make_spd(s.a, n, 2 * n + 1, 0.1, seed);
  s.b = test_random_floats(n * nrhs, seed + 1000, -1.0f, 1.0f);
  return s;
}

static void check_sizes(cls_context *ctx, const size_t *sizes, size_t count) {
  for (size_t si = 0; si < count; si++)
    for (size_t nrhs = 1; nrhs <= 3; nrhs += 2) {
      sys s = well_conditioned(sizes[si], nrhs, 10 * sizes[si] + nrhs);
      sys_upload(ctx, &s);
      cls_spd_report rep;
      TEST_OK(ctx, sys_solve(ctx, &s, NULL, &rep));
      float *x = sys_result(ctx, &s);
      double *ref = reference(&s);
      double err = forward_error(x, ref, s.n, nrhs);
      /* Refined to float precision: a few ulps of the largest entry. */
      if (!(err < 2e-6))
        fail_msg("n=%zu nrhs=%zu: relative error %.3g against LAPACK (estimate %.3g, %d refinements)", s.n, nrhs,
                 err, rep.error, rep.refinements);
      assert_true(rep.error <= 1e-4 && rep.backward < 1e-6 && rep.min_pivot > 0 && rep.condition >= 1.0);
      free(x), free(ref);
      sys_free(&s);
    }
}

/* Small blocks (CHOL_NB=16): 1, 2, below, at and above a block,
 * primes, 3 blocks + 1, many blocks. */
static void test_sizes_small_blocks(void **state) {
  (void)state;
  cls_context *ctx = test_context("CHOL_NB=16", NULL);
  static const size_t sizes[] = {1, 2, 15, 16, 17, 31, 49, 97};
  check_sizes(ctx, sizes, sizeof sizes / sizeof sizes[0]);
  cls_context_destroy(ctx);
}

/* Both ways of each step on one device: the substitutions as blocked
 * products, one block per outer panel (CHOL_OB=CHOL_NB) and the residual
 * one work-group per entry (CHOL_TRSV=0,
 * CHOL_RROW=0, the GPU way), then the single-work-group substitution for
 * one right-hand side but products for three (CHOL_TRSV=1), with a block
 * of 12 rows (not a multiple of the kernels' 8 lanes) in outer panels of
 * 36 columns (CHOL_OB: 97 rows make two full panels and a partial one) and
 * the residual one item per entry. */
static void test_sizes_both_paths(void **state) {
  (void)state;
  static const size_t sizes[] = {1, 13, 40, 97};
  cls_context *ctx = test_context("CHOL_NB=16,CHOL_OB=16,CHOL_TRSV=0,CHOL_RROW=0", NULL);
  check_sizes(ctx, sizes, sizeof sizes / sizeof sizes[0]);
  cls_context_destroy(ctx);
  ctx = test_context("CHOL_NB=12,CHOL_OB=36,CHOL_TRSV=1,CHOL_RROW=1", NULL);
  check_sizes(ctx, sizes, sizeof sizes / sizeof sizes[0]);
  cls_context_destroy(ctx);
}

/* The device's own parameters, around its block size. */
static void test_sizes_device_blocks(void **state) {
  static const size_t sizes[] = {31, 64, 65, 129, 193, 385};
  check_sizes(*state, sizes, sizeof sizes / sizeof sizes[0]);
}

/* A = Q diag(lambda) Q^T, Q a random orthogonal matrix (LAPACK's QR of a
 * uniform matrix), lambda geometric from 1 down to 1 / cond: the spectrum
 * of a kernel Gram matrix with a decaying power spectrum and a small ridge,
 * with its condition number known. */
static sys conditioned(size_t n, double cond, uint64_t seed) {
  sys s = {n, 2, n, 2, 2, 0, 0, 0, NULL, NULL, NULL, NULL};
  float *g = test_random_floats(n * n, seed, -1.0f, 1.0f);
  double *q = test_to_double(g, n * n), *tau = malloc(n * sizeof *tau), *lam = malloc(n * sizeof *lam);
  lapack_int nn = (lapack_int)n;
  if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, nn, nn, q, nn, tau) ||
      LAPACKE_dorgqr(LAPACK_ROW_MAJOR, nn, nn, nn, q, nn, tau))
    fail_msg("LAPACKE QR failed");
  for (size_t i = 0; i < n; i++) lam[i] = pow(cond, -(double)i / (double)(n - 1));
  s.a = malloc(n * n * sizeof *s.a);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j <= i; j++) {
      double v = 0;
      for (size_t t = 0; t < n; t++) v += q[i * n + t] * lam[t] * q[j * n + t];
      s.a[i * n + j] = s.a[j * n + i] = (float)v;
    }
  s.b = test_random_floats(n * 2, seed + 7, -1.0f, 1.0f);
  free(g), free(q), free(tau), free(lam);
  return s;
}

/* Condition 3e6: unrefined float32 Cholesky is off by ~3e-2 (and says so
 * through error_first); refinement brings the error near float precision,
 * and its estimate bounds the true error. */
static void test_ill_conditioned(void **state) {
  cls_context *ctx = *state;
  sys s = conditioned(160, 3e6, 5);
  sys_upload(ctx, &s);
  double *ref = reference(&s);

  cls_spd_options plain;
  cls_spd_options_init(&plain);
  plain.max_refine = 0;
  plain.tolerance = 1.0;
  cls_spd_report r0, r1;
  TEST_OK(ctx, sys_solve(ctx, &s, &plain, &r0));
  float *x0 = sys_result(ctx, &s);
  double e0 = forward_error(x0, ref, s.n, s.nrhs);

  TEST_OK(ctx, sys_solve(ctx, &s, NULL, &r1));
  float *x1 = sys_result(ctx, &s);
  double e1 = forward_error(x1, ref, s.n, s.nrhs);
  print_message(
      "ill-conditioned n=%zu: unrefined error %.3g (estimated %.3g), refined %.3g (estimated %.3g) after "
      "%d steps; condition >= %.3g; backward %.3g -> %.3g\n",
      s.n, e0, r0.error, e1, r1.error, r1.refinements, r1.condition, r0.backward, r1.backward);
  assert_int_equal(r0.refinements, 0);
  if (!(e0 > 1e-4)) fail_msg("the unrefined solution is already accurate (%.3g): the test matrix is too easy", e0);
  /* The estimate of the unrefined error is the first correction itself. */
  assert_true(r0.error > 0.3 * e0 && r0.error < 3 * e0);
  if (!(e1 < 1e-5)) fail_msg("refined error %.3g", e1);
  assert_true(e1 < e0 / 100);
  assert_true(r1.refinements >= 1);
  assert_true(r1.error <= 1e-4 && r1.error >= e1 / 10);
  assert_true(r1.condition > 1e4);

  /* A tolerance below what it reached: refused, with the figures. */
  cls_spd_options strict;
  cls_spd_options_init(&strict);
  strict.max_refine = 0;
  assert_int_equal(sys_solve(ctx, &s, &strict, NULL), CLS_ERR_NUMERIC);
  assert_non_null(strstr(cls_last_error(ctx), "too ill-conditioned for float32"));
  assert_non_null(strstr(cls_last_error(ctx), "`ridge`"));
  free(x0), free(x1), free(ref);
  sys_free(&s);
}

/* Condition 1e12: beyond float32 whatever refinement does; refused, by a
 * pivot or by the tolerance. */
static void test_hopeless(void **state) {
  cls_context *ctx = *state;
  sys s = conditioned(120, 1e12, 9);
  sys_upload(ctx, &s);
  cls_spd_report rep;
  cls_status st = sys_solve(ctx, &s, NULL, &rep);
  print_message("condition 1e12: %s: %s\n", cls_status_name(st), cls_last_error(ctx));
  assert_int_equal(st, CLS_ERR_NUMERIC);
  assert_non_null(strstr(cls_last_error(ctx), "`ridge`"));
  sys_free(&s);
}

/* Indefinite, NaN in A, NaN in B: CLS_ERR_NUMERIC with the reason. */
static void test_not_positive_definite(void **state) {
  cls_context *ctx = *state;
  sys s = well_conditioned(40, 1, 3);
  s.a[20 * 40 + 20] = -5.0f; /* a negative diagonal entry: indefinite */
  sys_upload(ctx, &s);
  assert_int_equal(sys_solve(ctx, &s, NULL, NULL), CLS_ERR_NUMERIC);
  assert_non_null(strstr(cls_last_error(ctx), "not positive definite"));
  assert_non_null(strstr(cls_last_error(ctx), "pivot 21 of 40"));
  sys_free(&s);

  s = well_conditioned(40, 1, 3);
  s.a[30 * 40 + 2] = s.a[2 * 40 + 30] = NAN;
  sys_upload(ctx, &s);
  assert_int_equal(sys_solve(ctx, &s, NULL, NULL), CLS_ERR_NUMERIC);
  assert_non_null(strstr(cls_last_error(ctx), "NaN"));
  sys_free(&s);

  s = well_conditioned(40, 1, 3);
  s.b[11] = NAN;
  sys_upload(ctx, &s);
  assert_int_equal(sys_solve(ctx, &s, NULL, NULL), CLS_ERR_NUMERIC);
  assert_non_null(strstr(cls_last_error(ctx), "`b`"));
  sys_free(&s);
}

/* The workspace the context keeps between calls: a solve after a larger
 * one (whose factor and stale junk fill the workspace beyond the smaller
 * factor's lower triangle) and after a failed one (NaN everywhere in the
 * factor, the status word set) gives the bits of the same solve in a fresh
 * context. */
static void test_workspace_reuse(void **state) {
  (void)state;
  cls_context *fresh = test_context("CHOL_NB=16,CHOL_OB=32", NULL);
  sys s = well_conditioned(53, 2, 31);
  sys_upload(fresh, &s);
  TEST_OK(fresh, sys_solve(fresh, &s, NULL, NULL));
  float *x1 = sys_result(fresh, &s);
  sys_free(&s); /* its buffers belong to `fresh` */
  cls_context_destroy(fresh);

  cls_context *ctx = test_context("CHOL_NB=16,CHOL_OB=32", NULL);
  sys big = well_conditioned(97, 3, 32);
  sys_upload(ctx, &big);
  TEST_OK(ctx, sys_solve(ctx, &big, NULL, NULL));
  sys_free(&big);
  sys bad = well_conditioned(53, 2, 33);
  for (size_t i = 0; i < 53 * 53; i++) bad.a[i] = NAN;
  sys_upload(ctx, &bad);
  assert_int_equal(sys_solve(ctx, &bad, NULL, NULL), CLS_ERR_NUMERIC);
  sys_free(&bad);
  for (int round = 0; round < 2; round++) {
    sys t = well_conditioned(53, 2, 31);
    sys_upload(ctx, &t);
    TEST_OK(ctx, sys_solve(ctx, &t, NULL, NULL));
    float *x2 = sys_result(ctx, &t);
    assert_memory_equal(x1, x2, 53 * 2 * sizeof *x1);
    free(x2);
    sys_free(&t);
  }
  free(x1);
  cls_context_destroy(ctx);
}

/* Every bad argument: the status, a message naming it, X untouched. */
static void test_bad_arguments(void **state) {
  cls_context *ctx = *state;
  size_t n = 8;
  cls_buffer *a = NULL, *b = NULL, *x = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n * n, &a));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &b));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &x));
  TEST_OK(ctx, cls_buffer_fill(ctx, a, 0, n * n, 1.0f));
  TEST_OK(ctx, cls_buffer_fill(ctx, b, 0, n, 1.0f));
  TEST_OK(ctx, cls_buffer_fill(ctx, x, 0, n, TEST_SENTINEL));
  cls_ref A = cls_ref_at(a, 0), B = cls_ref_at(b, 0), X = cls_ref_at(x, 0);
  cls_spd_options o;

  assert_int_equal(cls_spd_solve(NULL, n, 1, A, n, B, 1, X, 1, NULL, NULL), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_spd_solve(ctx, n, 1, CLS_NOREF, n, B, 1, X, 1, NULL, NULL), CLS_ERR_NULL_ARGUMENT);
  assert_non_null(strstr(cls_last_error(ctx), "`a`"));
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, CLS_NOREF, 1, NULL, NULL), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_spd_solve(ctx, 0, 1, A, n, B, 1, X, 1, NULL, NULL), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(cls_last_error(ctx), "`n`"));
  assert_int_equal(cls_spd_solve(ctx, n, 0, A, n, B, 1, X, 1, NULL, NULL), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_spd_solve(ctx, 50000, 1, A, 50000, B, 1, X, 1, NULL, NULL), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n - 1, B, 1, X, 1, NULL, NULL), CLS_ERR_LEADING_DIM);
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, X, 0, NULL, NULL), CLS_ERR_LEADING_DIM);
  assert_int_equal(cls_spd_solve(ctx, n, 1, cls_ref_at(a, 1), n, B, 1, X, 1, NULL, NULL),
                   CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_spd_solve(ctx, n, 2, A, n, B, 2, X, 2, NULL, NULL), CLS_ERR_BUFFER_TOO_SMALL);
  /* X over A or over B. */
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, cls_ref_at(a, 8), 1, NULL, NULL), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "overlaps"));
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, B, 1, NULL, NULL), CLS_ERR_INVALID_VALUE);
  cls_spd_options_init(&o);
  o.max_refine = -1;
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, X, 1, &o, NULL), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "`max_refine`"));
  cls_spd_options_init(&o);
  o.tolerance = NAN;
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, X, 1, &o, NULL), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "`tolerance`"));
  o.tolerance = 0.0;
  assert_int_equal(cls_spd_solve(ctx, n, 1, A, n, B, 1, X, 1, &o, NULL), CLS_ERR_INVALID_VALUE);

  float *h = test_download(ctx, x);
  for (size_t i = 0; i < n; i++) assert_true(h[i] == TEST_SENTINEL);
  free(h);
  /* A and B may overlap (both are only read): B is A's first column. */
  cls_buffer *m = NULL;
  float *spd = malloc(n * n * sizeof *spd);
  make_spd(spd, n, 2 * n, 0.1, 4);
  m = test_upload(ctx, spd, n * n);
  TEST_OK(ctx, cls_spd_solve(ctx, n, 1, cls_ref_at(m, 0), n, cls_ref_at(m, 0), n, X, 1, NULL, NULL));
  h = test_download(ctx, x); /* A x = A e_0 -> x = e_0 */
  for (size_t i = 0; i < n; i++) assert_true(fabs(h[i] - (i == 0 ? 1.0 : 0.0)) < 1e-5);
  free(h), free(spd);
  cls_buffer_free(m), cls_buffer_free(a), cls_buffer_free(b), cls_buffer_free(x);
}

/* Same inputs, same bits (also in a second context), and the counters. */
static void test_reproducible(void **state) {
  cls_context *ctx = *state;
  sys s = conditioned(150, 1e5, 21);
  sys_upload(ctx, &s);
  cls_counters_reset(ctx);
  TEST_OK(ctx, sys_solve(ctx, &s, NULL, NULL));
  float *x1 = sys_result(ctx, &s);
  cls_counters c;
  TEST_OK(ctx, cls_counters_get(ctx, &c));
  int diag = 0, res = 0;
  for (size_t i = 0; i < c.op_count; i++) {
    if (!strcmp(c.ops[i].name, "chol_diag") && c.ops[i].flops > 0) diag = 1;
    if (!strcmp(c.ops[i].name, "spd_residual") && c.ops[i].flops > 0) res = 1;
  }
  assert_true(diag && res);
  TEST_OK(ctx, sys_solve(ctx, &s, NULL, NULL));
  float *x2 = sys_result(ctx, &s);
  assert_memory_equal(x1, x2, s.n * s.nrhs * sizeof *x1);

  cls_context *other = test_context(NULL, "clblast"); /* the solve ignores the context's backend */
  sys t = s;
  t.a = malloc(s.n * s.n * sizeof *t.a), t.b = malloc(s.n * s.nrhs * sizeof *t.b);
  memcpy(t.a, s.a, s.n * s.n * sizeof *t.a), memcpy(t.b, s.b, s.n * s.nrhs * sizeof *t.b);
  t.bo = 0;
  sys_upload(other, &t);
  TEST_OK(other, sys_solve(other, &t, NULL, NULL));
  float *x3 = sys_result(other, &t);
  assert_memory_equal(x1, x3, s.n * s.nrhs * sizeof *x1);
  free(x1), free(x2), free(x3);
  sys_free(&s), sys_free(&t);
  cls_context_destroy(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes_small_blocks),
      cmocka_unit_test(test_sizes_both_paths),
      cmocka_unit_test(test_sizes_device_blocks),
      cmocka_unit_test(test_ill_conditioned),
      cmocka_unit_test(test_hopeless),
      cmocka_unit_test(test_not_positive_definite),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_reproducible),
      cmocka_unit_test(test_workspace_reuse),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
