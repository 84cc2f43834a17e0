/*
 * tests/test_norm.c — cls_layernorm_* and cls_rmsnorm_* against the double
 * references of src/ops/rows_ref.c, for both kernel variants (ROW_VARIANT=0,
 * a row per work-item; ROW_VARIANT=1, a work-group per row). The bad-argument
 * checks live in test_norm_args.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/rows_ref.h"
#include "test_util.h"

/* The GPU variant's dgamma/dbeta column pass with several columns per
 * work-item (its vector path) and small parts (the two-stage sum on small
 * shapes). */
static int setup_v1_parts(void **state) {
  *state = test_context("ROW_VARIANT=1,ROW_PART=3,ROW_CVEC=4", NULL);
  return 0;
}
/* Largest |got - want| over the largest |want| (norm-wise), or over floor
 * when that is larger. */
static double normwise_err_floor(const float *got, const double *want, size_t n, double floor) {
  double e = 0, m = floor > 1e-30 ? floor : 1e-30;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= e)) e = isnan(d) ? INFINITY : d;
    if (fabs(want[i]) > m) m = fabs(want[i]);
  }
  return e / m;
}

static double normwise_err(const float *got, const double *want, size_t n) {
  return normwise_err_floor(got, want, n, 0);
}

/* dx is a difference of terms of size rstd * gamma * dy that can cancel
 * (RMSNorm with one column: exactly): measure its error against that size. */
static double dx_scale(size_t rows, size_t cols, const float *rstd, const float *gamma, const float *dy) {
  double m = 0;
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < cols; j++) m = fmax(m, fabs((double)rstd[r] * gamma[j] * dy[r * cols + j]));
  return m;
}

static void expect_dx_close(const char *what, size_t rows, size_t cols, const float *got, const double *want,
                            double floor, double tol) {
  double err = normwise_err_floor(got, want, rows * cols, floor);
  if (err > tol) fail_msg("%s %zu x %zu: dx error %g > %g (relative to %g)", what, rows, cols, err, tol, floor);
}

static void expect_close(const char *what, size_t rows, size_t cols, const float *got, const double *want,
                         size_t n, double tol) {
  double err = normwise_err(got, want, n);
  if (err > tol) fail_msg("%s %zu x %zu: norm-wise error %g > %g", what, rows, cols, err, tol);
}

/* ------------------------------------------------------------- forward */

/* One forward call at offsets inside padded buffers; rms selects RMSNorm;
 * with_beta / with_stats select the optional operands. */
static void check_forward(cls_context *ctx, int rms, size_t rows, size_t cols, int with_beta, int with_stats,
                          float lo, float hi, uint64_t seed) {
  size_t n = rows * cols;
  float eps = 1e-5f;
  float *x = test_random_floats(n, seed, lo, hi), *gamma = test_random_floats(cols, seed + 1, 0.5f, 1.5f);
  float *beta = test_random_floats(cols, seed + 2, -1.0f, 1.0f);
  cls_buffer *bx = test_upload_padded(ctx, x, n, 3), *bg = test_upload_padded(ctx, gamma, cols, 1);
  /* y alternately on and off a 16-float boundary: the row kernels store
   * through aligned vectors only when a row starts on one. */
  size_t pady = seed % 2 ? 7 : 16;
  cls_buffer *bb = test_upload_padded(ctx, beta, cols, 2), *by = test_upload_padded(ctx, NULL, n, pady);
  cls_buffer *bm = test_upload_padded(ctx, NULL, rows, 4), *br = test_upload_padded(ctx, NULL, rows, 5);
  cls_ref mean = with_stats ? cls_ref_at(bm, 4) : CLS_NOREF, rstd = with_stats ? cls_ref_at(br, 5) : CLS_NOREF;
  if (rms)
    TEST_OK(ctx, cls_rmsnorm_forward(ctx, rows, cols, eps, cls_ref_at(bx, 3), cls_ref_at(bg, 1),
                                     cls_ref_at(by, pady), rstd));
  else
    TEST_OK(ctx,
            cls_layernorm_forward(ctx, rows, cols, eps, cls_ref_at(bx, 3), cls_ref_at(bg, 1),
                                  with_beta ? cls_ref_at(bb, 2) : CLS_NOREF, cls_ref_at(by, pady), mean, rstd));
  double *xd = test_to_double(x, n), *gd = test_to_double(gamma, cols), *bd = test_to_double(beta, cols);
  double *want = malloc(n * sizeof *want), *wm = malloc(rows * sizeof *wm), *wr = malloc(rows * sizeof *wr);
  if (rms)
    cls__ref_rmsnorm_forward(rows, cols, eps, xd, gd, want, wr);
  else
    cls__ref_layernorm_forward(rows, cols, eps, xd, gd, with_beta ? bd : NULL, want, wm, wr);
  float *y = test_download_padded(ctx, by, n, pady);
  float *m = test_download_padded(ctx, bm, rows, 4), *r = test_download_padded(ctx, br, rows, 5);
  const char *what = rms ? "rmsnorm forward" : "layernorm forward";
  expect_close(what, rows, cols, y, want, n, 2e-5);
  if (with_stats) {
    if (!rms) {
      /* mean relative to the row's spread: offsets make it tiny or huge. */
      for (size_t i = 0; i < rows; i++)
        if (fabs(m[i] - wm[i]) > 1e-5 * (fabs(wm[i]) + 1.0 / wr[i]))
          fail_msg("%s mean[%zu] %g != %g", what, i, (double)m[i], wm[i]);
    }
    size_t at;
    if (test_max_rel_err(r, wr, rows, 0, &at) > 2e-5)
      fail_msg("%s rstd[%zu] %g != %g", what, at, (double)r[at], wr[at]);
  } else {
    for (size_t i = 0; i < rows; i++) assert_true(m[i] == TEST_SENTINEL && r[i] == TEST_SENTINEL);
  }
  float *x_after = test_download_padded(ctx, bx, n, 3);
  assert_memory_equal(x_after, x, n * sizeof *x);
  free(x_after);
  free(x);
  free(gamma);
  free(beta);
  free(xd);
  free(gd);
  free(bd);
  free(want);
  free(wm);
  free(wr);
  free(y);
  free(m);
  free(r);
  cls_buffer_free(bx);
  cls_buffer_free(bg);
  cls_buffer_free(bb);
  cls_buffer_free(by);
  cls_buffer_free(bm);
  cls_buffer_free(br);
}

static const size_t grid_cols[] = {1, 2, 3, 7, 16, 31, 64, 65, 127, 257, 1000, 4099};
static const size_t grid_rows[] = {1, 2, 3, 7, 31, 64, 65, 127, 300};

static void forward_grid(void **state) {
  cls_context *ctx = *state;
  uint64_t seed = 1;
  for (size_t c = 0; c < sizeof grid_cols / sizeof *grid_cols; c++)
    for (size_t r = 0; r < sizeof grid_rows / sizeof *grid_rows; r++) {
      size_t rows = grid_rows[r], cols = grid_cols[c];
      if (rows * cols > test_limit(300000, TEST_SMALL_LIMIT)) continue;
      check_forward(ctx, 0, rows, cols, (int)(seed % 2), (int)(seed % 3 != 0), -2.0f, 2.0f, seed);
      check_forward(ctx, 1, rows, cols, 0, (int)(seed % 3 != 1), -2.0f, 2.0f, seed + 7);
      seed++;
    }
}

/* A large common offset must not hurt the variance (two-pass, not
 * E[x^2] - E[x]^2); large magnitudes must not overflow. */
static void forward_offset_and_scale(void **state) {
  cls_context *ctx = *state;
  check_forward(ctx, 0, 9, 300, 1, 1, 1000.0f, 1001.0f, 71);
  check_forward(ctx, 0, 5, 129, 1, 1, -1e4f, 1e4f, 72);
  check_forward(ctx, 1, 5, 129, 0, 1, -1e4f, 1e4f, 73);
  check_forward(ctx, 1, 4, 77, 0, 1, 1e-3f, 2e-3f, 74);
}

/* The CPU kernels take LayerNorm's sums of x - x[0] and of its square in
 * one pass and fall back to the two-pass variance where the one-pass one
 * would cancel (var_sum in cl/norm.cl): a row whose first element lies far
 * from its mean. Rows here put it 0 to 1000 standard deviations away (the
 * rest uniform in [-1, 1], standard deviation 0.58), on both sides of the
 * fallback's threshold (1.7), in one launch; widths cover the register
 * packs, the row loop with and without a scalar tail, and long rows. */
static void forward_first_outlier(void **state) {
  cls_context *ctx = *state;
  static const size_t cols_list[] = {16, 64, 256, 1000, 1024, 4099};
  static const float first[] = {0.0f, 0.5f, 0.9f, 1.0f, 1.2f, -1.5f, 3.0f, 30.0f, -300.0f, 1000.0f};
  const size_t rows = sizeof first / sizeof *first;
  for (size_t c = 0; c < sizeof cols_list / sizeof *cols_list; c++) {
    size_t cols = cols_list[c], n = rows * cols;
    float *x = test_random_floats(n, 90 + c, -1.0f, 1.0f), *gamma = test_random_floats(cols, 91, 0.5f, 1.5f);
    for (size_t r = 0; r < rows; r++) x[r * cols] = first[r];
    cls_buffer *bx = test_upload(ctx, x, n), *bg = test_upload(ctx, gamma, cols), *by = NULL, *br = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
    TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &br));
    TEST_OK(ctx, cls_layernorm_forward(ctx, rows, cols, 1e-5f, cls_ref_at(bx, 0), cls_ref_at(bg, 0), CLS_NOREF,
                                       cls_ref_at(by, 0), CLS_NOREF, cls_ref_at(br, 0)));
    float *y = test_download(ctx, by), *r = test_download(ctx, br);
    double *xd = test_to_double(x, n), *gd = test_to_double(gamma, cols);
    double *want = malloc(n * sizeof *want), *wm = malloc(rows * sizeof *wm), *wr = malloc(rows * sizeof *wr);
    cls__ref_layernorm_forward(rows, cols, 1e-5, xd, gd, NULL, want, wm, wr);
    expect_close("layernorm forward, first element far from the mean", rows, cols, y, want, n, 2e-5);
    size_t at;
    double err = test_max_rel_err(r, wr, rows, 0, &at);
    if (err > 2e-5)
      fail_msg("layernorm %zu x %zu, first element %g: rstd %g != %g (rel err %g)", rows, cols, (double)first[at],
               (double)r[at], wr[at], err);
    free(x);
    free(gamma);
    free(y);
    free(r);
    free(xd);
    free(gd);
    free(want);
    free(wm);
    free(wr);
    cls_buffer_free(bx);
    cls_buffer_free(bg);
    cls_buffer_free(by);
    cls_buffer_free(br);
  }
}

/* Constant rows: variance 0, so y = beta exactly and rstd = 1/sqrt(eps). */
static void forward_constant_rows(void **state) {
  cls_context *ctx = *state;
  size_t rows = 4, cols = 37, n = rows * cols;
  float *x = malloc(n * sizeof *x), *gamma = test_random_floats(cols, 5, 0.5f, 1.5f),
        *beta = test_random_floats(cols, 6, -1, 1);
  for (size_t i = 0; i < n; i++) x[i] = (float)(i / cols) * 1000.0f + 3.0f;
  cls_buffer *bx = test_upload(ctx, x, n), *bg = test_upload(ctx, gamma, cols), *bb = test_upload(ctx, beta, cols);
  cls_buffer *by = NULL, *br = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
  TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &br));
  TEST_OK(ctx, cls_layernorm_forward(ctx, rows, cols, 1e-5f, cls_ref_at(bx, 0), cls_ref_at(bg, 0),
                                     cls_ref_at(bb, 0), cls_ref_at(by, 0), CLS_NOREF, cls_ref_at(br, 0)));
  float *y = test_download(ctx, by), *r = test_download(ctx, br);
  for (size_t i = 0; i < n; i++) {
    assert_true(isfinite(y[i]));
    assert_true(fabsf(y[i] - beta[i % cols]) < 1e-6f);
  }
  for (size_t i = 0; i < rows; i++) assert_true(fabs(r[i] - 1.0 / sqrt(1e-5)) < 1e-2);
  free(x);
  free(gamma);
  free(beta);
  free(y);
  free(r);
  cls_buffer_free(bx);
  cls_buffer_free(bg);
  cls_buffer_free(bb);
  cls_buffer_free(by);
  cls_buffer_free(br);
}

static void forward_in_place(void **state) {
  cls_context *ctx = *state;
  size_t rows = 33, cols = 65, n = rows * cols;
  for (int rms = 0; rms <= 1; rms++) {
    float *x = test_random_floats(n, 80 + rms, -3, 3), *gamma = test_random_floats(cols, 82, 0.5f, 1.5f);
    cls_buffer *bx = test_upload_padded(ctx, x, n, 2), *bg = test_upload(ctx, gamma, cols);
    if (rms)
      TEST_OK(ctx, cls_rmsnorm_forward(ctx, rows, cols, 1e-5f, cls_ref_at(bx, 2), cls_ref_at(bg, 0),
                                       cls_ref_at(bx, 2), CLS_NOREF));
    else
      TEST_OK(ctx, cls_layernorm_forward(ctx, rows, cols, 1e-5f, cls_ref_at(bx, 2), cls_ref_at(bg, 0), CLS_NOREF,
                                         cls_ref_at(bx, 2), CLS_NOREF, CLS_NOREF));
    double *xd = test_to_double(x, n), *gd = test_to_double(gamma, cols), *want = malloc(n * sizeof *want);
    if (rms)
      cls__ref_rmsnorm_forward(rows, cols, 1e-5, xd, gd, want, NULL);
    else
      cls__ref_layernorm_forward(rows, cols, 1e-5, xd, gd, NULL, want, NULL, NULL);
    float *y = test_download_padded(ctx, bx, n, 2);
    expect_close("in-place forward", rows, cols, y, want, n, 2e-5);
    free(x);
    free(gamma);
    free(xd);
    free(gd);
    free(want);
    free(y);
    cls_buffer_free(bx);
    cls_buffer_free(bg);
  }
}

/* ---------------------------------------------- fused residual, dx add */

/* cls_residual_*norm_forward: x = (a + b) + bias, then the norm of x, at
 * offsets in padded buffers, against the double references; in place
 * over a once. Then the *_backward_add ops: dx starts at known values and
 * receives the norm's dx on top. */
static void check_residual(cls_context *ctx, int rms, size_t rows, size_t cols, int in_place, uint64_t seed) {
  const size_t n = rows * cols;
  float *ha = test_random_floats(n, seed, -2, 2), *hb = test_random_floats(n, seed + 1, -2, 2);
  float *hbias = test_random_floats(cols, seed + 2, -1, 1), *hg = test_random_floats(cols, seed + 3, 0.5f, 1.5f);
  float *hbeta = test_random_floats(cols, seed + 4, -1, 1), *hdy = test_random_floats(n, seed + 5, -1, 1);
  float *hdx0 = test_random_floats(n, seed + 6, -1, 1);
  cls_buffer *ba = test_upload_padded(ctx, ha, n, 3), *bb = test_upload_padded(ctx, hb, n, 2);
  cls_buffer *bbias = test_upload_padded(ctx, hbias, cols, 1), *bg = test_upload_padded(ctx, hg, cols, 2);
  cls_buffer *bbeta = test_upload_padded(ctx, hbeta, cols, 1), *bx = test_upload_padded(ctx, NULL, n, 5);
  cls_buffer *by = test_upload_padded(ctx, NULL, n, 4), *bm = test_upload_padded(ctx, NULL, rows, 1);
  cls_buffer *br = test_upload_padded(ctx, NULL, rows, 2), *bdy = test_upload_padded(ctx, hdy, n, 1);
  cls_buffer *bdx = test_upload_padded(ctx, hdx0, n, 3), *bdg = test_upload_padded(ctx, NULL, cols, 1);
  cls_ref A = cls_ref_at(ba, 3), X = in_place ? A : cls_ref_at(bx, 5), Y = cls_ref_at(by, 4);
  cls_ref M = cls_ref_at(bm, 1), R = cls_ref_at(br, 2), G = cls_ref_at(bg, 2);
  if (rms)
    TEST_OK(ctx, cls_residual_rmsnorm_forward(ctx, rows, cols, 1e-5f, A, cls_ref_at(bb, 2), cls_ref_at(bbias, 1),
                                              X, G, Y, R));
  else
    TEST_OK(ctx, cls_residual_layernorm_forward(ctx, rows, cols, 1e-5f, A, cls_ref_at(bb, 2), cls_ref_at(bbias, 1),
                                                X, G, cls_ref_at(bbeta, 1), Y, M, R));
  double *xd = malloc(n * sizeof *xd), *yd = malloc(n * sizeof *yd), *md = malloc(rows * sizeof *md);
  double *rd = malloc(rows * sizeof *rd), *gd = test_to_double(hg, cols), *bed = test_to_double(hbeta, cols);
  for (size_t i = 0; i < n; i++) xd[i] = ((double)ha[i] + hb[i]) + hbias[i % cols];
  if (rms)
    cls__ref_rmsnorm_forward(rows, cols, 1e-5, xd, gd, yd, rd);
  else
    cls__ref_layernorm_forward(rows, cols, 1e-5, xd, gd, bed, yd, md, rd);
  float *gx = test_download_padded(ctx, in_place ? ba : bx, n, in_place ? 3 : 5);
  float *gy = test_download_padded(ctx, by, n, 4), *gr = test_download_padded(ctx, br, rows, 2);
  expect_close("residual x", rows, cols, gx, xd, n, 1e-6);
  expect_close("residual norm y", rows, cols, gy, yd, n, 2e-5);
  expect_close("residual norm rstd", rows, 1, gr, rd, rows, 2e-5);

  /* Backward, adding to dx: the reference from the device's statistics. */
  float *gm = test_download_padded(ctx, bm, rows, 1);
  double *dyd = test_to_double(hdy, n), *mdd = test_to_double(gm, rows), *rdd = test_to_double(gr, rows);
  double *dxw = malloc(n * sizeof *dxw), *dgw = calloc(cols, sizeof *dgw), *dbw = calloc(cols, sizeof *dbw);
  double *xdd = test_to_double(gx, n);
  if (rms) {
    cls__ref_rmsnorm_backward(rows, cols, xdd, gd, rdd, dyd, dxw, dgw, 0);
    TEST_OK(ctx, cls_rmsnorm_backward_add(ctx, rows, cols, X, G, R, cls_ref_at(bdy, 1), cls_ref_at(bdx, 3),
                                          cls_ref_at(bdg, 1), 0));
  } else {
    cls__ref_layernorm_backward(rows, cols, xdd, gd, mdd, rdd, dyd, dxw, dgw, dbw, 0);
    TEST_OK(ctx, cls_layernorm_backward_add(ctx, rows, cols, X, G, M, R, cls_ref_at(bdy, 1), cls_ref_at(bdx, 3),
                                            cls_ref_at(bdg, 1), CLS_NOREF, 0));
  }
  for (size_t i = 0; i < n; i++) dxw[i] += hdx0[i];
  float *gdx = test_download_padded(ctx, bdx, n, 3), *gdg = test_download_padded(ctx, bdg, cols, 1);
  expect_dx_close("backward_add dx", rows, cols, gdx, dxw, 1.0, 5e-5);
  expect_close("backward_add dgamma", rows, cols, gdg, dgw, cols, 5e-5);
  free(ha), free(hb), free(hbias), free(hg), free(hbeta), free(hdy), free(hdx0), free(xd), free(yd), free(md);
  free(rd), free(gd), free(bed), free(gx), free(gy), free(gr), free(gm), free(dyd), free(mdd), free(rdd);
  free(dxw), free(dgw), free(dbw), free(xdd), free(gdx), free(gdg);
  cls_buffer *all[] = {ba, bb, bbias, bg, bbeta, bx, by, bm, br, bdy, bdx, bdg};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cls_buffer_free(all[i]);
}

static void residual_grid(void **state) {
  cls_context *ctx = *state;
  static const size_t shapes[][2] = {{1, 1}, {3, 7}, {5, 16}, {17, 33}, {64, 130}, {2, 1000}, {300, 3}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int rms = 0; rms < 2; rms++) check_residual(ctx, rms, shapes[i][0], shapes[i][1], (int)(i % 2), 900 + i);
}

static void residual_bad_arguments(void **state) {
  cls_context *ctx = *state;
  cls_buffer *a = test_upload_padded(ctx, NULL, 64, 0), *b = test_upload_padded(ctx, NULL, 64, 0);
  cls_buffer *x = test_upload_padded(ctx, NULL, 64, 0), *y = test_upload_padded(ctx, NULL, 64, 0);
  cls_buffer *g = test_upload_padded(ctx, NULL, 8, 0), *bias = test_upload_padded(ctx, NULL, 8, 0);
  cls_ref A = cls_ref_at(a, 0), B = cls_ref_at(b, 0), X = cls_ref_at(x, 0), Y = cls_ref_at(y, 0);
  cls_ref G = cls_ref_at(g, 0), BI = cls_ref_at(bias, 0);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, A, B, BI, X, G, Y, CLS_NOREF), CLS_OK);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, CLS_NOREF, B, BI, X, G, Y, CLS_NOREF),
                   CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, A, B, CLS_NOREF, X, G, Y, CLS_NOREF),
                   CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 9, 8, 1e-5f, A, B, BI, X, G, Y, CLS_NOREF),
                   CLS_ERR_BUFFER_TOO_SMALL);
  /* x over b, y over a or x: refused; x = a (in place) is fine. */
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, A, B, BI, B, G, Y, CLS_NOREF),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(
      cls_residual_layernorm_forward(ctx, 8, 8, 1e-5f, A, B, BI, X, G, CLS_NOREF, A, CLS_NOREF, CLS_NOREF),
      CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, A, B, BI, X, G, X, CLS_NOREF),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, A, B, BI, A, G, Y, CLS_NOREF), CLS_OK);
  assert_int_equal(cls_residual_rmsnorm_forward(ctx, 8, 8, 0.0f, A, B, BI, X, G, Y, CLS_NOREF),
                   CLS_ERR_INVALID_VALUE);
  /* Adding to dx: dx may not be dy or x. */
  cls_buffer *r = test_upload_padded(ctx, NULL, 8, 0);
  TEST_OK(ctx, cls_residual_rmsnorm_forward(ctx, 8, 8, 1e-5f, A, B, BI, X, G, Y, cls_ref_at(r, 0)));
  assert_int_equal(cls_rmsnorm_backward_add(ctx, 8, 8, X, G, cls_ref_at(r, 0), Y, Y, BI, 0),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_rmsnorm_backward_add(ctx, 8, 8, X, G, cls_ref_at(r, 0), Y, X, BI, 0),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_rmsnorm_backward_add(ctx, 8, 8, X, G, cls_ref_at(r, 0), Y, A, BI, 0), CLS_OK);
  cls_buffer *all[] = {a, b, x, y, g, bias, r};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cls_buffer_free(all[i]);
}

/* ------------------------------------------------------------ backward */

enum { DX_SEPARATE, DX_IS_DY, DX_IS_X };

/* Backward on one shape: the statistics come from the device's forward
 * pass, the reference backward uses those same (float) statistics. With
 * accumulate, dgamma/dbeta start from known values; without, from NaN,
 * which must not leak through. */
static void check_backward(cls_context *ctx, int rms, size_t rows, size_t cols, int with_dbeta, int accumulate,
                           int alias, uint64_t seed) {
  size_t n = rows * cols;
  float *x = test_random_floats(n, seed, -2, 2), *gamma = test_random_floats(cols, seed + 1, 0.5f, 1.5f);
  float *dy = test_random_floats(n, seed + 2, -1, 1), *g0 = test_random_floats(cols, seed + 3, -1, 1);
  float *b0 = test_random_floats(cols, seed + 4, -1, 1);
  if (!accumulate)
    for (size_t j = 0; j < cols; j++) g0[j] = b0[j] = NAN;
  cls_buffer *bx = test_upload_padded(ctx, x, n, 3), *bg = test_upload_padded(ctx, gamma, cols, 1);
  cls_buffer *bdy = test_upload_padded(ctx, dy, n, 2), *bm = NULL, *br = NULL, *by = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &bm));
  TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &br));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
  size_t sep_pad = seed % 2 ? 6 : 16; /* dx on and off a 16-float boundary */
  cls_buffer *bdx = alias == DX_IS_DY ? bdy : alias == DX_IS_X ? bx : test_upload_padded(ctx, NULL, n, sep_pad);
  size_t dx_pad = alias == DX_IS_DY ? 2 : alias == DX_IS_X ? 3 : sep_pad;
  cls_buffer *bdg = test_upload_padded(ctx, g0, cols, 4), *bdb = test_upload_padded(ctx, b0, cols, 5);
  cls_ref X = cls_ref_at(bx, 3), G = cls_ref_at(bg, 1), DY = cls_ref_at(bdy, 2), DX = cls_ref_at(bdx, dx_pad);
  cls_ref M = cls_ref_at(bm, 0), R = cls_ref_at(br, 0), Y = cls_ref_at(by, 0);
  if (rms) {
    TEST_OK(ctx, cls_rmsnorm_forward(ctx, rows, cols, 1e-5f, X, G, Y, R));
    TEST_OK(ctx, cls_rmsnorm_backward(ctx, rows, cols, X, G, R, DY, DX, cls_ref_at(bdg, 4), accumulate));
  } else {
    TEST_OK(ctx, cls_layernorm_forward(ctx, rows, cols, 1e-5f, X, G, CLS_NOREF, Y, M, R));
    TEST_OK(ctx, cls_layernorm_backward(ctx, rows, cols, X, G, M, R, DY, DX, cls_ref_at(bdg, 4),
                                        with_dbeta ? cls_ref_at(bdb, 5) : CLS_NOREF, accumulate));
  }
  float *m = test_download(ctx, bm), *r = test_download(ctx, br);
  double *xd = test_to_double(x, n), *gd = test_to_double(gamma, cols), *dyd = test_to_double(dy, n);
  double *md = test_to_double(m, rows), *rd = test_to_double(r, rows);
  double *dxw = malloc(n * sizeof *dxw), *dgw = test_to_double(g0, cols), *dbw = test_to_double(b0, cols);
  if (rms)
    cls__ref_rmsnorm_backward(rows, cols, xd, gd, rd, dyd, dxw, dgw, accumulate);
  else
    cls__ref_layernorm_backward(rows, cols, xd, gd, md, rd, dyd, dxw, dgw, dbw, accumulate);
  float *dx = test_download_padded(ctx, bdx, n, dx_pad);
  float *dg = test_download_padded(ctx, bdg, cols, 4), *db = test_download_padded(ctx, bdb, cols, 5);
  const char *name = rms ? "rmsnorm backward" : "layernorm backward";
  expect_dx_close(name, rows, cols, dx, dxw, dx_scale(rows, cols, r, gamma, dy), 5e-5);
  expect_close(name, rows, cols, dg, dgw, cols, 5e-5);
  if (with_dbeta && !rms) expect_close(name, rows, cols, db, dbw, cols, 5e-5);
  if (!with_dbeta || rms)
    for (size_t j = 0; j < cols; j++) assert_true(isnan(db[j]) || db[j] == b0[j]);
  free(x);
  free(gamma);
  free(dy);
  free(g0);
  free(b0);
  free(m);
  free(r);
  free(xd);
  free(gd);
  free(dyd);
  free(md);
  free(rd);
  free(dxw);
  free(dgw);
  free(dbw);
  free(dx);
  free(dg);
  free(db);
  cls_buffer_free(bx);
  cls_buffer_free(bg);
  cls_buffer_free(bdy);
  cls_buffer_free(bm);
  cls_buffer_free(br);
  cls_buffer_free(by);
  if (alias == DX_SEPARATE) cls_buffer_free(bdx);
  cls_buffer_free(bdg);
  cls_buffer_free(bdb);
}

static void backward_grid(void **state) {
  cls_context *ctx = *state;
  uint64_t seed = 300;
  for (size_t c = 0; c < sizeof grid_cols / sizeof *grid_cols; c++)
    for (size_t r = 0; r < sizeof grid_rows / sizeof *grid_rows; r += 2) {
      size_t rows = grid_rows[r], cols = grid_cols[c];
      if (rows * cols > test_limit(300000, TEST_SMALL_LIMIT)) continue;
      check_backward(ctx, 0, rows, cols, (int)(seed % 3 != 0), (int)(seed % 2), DX_SEPARATE, seed);
      check_backward(ctx, 1, rows, cols, 0, (int)(seed % 2 == 0), DX_SEPARATE, seed + 11);
      seed++;
    }
  /* Many rows: the dgamma/dbeta sums run in several parts (ROW_PART is
   * 256 in every set; small-shape mode keeps the parts, not the width). */
  if (test_small()) {
    check_backward(ctx, 0, 600, 3, 1, 1, DX_SEPARATE, seed++);
    check_backward(ctx, 1, 520, 2, 0, 0, DX_SEPARATE, seed++);
  } else {
    check_backward(ctx, 0, 4099, 64, 1, 1, DX_SEPARATE, seed++);
    check_backward(ctx, 1, 1031, 33, 0, 0, DX_SEPARATE, seed++);
  }
}

static void backward_aliases(void **state) {
  cls_context *ctx = *state;
  for (int rms = 0; rms <= 1; rms++) {
    check_backward(ctx, rms, test_small() ? 7 : 67, 129, 1, 0, DX_IS_DY, 400 + rms);
    check_backward(ctx, rms, test_small() ? 2 : 5, 1000, 1, 1, DX_IS_X, 410 + rms);
  }
}

/* Central differences of L = sum(w * y) in double through the reference
 * forward: dx, dgamma and dbeta of the device's backward pass must match
 * them. */
static void backward_finite_differences(void **state) {
  cls_context *ctx = *state;
  size_t shapes[][2] = {{1, 1}, {2, 2}, {3, 7}, {5, 17}, {2, 64}, {4, 65}};
  const double eps = 1e-5, h = 1e-5;
  for (size_t s = 0; s < 6; s++)
    for (int rms = 0; rms <= 1; rms++) {
      size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
      float *x = test_random_floats(n, 600 + s, -2, 2), *gamma = test_random_floats(cols, 610 + s, 0.5f, 1.5f);
      float *beta = test_random_floats(cols, 620 + s, -1, 1), *w = test_random_floats(n, 630 + s, -1, 1);
      double *xd = test_to_double(x, n), *gd = test_to_double(gamma, cols), *bd = test_to_double(beta, cols);
      double *yd = malloc(n * sizeof *yd);
      double *fdx = malloc(n * sizeof *fdx), *fdg = malloc(cols * sizeof *fdg), *fdb = malloc(cols * sizeof *fdb);
      /* The loss as a function of one perturbed entry of v. */
#define LOSS(v, i, delta, out)                                                                                    \
  do {                                                                                                            \
    double save_ = (v)[i];                                                                                        \
    (v)[i] = save_ + (delta);                                                                                     \
    if (rms)                                                                                                      \
      cls__ref_rmsnorm_forward(rows, cols, eps, xd, gd, yd, NULL);                                                \
    else                                                                                                          \
      cls__ref_layernorm_forward(rows, cols, eps, xd, gd, bd, yd, NULL, NULL);                                    \
    (v)[i] = save_;                                                                                               \
    double l_ = 0;                                                                                                \
    for (size_t k_ = 0; k_ < n; k_++) l_ += w[k_] * yd[k_];                                                       \
    (out) = l_;                                                                                                   \
  } while (0)
      double lp, lm;
      for (size_t i = 0; i < n; i++) {
        LOSS(xd, i, h, lp);
        LOSS(xd, i, -h, lm);
        fdx[i] = (lp - lm) / (2 * h);
      }
      for (size_t j = 0; j < cols; j++) {
        LOSS(gd, j, h, lp);
        LOSS(gd, j, -h, lm);
        fdg[j] = (lp - lm) / (2 * h);
        LOSS(bd, j, h, lp);
        LOSS(bd, j, -h, lm);
        fdb[j] = (lp - lm) / (2 * h);
      }
#undef LOSS
      cls_buffer *bx = test_upload(ctx, x, n), *bg = test_upload(ctx, gamma, cols),
                 *bb = test_upload(ctx, beta, cols);
      cls_buffer *bw = test_upload(ctx, w, n), *by = NULL, *bm = NULL, *br = NULL, *bdx = NULL, *bdg = NULL,
                 *bdb = NULL;
      TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
      TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &bm));
      TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &br));
      TEST_OK(ctx, cls_buffer_alloc(ctx, n, &bdx));
      TEST_OK(ctx, cls_buffer_alloc(ctx, cols, &bdg));
      TEST_OK(ctx, cls_buffer_alloc(ctx, cols, &bdb));
      cls_ref X = cls_ref_at(bx, 0), G = cls_ref_at(bg, 0), B = cls_ref_at(bb, 0), Y = cls_ref_at(by, 0);
      cls_ref M = cls_ref_at(bm, 0), R = cls_ref_at(br, 0), W = cls_ref_at(bw, 0), DX = cls_ref_at(bdx, 0);
      if (rms) {
        TEST_OK(ctx, cls_rmsnorm_forward(ctx, rows, cols, (float)eps, X, G, Y, R));
        TEST_OK(ctx, cls_rmsnorm_backward(ctx, rows, cols, X, G, R, W, DX, cls_ref_at(bdg, 0), 0));
      } else {
        TEST_OK(ctx, cls_layernorm_forward(ctx, rows, cols, (float)eps, X, G, B, Y, M, R));
        TEST_OK(ctx, cls_layernorm_backward(ctx, rows, cols, X, G, M, R, W, DX, cls_ref_at(bdg, 0),
                                            cls_ref_at(bdb, 0), 0));
      }
      float *dx = test_download(ctx, bdx), *dg = test_download(ctx, bdg), *db = test_download(ctx, bdb);
      const char *name = rms ? "rmsnorm vs finite differences" : "layernorm vs finite differences";
      float *r = test_download(ctx, br);
      expect_dx_close(name, rows, cols, dx, fdx, dx_scale(rows, cols, r, gamma, w), 2e-4);
      free(r);
      expect_close(name, rows, cols, dg, fdg, cols, 2e-4);
      if (!rms) expect_close(name, rows, cols, db, fdb, cols, 2e-4);
      free(x);
      free(gamma);
      free(beta);
      free(w);
      free(xd);
      free(gd);
      free(bd);
      free(yd);
      free(fdx);
      free(fdg);
      free(fdb);
      free(dx);
      free(dg);
      free(db);
      cls_buffer *all[] = {bx, bg, bb, bw, by, bm, br, bdx, bdg, bdb};
      for (size_t i = 0; i < 10; i++) cls_buffer_free(all[i]);
    }
}

/* ------------------------------------------------------------ counters */

static void counters(void **state) {
  cls_context *ctx = *state;
  size_t rows = 20, cols = 10, n = rows * cols;
  cls_buffer *b[8];
  size_t count[8] = {n, cols, cols, n, rows, rows, n, n};
  for (int i = 0; i < 8; i++) {
    TEST_OK(ctx, cls_buffer_alloc(ctx, count[i], &b[i]));
    TEST_OK(ctx, cls_buffer_fill(ctx, b[i], 0, count[i], 0.5f + (float)i));
  }
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_layernorm_forward(ctx, rows, cols, 1e-5f, cls_ref_at(b[0], 0), cls_ref_at(b[1], 0),
                                     cls_ref_at(b[2], 0), cls_ref_at(b[3], 0), cls_ref_at(b[4], 0),
                                     cls_ref_at(b[5], 0)));
  TEST_OK(ctx, cls_rmsnorm_forward(ctx, rows, cols, 1e-5f, cls_ref_at(b[0], 0), cls_ref_at(b[1], 0),
                                   cls_ref_at(b[3], 0), CLS_NOREF));
  cls_counters k;
  TEST_OK(ctx, cls_counters_get(ctx, &k));
  int seen = 0;
  for (size_t i = 0; i < k.op_count; i++) {
    if (!strcmp(k.ops[i].name, "layernorm_fwd")) {
      assert_true(k.ops[i].bytes == (2.0 * n + 2.0 * cols + 2.0 * rows) * 4 && k.ops[i].flops > 0);
      seen++;
    }
    if (!strcmp(k.ops[i].name, "rmsnorm_fwd")) {
      assert_true(k.ops[i].bytes == (2.0 * n + cols) * 4 && k.ops[i].flops > 0);
      seen++;
    }
  }
  assert_int_equal(seen, 2);
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_layernorm_backward(ctx, rows, cols, cls_ref_at(b[0], 0), cls_ref_at(b[1], 0),
                                      cls_ref_at(b[4], 0), cls_ref_at(b[5], 0), cls_ref_at(b[6], 0),
                                      cls_ref_at(b[7], 0), cls_ref_at(b[2], 0), CLS_NOREF, 0));
  TEST_OK(ctx, cls_counters_get(ctx, &k));
  assert_int_equal(k.op_count, 1);
  assert_string_equal(k.ops[0].name, "layernorm_bwd");
  assert_true(k.ops[0].bytes == (3.0 * n + 2.0 * cols + 2.0 * rows) * 4 && k.ops[0].flops > 0);
  for (int i = 0; i < 8; i++) cls_buffer_free(b[i]);
}

/* ------------------------------------------------ models side by side */

/* Compares two buffers of n floats bitwise. */
static void expect_same(cls_context *ctx, const cls_buffer *got, const cls_buffer *want, size_t n,
                        const char *what, size_t rows, size_t cols, int acc, int add) {
  float *g = test_download(ctx, got), *w = test_download(ctx, want);
  size_t at = 0;
  while (at < n && !memcmp(&g[at], &w[at], sizeof *g)) at++;
  if (at < n)
    fail_msg("%s models form, %zu x %zu, accumulate %d, add %d: float %zu of %zu is %.9g, one call per model %.9g",
             what, rows, cols, acc, add, at, n, (double)g[at], (double)w[at]);
  free(g);
  free(w);
}

/* The norms' models forms (models side by side, the train layer's
 * models.h) against one call per model, bitwise, RMSNorm and LayerNorm:
 * forward, the fused residual forward and the backward (dx = and dx +=,
 * dgamma and dbeta overwritten and added to), with each model's gamma,
 * beta, mean and rstd strided apart (gaps the ops must leave alone) and
 * shapes of one part per model, several, and a last part shorter than the
 * others. */
static void models_forms(void **state) {
  cls_context *ctx = *state;
  const size_t big[][2] = {{100, 33}, {512, 16}, {37, 64}, {6, 5}, {1, 9}};
  const size_t small[][2] = {{20, 33}, {9, 16}, {7, 8}, {6, 5}, {1, 9}};
  const size_t(*shapes)[2] = test_small() ? small : big;
  const size_t K = 3;
  const float eps = 1e-5f;
  for (int rms = 1; rms >= 0; rms--)
    for (size_t si = 0; si < 5; si++)
      for (int v = 0; v < 4; v++) {
        const int acc = v & 1, add = v >> 1;
        const size_t rows = shapes[si][0], cols = shapes[si][1], n = K * rows * cols;
        const size_t ps = cols + 7, ss = rows + 5, np = K * ps, ns = K * ss;
        float *x = test_random_floats(n, 40 + si, -2, 2), *dy = test_random_floats(n, 50 + si, -1, 1);
        float *g = test_random_floats(np, 60 + si, 0.5f, 1.5f), *bias = test_random_floats(np, 70 + si, -1, 1);
        float *st = test_random_floats(ns, 80 + si, -1, 1); /* what the statistics' gaps hold */
        float *beta = test_random_floats(np, 90 + si, -1, 1);
        cls_buffer *X[2], *A[2], *Y[2], *R[2], *M[2], *G[2], *BE[2], *B[2], *DY[2], *DX[2], *DG[2], *DB[2];
        for (int w = 0; w < 2; w++) {
          X[w] = test_upload(ctx, x, n);
          A[w] = test_upload(ctx, dy, n);
          Y[w] = test_upload(ctx, dy, n);
          R[w] = test_upload(ctx, st, ns);
          M[w] = test_upload(ctx, st, ns);
          G[w] = test_upload(ctx, g, np);
          BE[w] = test_upload(ctx, beta, np);
          B[w] = test_upload(ctx, bias, np);
          DY[w] = test_upload(ctx, dy, n);
          DX[w] = test_upload(ctx, x, n);
          DG[w] = test_upload(ctx, bias, np);
          DB[w] = test_upload(ctx, g, np);
        }
        /* w = 0: the models forms; w = 1: one call per model. Forward into
         * Y, M and R, then the fused residual (A + X + bias into A, its norm
         * into Y, M and R again), then the backward from A's norm. */
        cls_ref x0 = cls_ref_at(X[0], 0), g0 = cls_ref_at(G[0], 0), be0 = cls_ref_at(BE[0], 0);
        cls_ref y0 = cls_ref_at(Y[0], 0), m0 = cls_ref_at(M[0], 0), r0 = cls_ref_at(R[0], 0);
        TEST_OK(ctx, rms ? cls_rmsnorm_forward_models(ctx, K, rows, cols, eps, x0, g0, ps, y0, r0, ss)
                         : cls_layernorm_forward_models(ctx, K, rows, cols, eps, x0, g0, be0, ps, y0, m0, r0, ss));
        for (size_t k = 0; k < K; k++) {
          const size_t o = k * rows * cols;
          cls_ref x1 = cls_ref_at(X[1], o), g1 = cls_ref_at(G[1], k * ps), be1 = cls_ref_at(BE[1], k * ps);
          cls_ref y1 = cls_ref_at(Y[1], o), m1 = cls_ref_at(M[1], k * ss), r1 = cls_ref_at(R[1], k * ss);
          TEST_OK(ctx, rms ? cls_rmsnorm_forward(ctx, rows, cols, eps, x1, g1, y1, r1)
                           : cls_layernorm_forward(ctx, rows, cols, eps, x1, g1, be1, y1, m1, r1));
        }
        expect_same(ctx, Y[0], Y[1], n, rms ? "rmsnorm forward y" : "layernorm forward y", rows, cols, acc, add);
        expect_same(ctx, R[0], R[1], ns, rms ? "rmsnorm forward rstd" : "layernorm forward rstd", rows, cols, acc,
                    add);
        expect_same(ctx, M[0], M[1], ns, rms ? "rmsnorm forward mean" : "layernorm forward mean", rows, cols, acc,
                    add);
        cls_ref a0 = cls_ref_at(A[0], 0), b0 = cls_ref_at(B[0], 0);
        TEST_OK(ctx, rms ? cls_residual_rmsnorm_forward_models(ctx, K, rows, cols, eps, a0, x0, b0, a0, g0, ps, y0,
                                                               r0, ss)
                         : cls_residual_layernorm_forward_models(ctx, K, rows, cols, eps, a0, x0, b0, a0, g0, be0,
                                                                 ps, y0, m0, r0, ss));
        for (size_t k = 0; k < K; k++) {
          const size_t o = k * rows * cols;
          cls_ref a1 = cls_ref_at(A[1], o), x1 = cls_ref_at(X[1], o), b1 = cls_ref_at(B[1], k * ps);
          cls_ref g1 = cls_ref_at(G[1], k * ps), be1 = cls_ref_at(BE[1], k * ps), y1 = cls_ref_at(Y[1], o);
          cls_ref m1 = cls_ref_at(M[1], k * ss), r1 = cls_ref_at(R[1], k * ss);
          TEST_OK(ctx,
                  rms ? cls_residual_rmsnorm_forward(ctx, rows, cols, eps, a1, x1, b1, a1, g1, y1, r1)
                      : cls_residual_layernorm_forward(ctx, rows, cols, eps, a1, x1, b1, a1, g1, be1, y1, m1, r1));
        }
        expect_same(ctx, A[0], A[1], n, rms ? "rmsnorm residual x" : "layernorm residual x", rows, cols, acc, add);
        expect_same(ctx, Y[0], Y[1], n, rms ? "rmsnorm residual y" : "layernorm residual y", rows, cols, acc, add);
        expect_same(ctx, R[0], R[1], ns, rms ? "rmsnorm residual rstd" : "layernorm residual rstd", rows, cols,
                    acc, add);
        expect_same(ctx, M[0], M[1], ns, rms ? "rmsnorm residual mean" : "layernorm residual mean", rows, cols,
                    acc, add);
        cls_ref dy0 = cls_ref_at(DY[0], 0), dx0 = cls_ref_at(DX[0], 0), dg0 = cls_ref_at(DG[0], 0);
        cls_ref db0 = cls_ref_at(DB[0], 0);
        TEST_OK(ctx,
                rms ? cls_rmsnorm_backward_models(ctx, K, rows, cols, a0, g0, ps, r0, ss, dy0, dx0, dg0, acc, add)
                    : cls_layernorm_backward_models(ctx, K, rows, cols, a0, g0, ps, m0, r0, ss, dy0, dx0, dg0, db0,
                                                    acc, add));
        for (size_t k = 0; k < K; k++) {
          const size_t o = k * rows * cols;
          cls_ref xr = cls_ref_at(A[1], o), gr = cls_ref_at(G[1], k * ps), rr = cls_ref_at(R[1], k * ss);
          cls_ref mr = cls_ref_at(M[1], k * ss), dbr = cls_ref_at(DB[1], k * ps);
          cls_ref dyr = cls_ref_at(DY[1], o), dxr = cls_ref_at(DX[1], o), dgr = cls_ref_at(DG[1], k * ps);
          if (rms)
            TEST_OK(ctx, add ? cls_rmsnorm_backward_add(ctx, rows, cols, xr, gr, rr, dyr, dxr, dgr, acc)
                             : cls_rmsnorm_backward(ctx, rows, cols, xr, gr, rr, dyr, dxr, dgr, acc));
          else
            TEST_OK(ctx, add ? cls_layernorm_backward_add(ctx, rows, cols, xr, gr, mr, rr, dyr, dxr, dgr, dbr, acc)
                             : cls_layernorm_backward(ctx, rows, cols, xr, gr, mr, rr, dyr, dxr, dgr, dbr, acc));
        }
        expect_same(ctx, DX[0], DX[1], n, rms ? "rmsnorm backward dx" : "layernorm backward dx", rows, cols, acc,
                    add);
        expect_same(ctx, DG[0], DG[1], np, rms ? "rmsnorm backward dgamma" : "layernorm backward dgamma", rows,
                    cols, acc, add);
        expect_same(ctx, DB[0], DB[1], np, rms ? "rmsnorm backward dbeta" : "layernorm backward dbeta", rows, cols,
                    acc, add);
        for (int w = 0; w < 2; w++) {
          cls_buffer *all[] = {X[w], A[w], Y[w], R[w], M[w], G[w], BE[w], B[w], DY[w], DX[w], DG[w], DB[w]};
          for (int i = 0; i < 12; i++) cls_buffer_free(all[i]);
        }
        free(x);
        free(dy);
        free(g);
        free(bias);
        free(st);
        free(beta);
      }
  /* Strides that would overlap the models' parameters or statistics are
   * refused, before anything runs. */
  cls_buffer *b = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 256, &b));
  assert_int_equal(cls_rmsnorm_forward_models(ctx, 2, 4, 8, eps, cls_ref_at(b, 0), cls_ref_at(b, 64), 7,
                                              cls_ref_at(b, 128), cls_ref_at(b, 192), 4),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_rmsnorm_forward_models(ctx, 2, 4, 8, eps, cls_ref_at(b, 0), cls_ref_at(b, 64), 8,
                                              cls_ref_at(b, 128), cls_ref_at(b, 192), 3),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_rmsnorm_backward_models(ctx, 0, 4, 8, cls_ref_at(b, 0), cls_ref_at(b, 64), 8,
                                               cls_ref_at(b, 96), 4, cls_ref_at(b, 128), cls_ref_at(b, 160),
                                               cls_ref_at(b, 192), 0, 0),
                   CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_rmsnorm_backward_models(ctx, 2, 4, 8, cls_ref_at(b, 0), cls_ref_at(b, 64), 8,
                                               cls_ref_at(b, 96), 4, cls_ref_at(b, 128), cls_ref_at(b, 160),
                                               cls_ref_at(b, 192), 0, 2),
                   CLS_ERR_INVALID_VALUE);
  /* A models span past the buffer's end. */
  assert_int_equal(cls_rmsnorm_forward_models(ctx, 4, 4, 8, eps, cls_ref_at(b, 0), cls_ref_at(b, 128), 8,
                                              cls_ref_at(b, 160), cls_ref_at(b, 240), 4),
                   CLS_ERR_BUFFER_TOO_SMALL);
  cls_buffer_free(b);
}

/* ------------------------------------------------- register packs */

/* The forward operands of one packs_bitwise case, in one context, and
 * what came out. */
typedef struct pack_case {
  size_t models, rows, cols, pad; /* rows: one model's */
  int rms, beta, res, in_place;
} pack_case;

/* Runs one case in ctx on x (with res: x = (a + x) + bias written over a,
 * then its norm; models > 1 is RMSNorm's models form), returning the
 * normalised input (x, or a with res), y, mean and rstd as downloaded
 * (NULL where there is none: y in place, mean of RMSNorm). Parameters and
 * statistics of model k sit k * (cols + 7) and k * (rows + 5) floats on. a
 * holds at least np + 5 floats. */
static void pack_run(cls_context *ctx, const pack_case *c, const float *x, const float *a, const float *g,
                     float *out[4]) {
  const size_t K = c->models, n = K * c->rows * c->cols, ps = c->cols + 7, ss = c->rows + 5;
  const size_t np = (K - 1) * ps + c->cols, ns = (K - 1) * ss + c->rows, pad = c->pad;
  cls_buffer *bx = test_upload_padded(ctx, x, n, pad), *ba = test_upload_padded(ctx, a, n, pad + 3);
  cls_buffer *by = c->in_place ? bx : test_upload_padded(ctx, NULL, n, pad + 1);
  cls_buffer *bg = test_upload(ctx, g, np), *bb = test_upload(ctx, a, np), *bias = test_upload(ctx, a + 5, np);
  cls_buffer *bm = test_upload_padded(ctx, NULL, ns, 1), *br = test_upload_padded(ctx, NULL, ns, 2);
  cls_ref X = cls_ref_at(bx, pad), A = cls_ref_at(ba, pad + 3), Y = cls_ref_at(by, c->in_place ? pad : pad + 1);
  cls_ref G = cls_ref_at(bg, 0), B = c->beta ? cls_ref_at(bb, 0) : CLS_NOREF, BIAS = cls_ref_at(bias, 0);
  cls_ref M = cls_ref_at(bm, 1), R = cls_ref_at(br, 2);
  const float eps = 1e-5f;
  if (K > 1 && c->res)
    TEST_OK(ctx,
            cls_residual_rmsnorm_forward_models(ctx, K, c->rows, c->cols, eps, A, X, BIAS, A, G, ps, Y, R, ss));
  else if (K > 1)
    TEST_OK(ctx, cls_rmsnorm_forward_models(ctx, K, c->rows, c->cols, eps, X, G, ps, Y, R, ss));
  else if (c->res && c->rms)
    TEST_OK(ctx, cls_residual_rmsnorm_forward(ctx, c->rows, c->cols, eps, A, X, BIAS, A, G, Y, R));
  else if (c->res)
    TEST_OK(ctx, cls_residual_layernorm_forward(ctx, c->rows, c->cols, eps, A, X, BIAS, A, G, B, Y, M, R));
  else if (c->rms)
    TEST_OK(ctx, cls_rmsnorm_forward(ctx, c->rows, c->cols, eps, X, G, Y, R));
  else
    TEST_OK(ctx, cls_layernorm_forward(ctx, c->rows, c->cols, eps, X, G, B, Y, M, R));
  out[0] = c->res ? test_download_padded(ctx, ba, n, pad + 3) : test_download_padded(ctx, bx, n, pad);
  out[1] = c->in_place ? NULL : test_download_padded(ctx, by, n, pad + 1);
  out[2] = c->rms || K > 1 ? NULL : test_download_padded(ctx, bm, ns, 1);
  out[3] = test_download_padded(ctx, br, ns, 2);
  cls_buffer *all[] = {bx, ba, c->in_place ? NULL : by, bg, bb, bias, bm, br};
  for (int i = 0; i < 8; i++) cls_buffer_free(all[i]);
}

/* Variant 0 runs rows of 1 to 4 whole vectors ROW_PACK per work-item in
 * registers (cl/norm.cl). Its results must be bitwise those of a row per
 * work-item, which the models side by side rely on (a model's rows must
 * not depend on where the packs fall). Against ROW_PACK=0: packs of 4
 * (one vector store of a pack's statistics) and of 3 (one per row), at
 * vector widths 16 (the cpu set) and 4 (so that 1, 2, 3 and 4 vectors are
 * all covered with short rows); row counts leave incomplete last packs,
 * models of 5 rows put packs across the boundary between two models,
 * offsets misalign the rows; LayerNorm with and without beta, RMSNorm,
 * the fused residual, in place. */
static void packs_bitwise(void **state) {
  (void)state;
  static const char *const sets[][3] = {
      {"ROW_VARIANT=0,ROW_PACK=0", "ROW_VARIANT=0,ROW_PACK=4", "ROW_VARIANT=0,ROW_PACK=3"},
      {"ROW_VARIANT=0,ROW_VEC=4,ROW_PACK=0", "ROW_VARIANT=0,ROW_VEC=4,ROW_PACK=4",
       "ROW_VARIANT=0,ROW_VEC=4,ROW_PACK=3"}};
  static const size_t cols_list[] = {4, 8, 12, 16, 32, 48, 64, 20};
  static const size_t rows_list[] = {1, 3, 4, 5, 8, 67};
  uint64_t seed = 900;
  for (int set = 0; set < 2; set++) {
    cls_context *ctxs[3];
    for (int k = 0; k < 3; k++) ctxs[k] = test_context(sets[set][k], NULL);
    for (size_t ci = 0; ci < sizeof cols_list / sizeof *cols_list; ci++)
      for (size_t ri = 0; ri < sizeof rows_list / sizeof *rows_list; ri++)
        for (int kind = 0; kind < 6; kind++, seed++) {
          /* kinds: LayerNorm with beta, without (in place), RMSNorm,
           * residual LayerNorm, 3 RMSNorm models, 3 residual ones */
          pack_case c = {kind >= 4 ? 3 : 1,      rows_list[ri],
                         cols_list[ci],          seed % 3 == 0 ? 0 : seed % 3 == 1 ? 5 : 16,
                         kind == 2 || kind >= 4, kind != 1,
                         kind == 3 || kind == 5, kind == 1};
          const size_t n = c.models * c.rows * c.cols, np = (c.models - 1) * (c.cols + 7) + c.cols;
          float *x = test_random_floats(n, seed, seed % 2 ? -30.0f : -3.0f, seed % 2 ? 30.0f : 3.0f);
          float *a = test_random_floats((n > np ? n : np) + 5, seed + 1, -2, 2);
          float *g = test_random_floats(np, seed + 2, 0.5f, 1.5f);
          if (seed % 4 == 0) /* a large common offset: the mean taken relative to the first element */
            for (size_t i = 0; i < n; i++) x[i] += 1000.0f;
          const size_t count[4] = {n, n, c.models * c.rows + 5 * (c.models - 1),
                                   c.models * c.rows + 5 * (c.models - 1)};
          float *got[3][4];
          for (int k = 0; k < 3; k++) pack_run(ctxs[k], &c, x, a, g, got[k]);
          for (int k = 1; k < 3; k++)
            for (int o = 0; o < 4; o++) {
              if (!got[0][o]) continue;
              if (memcmp(got[0][o], got[k][o], count[o] * sizeof(float)) != 0) {
                size_t at = 0;
                while (memcmp(&got[0][o][at], &got[k][o][at], sizeof(float)) == 0) at++;
                fail_msg(
                    "%s: %zu models of %zu x %zu, rms %d beta %d res %d in place %d: %s differs from a row per "
                    "item at %zu (%.9g vs %.9g)",
                    sets[set][k], c.models, c.rows, c.cols, c.rms, c.beta, c.res, c.in_place,
                    (const char *[]){"x", "y", "mean", "rstd"}[o], at, (double)got[k][o][at],
                    (double)got[0][o][at]);
              }
            }
          for (int k = 0; k < 3; k++)
            for (int o = 0; o < 4; o++) free(got[k][o]);
          free(x);
          free(a);
          free(g);
        }
    for (int k = 0; k < 3; k++) cls_context_destroy(ctxs[k]);
  }
}

int main(void) {
  /* CLSCALE_TEST_FILTER=forward_in_place runs one test (the oclgrind
   * label's self-test runs the in-place case alone). */
  if (getenv("CLSCALE_TEST_FILTER")) cmocka_set_test_filter(getenv("CLSCALE_TEST_FILTER"));
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(forward_grid),
      cmocka_unit_test(forward_offset_and_scale),
      cmocka_unit_test(forward_first_outlier),
      cmocka_unit_test(forward_constant_rows),
      cmocka_unit_test(forward_in_place),
      cmocka_unit_test(backward_grid),
      cmocka_unit_test(backward_aliases),
      cmocka_unit_test(backward_finite_differences),
      cmocka_unit_test(counters),
      cmocka_unit_test(residual_grid),
      cmocka_unit_test(residual_bad_arguments),
      cmocka_unit_test(models_forms),
  };
  const struct CMUnitTest parts_tests[] = {
      cmocka_unit_test(backward_grid),
      cmocka_unit_test(backward_finite_differences),
      cmocka_unit_test(models_forms),
  };
  int failed = cmocka_run_group_tests_name("norm, ROW_VARIANT=0 (row per work-item)", tests, test_setup_rows_v0,
                                           test_teardown_context);
  failed += cmocka_run_group_tests_name("norm, ROW_VARIANT=1 (work-group per row)", tests, test_setup_rows_v1,
                                        test_teardown_context);
  failed += cmocka_run_group_tests_name("norm backward, ROW_VARIANT=1 ROW_PART=3 ROW_CVEC=4", parts_tests,
                                        setup_v1_parts, test_teardown_context);
  const struct CMUnitTest pack_tests[] = {cmocka_unit_test(packs_bitwise)};
  failed += cmocka_run_group_tests_name("norm forward, register packs against a row per work-item", pack_tests,
                                        NULL, NULL);
  return failed;
}
