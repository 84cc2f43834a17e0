/*
 * tests/test_softmax.c — cls_softmax_forward/backward against the double
 * references of src/ops/rows_ref.c, for both kernel variants (ROW_VARIANT=0,
 * a row per work-item; ROW_VARIANT=1, a work-group per row).
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

/* Largest |got - want| over the largest |want|: a norm-wise error that
 * does not blow up where entries cancel to about 0. */
static double normwise_err(const float *got, const double *want, size_t n) {
  double e = 0, m = 1e-30;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= e)) e = isnan(d) ? INFINITY : d;
    if (fabs(want[i]) > m) m = fabs(want[i]);
  }
  return e / m;
}

/* ------------------------------------------------------------- forward */

/* Forward of x (rows x cols) against the reference, operands at offsets
 * inside bigger buffers (y at pady). */
static void check_forward_on(cls_context *ctx, const float *x, size_t rows, size_t cols, float scale, int causal,
                             size_t pady) {
  size_t n = rows * cols, padx = 5;
  cls_buffer *bx = test_upload_padded(ctx, x, n, padx);
  cls_buffer *by = test_upload_padded(ctx, NULL, n, pady);
  TEST_OK(ctx, cls_softmax_forward(ctx, rows, cols, scale, causal, cls_ref_at(bx, padx), cls_ref_at(by, pady)));
  float *y = test_download_padded(ctx, by, n, pady);
  float *x_after = test_download_padded(ctx, bx, n, padx);
  assert_memory_equal(x, x_after, n * sizeof *x);

  double *xd = test_to_double(x, n), *want = malloc(n * sizeof *want);
  assert_non_null(want);
  cls__ref_softmax_forward(rows, cols, scale, causal, xd, want);
  size_t at;
  double err = test_max_rel_err(y, want, n, 1e-7, &at);
  if (err > 2e-5)
    fail_msg("softmax %zu x %zu scale %g causal %d: rel err %g at %zu (got %g want %g)", rows, cols, (double)scale,
             causal, err, at, (double)y[at], want[at]);
  if (causal) /* masked entries exactly 0 */
    for (size_t r = 0; r < rows; r++)
      for (size_t j = r % cols + 1; j < cols; j++) assert_true(y[r * cols + j] == 0.0f);
  free(x_after);
  free(y);
  free(xd);
  free(want);
  cls_buffer_free(bx);
  cls_buffer_free(by);
}

/* Forward on one shape of uniform random values in [lo, hi). */
static void check_forward(cls_context *ctx, size_t rows, size_t cols, float scale, int causal, float lo, float hi,
                          uint64_t seed) {
  float *x = malloc(rows * cols * sizeof *x);
  assert_non_null(x);
  test_fill_uniform(x, rows * cols, seed, lo, hi);
  /* y alternately on and off a 16-float boundary: the row kernels store
   * through aligned vectors only when a row starts on one. */
  check_forward_on(ctx, x, rows, cols, scale, causal, seed % 2 ? 17 : 16);
  free(x);
}

static const size_t grid_cols[] = {1, 2, 3, 7, 16, 31, 64, 65, 127, 257, 1000, 4099};
static const size_t grid_rows[] = {1, 2, 3, 7, 31, 64, 65, 127};

static void forward_grid(void **state) {
  cls_context *ctx = *state;
  uint64_t seed = 1;
  for (size_t c = 0; c < sizeof grid_cols / sizeof *grid_cols; c++)
    for (size_t r = 0; r < sizeof grid_rows / sizeof *grid_rows; r++) {
      size_t rows = grid_rows[r], cols = grid_cols[c];
      if (rows * cols > test_limit(300000, TEST_SMALL_LIMIT)) continue;
      float scale = (seed % 3 == 0) ? 1.0f : (seed % 3 == 1 ? 0.37f : -1.7f);
      check_forward(ctx, rows, cols, scale, 0, -3.0f, 3.0f, seed++);
    }
  if (!test_small()) check_forward(ctx, 1000, 257, 0.125f, 0, -4.0f, 4.0f, seed++);
}

static void forward_causal(void **state) {
  cls_context *ctx = *state;
  uint64_t seed = 100;
  for (size_t c = 0; c < sizeof grid_cols / sizeof *grid_cols; c++) {
    size_t cols = grid_cols[c];
    if (cols > 1000) continue;
    for (size_t blocks = 1; blocks <= 3; blocks += 2) {
      if (cols * cols * blocks > test_limit(1100000, TEST_SMALL_LIMIT)) continue;
      check_forward(ctx, cols * blocks, cols, seed % 2 ? 0.25f : 1.0f, 1, -3.0f, 3.0f, seed);
      seed++;
    }
  }
}

static void forward_scale_zero(void **state) {
  cls_context *ctx = *state;
  check_forward(ctx, 7, 33, 0.0f, 0, -3.0f, 3.0f, 7); /* uniform rows */
}

/* Large magnitudes must not overflow: max subtraction. Relative accuracy is
 * limited by the float rounding of scale * x (about 1e4 * 6e-8 in the
 * exponent), so compare loosely and check the rows sum to 1. */
static void forward_extreme(void **state) {
  cls_context *ctx = *state;
  size_t rows = 9, cols = 67, n = rows * cols;
  float *x = malloc(n * sizeof *x);
  assert_non_null(x);
  test_fill_uniform(x, n, 3, -1e4f, 1e4f);
  for (size_t j = 0; j < cols; j++) {
    x[j] = 1e4f;             /* a row of equal huge values */
    x[cols + j] = -1e4f;     /* ... and of equal hugely negative ones */
    x[2 * cols + j] = 3e38f; /* near FLT_MAX: scale 1 keeps it finite */
  }
  cls_buffer *bx = test_upload(ctx, x, n), *by = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
  TEST_OK(ctx, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, cls_ref_at(bx, 0), cls_ref_at(by, 0)));
  float *y = test_download(ctx, by);
  double *xd = test_to_double(x, n), *want = malloc(n * sizeof *want);
  cls__ref_softmax_forward(rows, cols, 1.0, 0, xd, want);
  for (size_t r = 0; r < rows; r++) {
    double sum = 0;
    for (size_t j = 0; j < cols; j++) {
      assert_true(isfinite(y[r * cols + j]));
      sum += y[r * cols + j];
    }
    assert_true(fabs(sum - 1.0) < 1e-5);
  }
  assert_true(normwise_err(y, want, n) < 1e-3);
  for (size_t j = 0; j < cols; j++) assert_true(fabs(y[j] - 1.0 / cols) < 1e-6);
  free(x);
  free(y);
  free(xd);
  free(want);
  cls_buffer_free(bx);
  cls_buffer_free(by);
}

/* Rows whose exponentials leave exp_in_range's range [-86, 88] and rows
 * that stay in it, side by side in one launch: the row kernels decide the
 * range once per row (row_in_range in cl/softmax.cl) and take the vector
 * by vector path for the first kind. Row kinds: in range; spread wider
 * than 86; -inf entries (masks); logits beyond 2^20 (exact in float, so
 * the reference is exact too); one far outlier in the last whole vector;
 * more in range. Widths cover the row loop, the pairs (at most ROW_PAIR
 * columns), the register packs and a scalar tail. */
static void forward_ranges(void **state) {
  cls_context *ctx = *state;
  static const size_t cols_list[] = {1, 33, 48, 100, 256, 1024};
  const size_t rows = 9;
  for (size_t c = 0; c < sizeof cols_list / sizeof *cols_list; c++) {
    size_t cols = cols_list[c], n = rows * cols;
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    test_fill_uniform(x, n, 60 + c, -3.0f, 3.0f);
    float *wide = x + cols, *masked = x + 2 * cols, *huge = x + 3 * cols, *outlier = x + 4 * cols;
    test_fill_uniform(wide, cols, 70 + c, -100.0f, 0.0f);
    if (cols > 1) masked[1] = -INFINITY;
    if (cols > 2) masked[cols - 1] = -INFINITY;
    for (size_t j = 0; j < cols; j++) huge[j] = 3e6f + (float)(j % 8) * 0.25f;
    outlier[cols / 16 * 16 > 0 ? cols / 16 * 16 - 1 : 0] = cols > 1 ? -200.0f : 1.0f;
    check_forward_on(ctx, x, rows, cols, 1.0f, 0, 16);
    free(x);
  }
}

static void forward_in_place(void **state) {
  cls_context *ctx = *state;
  size_t shapes[][3] = {{5, 37, 0}, {64, 64, 1}, {3, 1000, 0}, {2, 4099, 0}};
  for (size_t s = 0; s < 4; s++) {
    size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols, pad = 3;
    if (n > test_limit(SIZE_MAX, 2 * TEST_SMALL_LIMIT)) continue;
    int causal = (int)shapes[s][2];
    float *x = malloc(n * sizeof *x);
    test_fill_uniform(x, n, 40 + s, -5.0f, 5.0f);
    cls_buffer *b = test_upload_padded(ctx, x, n, pad);
    TEST_OK(ctx, cls_softmax_forward(ctx, rows, cols, 0.5f, causal, cls_ref_at(b, pad), cls_ref_at(b, pad)));
    float *y = test_download_padded(ctx, b, n, pad);
    double *xd = test_to_double(x, n), *want = malloc(n * sizeof *want);
    cls__ref_softmax_forward(rows, cols, 0.5, causal, xd, want);
    assert_true(test_max_rel_err(y, want, n, 1e-7, NULL) < 2e-5);
    free(x);
    free(y);
    free(xd);
    free(want);
    cls_buffer_free(b);
  }
}

/* ------------------------------------------------------------ backward */

static void check_backward(cls_context *ctx, size_t rows, size_t cols, float scale, int in_place, uint64_t seed) {
  size_t n = rows * cols, pad = 11;
  float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy), *y = malloc(n * sizeof *y);
  assert_true(x && dy && y);
  test_fill_uniform(x, n, seed, -2.0f, 2.0f);
  test_fill_uniform(dy, n, seed + 1000, -1.0f, 1.0f);
  /* y from the double forward, rounded to float: the backward's input. */
  double *xd = test_to_double(x, n), *yd = malloc(n * sizeof *yd), *want = malloc(n * sizeof *want);
  cls__ref_softmax_forward(rows, cols, scale, 0, xd, yd);
  for (size_t i = 0; i < n; i++) y[i] = (float)yd[i];
  double *yf = test_to_double(y, n), *dyd = test_to_double(dy, n);
  cls__ref_softmax_backward(rows, cols, scale, yf, dyd, want);

  cls_buffer *by = test_upload_padded(ctx, y, n, pad), *bdy = test_upload_padded(ctx, dy, n, pad + 1);
  size_t sep_pad = seed % 2 ? pad + 2 : 16; /* dx on and off a 16-float boundary */
  cls_buffer *bdx = in_place ? bdy : test_upload_padded(ctx, NULL, n, sep_pad);
  size_t dx_pad = in_place ? pad + 1 : sep_pad;
  TEST_OK(ctx, cls_softmax_backward(ctx, rows, cols, scale, cls_ref_at(by, pad), cls_ref_at(bdy, pad + 1),
                                    cls_ref_at(bdx, dx_pad)));
  float *dx = test_download_padded(ctx, bdx, n, dx_pad);
  double err = normwise_err(dx, want, n);
  if (err > 2e-5) fail_msg("softmax backward %zu x %zu: norm-wise error %g", rows, cols, err);
  free(x);
  free(dy);
  free(y);
  free(xd);
  free(yd);
  free(yf);
  free(dyd);
  free(want);
  free(dx);
  cls_buffer_free(by);
  cls_buffer_free(bdy);
  if (!in_place) cls_buffer_free(bdx);
}

static void backward_grid(void **state) {
  cls_context *ctx = *state;
  uint64_t seed = 500;
  for (size_t c = 0; c < sizeof grid_cols / sizeof *grid_cols; c++)
    for (size_t r = 0; r < sizeof grid_rows / sizeof *grid_rows; r += 2) {
      size_t rows = grid_rows[r], cols = grid_cols[c];
      if (rows * cols > test_limit(300000, TEST_SMALL_LIMIT)) continue;
      check_backward(ctx, rows, cols, seed % 2 ? 1.0f : 0.3f, 0, seed);
      seed++;
    }
  check_backward(ctx, 65, 257, 1.0f, 1, seed++); /* dx = dy */
  check_backward(ctx, 3, 4099, 2.0f, 1, seed++);
}

/* dx against central differences of L(x) = sum(w * softmax(scale * x)) in
 * double: checks the formula, the scale and (causal) the masking, not
 * just agreement with a reference written the same way. */
static void backward_finite_differences(void **state) {
  cls_context *ctx = *state;
  size_t shapes[][3] = {{1, 1, 0}, {3, 7, 0}, {2, 17, 0}, {6, 3, 1}, {8, 8, 1}};
  for (size_t s = 0; s < 5; s++) {
    size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
    int causal = (int)shapes[s][2];
    float scale = 0.7f;
    float *x = malloc(n * sizeof *x), *w = malloc(n * sizeof *w);
    test_fill_uniform(x, n, 900 + s, -2.0f, 2.0f);
    test_fill_uniform(w, n, 950 + s, -1.0f, 1.0f);
    double *xd = test_to_double(x, n), *yd = malloc(n * sizeof *yd), *fd = malloc(n * sizeof *fd);
    for (size_t i = 0; i < n; i++) {
      const double h = 1e-5;
      double save = xd[i], lp = 0, lm = 0;
      xd[i] = save + h;
      cls__ref_softmax_forward(rows, cols, scale, causal, xd, yd);
      for (size_t k = 0; k < n; k++) lp += w[k] * yd[k];
      xd[i] = save - h;
      cls__ref_softmax_forward(rows, cols, scale, causal, xd, yd);
      for (size_t k = 0; k < n; k++) lm += w[k] * yd[k];
      xd[i] = save;
      fd[i] = (lp - lm) / (2 * h);
    }
    /* The op chain on the device: forward, then backward with dy = w. */
    cls_buffer *bx = test_upload(ctx, x, n), *bw = test_upload(ctx, w, n), *by = NULL, *bdx = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
    TEST_OK(ctx, cls_buffer_alloc(ctx, n, &bdx));
    TEST_OK(ctx, cls_softmax_forward(ctx, rows, cols, scale, causal, cls_ref_at(bx, 0), cls_ref_at(by, 0)));
    TEST_OK(ctx, cls_softmax_backward(ctx, rows, cols, scale, cls_ref_at(by, 0), cls_ref_at(bw, 0),
                                      cls_ref_at(bdx, 0)));
    float *dx = test_download(ctx, bdx);
    double err = normwise_err(dx, fd, n);
    if (err > 1e-4 && !(rows * cols == 1 && fabs(dx[0]) < 1e-6))
      fail_msg("softmax backward vs finite differences %zu x %zu causal %d: error %g", rows, cols, causal, err);
    if (causal)
      for (size_t r = 0; r < rows; r++)
        for (size_t j = r % cols + 1; j < cols; j++) assert_true(dx[r * cols + j] == 0.0f);
    free(x);
    free(w);
    free(xd);
    free(yd);
    free(fd);
    free(dx);
    cls_buffer_free(bx);
    cls_buffer_free(bw);
    cls_buffer_free(by);
    cls_buffer_free(bdx);
  }
}

/* ------------------------------------------------- register packs */

/* Variant 0 runs rows of 1 to 4 whole vectors ROW_PACK per work-item in
 * registers (cl/softmax.cl). Its results must be bitwise those of a row
 * per work-item: the same operations on every lane, in the same order.
 * Column counts cover every vector width a set uses (4, 8, 16), row counts
 * leave incomplete last packs, offsets misalign the rows, the scales are
 * inexact (so a product rounded before the subtraction would show), and
 * the values span large and tiny exponentials. */
static void packs_bitwise(void **state) {
  (void)state;
  cls_context *one = test_context("ROW_VARIANT=0,ROW_PACK=0,ROW_PAIR=0", NULL);
  cls_context *pack = test_context("ROW_VARIANT=0,ROW_PACK=4", NULL);
  static const size_t cols_list[] = {4, 8, 12, 16, 24, 32, 48, 64};
  static const size_t rows_list[] = {1, 3, 4, 5, 8, 67, 130};
  static const float scales[] = {0.3f, 0.1443375673f, 1.0f};
  uint64_t seed = 4242;
  for (size_t c = 0; c < sizeof cols_list / sizeof *cols_list; c++)
    for (size_t r = 0; r < sizeof rows_list / sizeof *rows_list; r++)
      for (int causal = 0; causal < 2; causal++) {
        size_t cols = cols_list[c], rows = causal ? cols * (rows_list[r] % 3 + 1) : rows_list[r];
        size_t n = rows * cols, pad = seed % 3 == 0 ? 0 : seed % 3 == 1 ? 5 : 16;
        float scale = scales[seed % 3];
        float *x = malloc(n * sizeof *x);
        assert_non_null(x);
        test_fill_uniform(x, n, seed, seed % 2 ? -30.0f : -3.0f, seed % 2 ? 30.0f : 3.0f);
        if (rows > 4) x[2 * cols + seed % cols] = NAN; /* a NaN row: NaN everywhere, the same NaN */
        float *got[2];
        cls_context *ctxs[2] = {one, pack};
        for (int k = 0; k < 2; k++) {
          cls_buffer *bx = test_upload_padded(ctxs[k], x, n, pad),
                     *by = test_upload_padded(ctxs[k], x, n, pad + 1);
          TEST_OK(ctxs[k], cls_softmax_forward(ctxs[k], rows, cols, scale, causal, cls_ref_at(bx, pad),
                                               cls_ref_at(by, pad + 1)));
          got[k] = test_download_padded(ctxs[k], by, n, pad + 1);
          cls_buffer_free(bx);
          cls_buffer_free(by);
        }
        if (memcmp(got[0], got[1], n * sizeof(float)) != 0) {
          size_t at = 0;
          while (at < n && memcmp(&got[0][at], &got[1][at], sizeof(float)) == 0) at++;
          fail_msg("softmax %zu x %zu causal %d scale %g: packed rows differ from a row per item at %zu (%.9g vs "
                   "%.9g)",
                   rows, cols, causal, (double)scale, at, (double)got[1][at], (double)got[0][at]);
        }
        free(got[0]);
        free(got[1]);
        free(x);
        seed++;
      }
  cls_context_destroy(one);
  cls_context_destroy(pack);
}

/* ------------------------------------------------------------ counters */

static const cls_op_counter *find_op(const cls_counters *c, const char *name) {
  for (size_t i = 0; i < c->op_count; i++)
    if (!strcmp(c->ops[i].name, name)) return &c->ops[i];
  return NULL;
}

static void counters(void **state) {
  cls_context *ctx = *state;
  size_t rows = 30, cols = 10, n = rows * cols;
  cls_buffer *a = NULL, *b = NULL, *c = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &a));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &b));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &c));
  TEST_OK(ctx, cls_buffer_fill(ctx, a, 0, n, 0.5f));
  TEST_OK(ctx, cls_buffer_fill(ctx, c, 0, n, 0.5f));
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, cls_ref_at(a, 0), cls_ref_at(b, 0)));
  TEST_OK(ctx, cls_softmax_backward(ctx, rows, cols, 1.0f, cls_ref_at(b, 0), cls_ref_at(c, 0), cls_ref_at(a, 0)));
  cls_counters k;
  TEST_OK(ctx, cls_counters_get(ctx, &k));
  const cls_op_counter *f = find_op(&k, "softmax_fwd"), *g = find_op(&k, "softmax_bwd");
  assert_non_null(f);
  assert_non_null(g);
  assert_int_equal(f->calls, 1);
  assert_true(f->bytes == 2.0 * n * 4 && f->flops > 0);
  assert_true(g->bytes == 3.0 * n * 4 && g->flops > 0);
  cls_buffer_free(a);
  cls_buffer_free(b);
  cls_buffer_free(c);
}

/* ------------------------------------------------------- bad arguments */

/* Every call must fail with `want` and leave the output untouched. */
#define EXPECT_FAIL(want, call)                                                                                   \
  do {                                                                                                            \
    cls_status got_ = (call);                                                                                     \
    if (got_ != (want))                                                                                           \
      fail_msg("%s -> %d (%s), expected %d (%s)", #call, got_, cls_status_name(got_), want,                       \
               cls_status_name(want));                                                                            \
    assert_true(strlen(cls_last_error(ctx)) > 0);                                                                 \
  } while (0)

static void bad_arguments(void **state) {
  cls_context *ctx = *state;
  size_t rows = 12, cols = 4, n = rows * cols;
  float *x = malloc(n * sizeof *x), *sent = malloc((n + 8) * sizeof *sent);
  test_fill_uniform(x, n, 77, -1.0f, 1.0f);
  for (size_t i = 0; i < n + 8; i++) sent[i] = TEST_SENTINEL + (float)i;
  cls_buffer *bx = test_upload(ctx, x, n), *by = test_upload(ctx, sent, n + 8),
             *small = test_upload(ctx, x, n - 1);
  cls_context *other = test_context(NULL, NULL);
  cls_buffer *foreign = NULL;
  TEST_OK(other, cls_buffer_alloc(other, n, &foreign));
  cls_ref X = cls_ref_at(bx, 0), Y = cls_ref_at(by, 0), S = cls_ref_at(small, 0);

  assert_int_equal(cls_softmax_forward(NULL, rows, cols, 1.0f, 0, X, Y), CLS_ERR_NULL_ARGUMENT);
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, CLS_NOREF, Y));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, X, CLS_NOREF));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_softmax_forward(ctx, 0, cols, 1.0f, 0, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_softmax_forward(ctx, rows, 0, 1.0f, 0, X, Y));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, S, Y));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, X, cls_ref_at(by, 9)));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, X, cls_ref_at(by, 1000)));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_forward(ctx, rows + 1, cols, 1.0f, 0, X, Y));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_softmax_forward(ctx, rows, cols, 1.0f, 0, cls_ref_at(foreign, 0), Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_softmax_forward(ctx, rows, cols, NAN, 0, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_softmax_forward(ctx, rows, cols, INFINITY, 0, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_softmax_forward(ctx, rows, cols, 1.0f, 2, X, Y));
  EXPECT_FAIL(CLS_ERR_SHAPE_MISMATCH, cls_softmax_forward(ctx, rows - 2, cols, 1.0f, 1, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_softmax_forward(ctx, rows, cols, 1.0f, 0, cls_ref_at(by, 0), cls_ref_at(by, 3)));

  assert_int_equal(cls_softmax_backward(NULL, rows, cols, 1.0f, X, X, Y), CLS_ERR_NULL_ARGUMENT);
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_softmax_backward(ctx, rows, cols, 1.0f, CLS_NOREF, X, Y));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_softmax_backward(ctx, rows, cols, 1.0f, X, CLS_NOREF, Y));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_softmax_backward(ctx, rows, cols, 1.0f, X, X, CLS_NOREF));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_softmax_backward(ctx, 0, cols, 1.0f, X, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_softmax_backward(ctx, rows, 0, 1.0f, X, X, Y));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_backward(ctx, rows, cols, 1.0f, S, X, Y));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_backward(ctx, rows, cols, 1.0f, X, S, Y));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_softmax_backward(ctx, rows, cols, 1.0f, X, X, cls_ref_at(by, 9)));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_softmax_backward(ctx, rows, cols, 1.0f, X, cls_ref_at(foreign, 0), Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_softmax_backward(ctx, rows, cols, NAN, X, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_softmax_backward(ctx, rows, cols, -INFINITY, X, X, Y));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_softmax_backward(ctx, rows, cols, 1.0f, X, cls_ref_at(by, 0), cls_ref_at(by, 1)));

  /* Nothing was written. */
  float *after = test_download(ctx, by);
  assert_memory_equal(after, sent, (n + 8) * sizeof *sent);
  free(after);
  after = test_download(ctx, bx);
  assert_memory_equal(after, x, n * sizeof *x);
  free(after);
  free(x);
  free(sent);
  cls_buffer_free(bx);
  cls_buffer_free(by);
  cls_buffer_free(small);
  cls_buffer_free(foreign);
  cls_context_destroy(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(forward_grid),       cmocka_unit_test(forward_causal),
      cmocka_unit_test(forward_scale_zero), cmocka_unit_test(forward_extreme),
      cmocka_unit_test(forward_ranges),     cmocka_unit_test(forward_in_place),
      cmocka_unit_test(backward_grid),      cmocka_unit_test(backward_finite_differences),
      cmocka_unit_test(counters),           cmocka_unit_test(bad_arguments),
  };
  int failed = cmocka_run_group_tests_name("softmax, ROW_VARIANT=0 (row per work-item)", tests, test_setup_rows_v0,
                                           test_teardown_context);
  failed += cmocka_run_group_tests_name("softmax, ROW_VARIANT=1 (work-group per row)", tests, test_setup_rows_v1,
                                        test_teardown_context);
  const struct CMUnitTest pack_tests[] = {cmocka_unit_test(packs_bitwise)};
  failed += cmocka_run_group_tests_name("softmax, rows in register packs", pack_tests, NULL, NULL);
  return failed;
}
