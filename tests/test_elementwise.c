/*
 * tests/test_elementwise.c — GELU, residual add and scale, bias add and
 * bias gradient against the double references of src/ops/train_ref.c, on
 * awkward sizes, offsets into larger buffers and the documented aliases;
 * backward passes by central finite differences of the double forward;
 * every bad argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/train_ref.h"
#include "test_util.h"

static const size_t sizes[] = {1, 2, 3, 7, 31, 64, 127, 1000, 4099};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* ------------------------------------------------------------------ GELU */

static void test_gelu(void **state) {
  cls_context *ctx = *state;
  for (size_t si = 0; si < NSIZES; si++) {
    size_t n = sizes[si], xo = 5, yo = 3;
    float *hx = test_random_floats(n + 9, 100 + si, -6.0f, 6.0f);
    /* A few extremes: zero, far tails, values so large that x^3 overflows. */
    if (n > 4) {
      hx[xo] = 0.0f;
      hx[xo + 1] = 1e20f;
      hx[xo + 2] = -1e20f;
      hx[xo + 3] = -30.0f;
    }
    float *hdy = test_random_floats(n + 4, 200 + si, -2.0f, 2.0f);
    cls_buffer *x = test_upload(ctx, hx, n + 9);
    cls_buffer *dy = test_upload(ctx, hdy, n + 4);
    cls_buffer *y = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, n + 6, &y));
    TEST_OK(ctx, cls_buffer_fill(ctx, y, 0, n + 6, -7.0f));

    TEST_OK(ctx, cls_gelu_forward(ctx, n, cls_ref_at(x, xo), cls_ref_at(y, yo)));
    double *dx_in = test_to_double(hx + xo, n);
    double *want = malloc(n * sizeof *want);
    cls__ref_gelu_forward(n, dx_in, want);
    float *got = test_read_at(ctx, y, yo, n);
    test_expect_close("gelu_forward", n, got, want, 1e-5, 1e-2);
    /* Untouched around the output. */
    float *all = test_download(ctx, y);
    for (size_t i = 0; i < yo; i++) assert_true(all[i] == -7.0f);
    for (size_t i = yo + n; i < n + 6; i++) assert_true(all[i] == -7.0f);

    /* Backward into a separate buffer, then in place over dy. */
    double *ddy = test_to_double(hdy + 4, n);
    cls__ref_gelu_backward(n, dx_in, ddy, want);
    TEST_OK(ctx, cls_gelu_backward(ctx, n, cls_ref_at(x, xo), cls_ref_at(dy, 4), cls_ref_at(y, yo)));
    free(got);
    got = test_read_at(ctx, y, yo, n);
    test_expect_close("gelu_backward", n, got, want, 1e-5, 1e-2);
    TEST_OK(ctx, cls_gelu_backward(ctx, n, cls_ref_at(x, xo), cls_ref_at(dy, 4), cls_ref_at(dy, 4)));
    free(got);
    got = test_read_at(ctx, dy, 4, n);
    test_expect_close("gelu_backward in place", n, got, want, 1e-5, 1e-2);

    /* Forward in place. */
    cls__ref_gelu_forward(n, dx_in, want);
    TEST_OK(ctx, cls_gelu_forward(ctx, n, cls_ref_at(x, xo), cls_ref_at(x, xo)));
    free(got);
    got = test_read_at(ctx, x, xo, n);
    test_expect_close("gelu_forward in place", n, got, want, 1e-5, 1e-2);

    free(hx), free(hdy), free(dx_in), free(ddy), free(want), free(got), free(all);
    cls_buffer_free(x), cls_buffer_free(dy), cls_buffer_free(y);
  }
}

/* Other vector widths of the GELU kernels (GPUs use 1 or 4). */
static void test_gelu_widths(void **state) {
  (void)state;
  /* The first set is also test_bias_parts' (one compile serves both). */
  const char *params[2] = {"ELT_VEC=1,ROW_PART=3,ROW_CVEC=4", "ELT_VEC=4,ELT_LOCAL=7"};
  for (int p = 0; p < 2; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    for (size_t n = 1; n < 40; n += 3) {
      float *hx = test_random_floats(n, n, -6.0f, 6.0f), *hd = test_random_floats(n, n + 1, -1.0f, 1.0f);
      cls_buffer *x = test_upload(ctx, hx, n), *d = test_upload(ctx, hd, n), *y = NULL;
      TEST_OK(ctx, cls_buffer_alloc(ctx, n, &y));
      double *dx = test_to_double(hx, n), *dd = test_to_double(hd, n), *want = malloc(n * sizeof *want);
      TEST_OK(ctx, cls_gelu_forward(ctx, n, cls_ref_at(x, 0), cls_ref_at(y, 0)));
      cls__ref_gelu_forward(n, dx, want);
      float *got = test_download(ctx, y);
      test_expect_close(params[p], n, got, want, 1e-5, 1e-2);
      free(got);
      TEST_OK(ctx, cls_gelu_backward(ctx, n, cls_ref_at(x, 0), cls_ref_at(d, 0), cls_ref_at(y, 0)));
      cls__ref_gelu_backward(n, dx, dd, want);
      got = test_download(ctx, y);
      test_expect_close(params[p], n, got, want, 1e-5, 1e-2);
      free(got), free(hx), free(hd), free(dx), free(dd), free(want);
      cls_buffer_free(x), cls_buffer_free(d), cls_buffer_free(y);
    }
    cls_context_destroy(ctx);
  }
}

/* The derivative the kernel implements against central differences of the
 * double forward pass. */
static void test_gelu_finite_differences(void **state) {
  cls_context *ctx = *state;
  const size_t n = 257;
  float *hx = test_random_floats(n, 7, -5.0f, 5.0f);
  float *ones = malloc(n * sizeof *ones);
  for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
  cls_buffer *x = test_upload(ctx, hx, n), *d = test_upload(ctx, ones, n);
  TEST_OK(ctx, cls_gelu_backward(ctx, n, cls_ref_at(x, 0), cls_ref_at(d, 0), cls_ref_at(d, 0)));
  float *got = test_download(ctx, d);
  double *fd = malloc(n * sizeof *fd);
  for (size_t i = 0; i < n; i++) {
    double h = 1e-5;
    fd[i] = (cls__ref_gelu(hx[i] + h) - cls__ref_gelu(hx[i] - h)) / (2 * h);
  }
  test_expect_close("gelu' vs finite differences", n, got, fd, 1e-5, 1e-2);
  free(hx), free(ones), free(got), free(fd);
  cls_buffer_free(x), cls_buffer_free(d);
}

/* ------------------------------------------------------ add and scale */

static void test_add_scaled(void **state) {
  cls_context *ctx = *state;
  for (size_t si = 0; si < NSIZES; si++) {
    size_t n = sizes[si];
    /* a at 0, b at n + 1, y at 2n + 3 of one buffer. */
    size_t total = 3 * n + 5;
    float *h = test_random_floats(total, 300 + si, -3.0f, 3.0f);
    cls_buffer *buf = test_upload(ctx, h, total);
    cls_ref a = cls_ref_at(buf, 0), b = cls_ref_at(buf, n + 1), y = cls_ref_at(buf, 2 * n + 3);
    double *da = test_to_double(h, n), *db = test_to_double(h + n + 1, n), *want = malloc(n * sizeof *want);

    TEST_OK(ctx, cls_add_scaled(ctx, n, 0.5f, a, -2.0f, b, y));
    cls__ref_add_scaled(n, 0.5, da, -2.0, db, want);
    float *got = test_read_at(ctx, buf, 2 * n + 3, n);
    test_expect_close("add_scaled", n, got, want, 1e-6, 1.0);
    free(got);

    /* y = a (in place into a), then y = b. */
    TEST_OK(ctx, cls_add_scaled(ctx, n, 1.0f, a, 1.0f, b, a));
    cls__ref_add_scaled(n, 1.0, da, 1.0, db, want);
    got = test_read_at(ctx, buf, 0, n);
    test_expect_close("add_scaled y=a", n, got, want, 1e-6, 1.0);
    free(got);
    for (size_t i = 0; i < n; i++) da[i] = want[i];
    TEST_OK(ctx, cls_add_scaled(ctx, n, 2.0f, a, 3.0f, b, b));
    cls__ref_add_scaled(n, 2.0, da, 3.0, db, want);
    got = test_read_at(ctx, buf, n + 1, n);
    test_expect_close("add_scaled y=b", n, got, want, 1e-6, 1.0);
    free(got);
    for (size_t i = 0; i < n; i++) db[i] = want[i];
    /* a = b = y: x = 1.5 x */
    TEST_OK(ctx, cls_add_scaled(ctx, n, 1.0f, b, 0.5f, b, b));
    cls__ref_add_scaled(n, 1.0, db, 0.5, db, want);
    got = test_read_at(ctx, buf, n + 1, n);
    test_expect_close("add_scaled y=a=b", n, got, want, 1e-6, 1.0);
    free(got);
    for (size_t i = 0; i < n; i++) db[i] = want[i];

    TEST_OK(ctx, cls_scale(ctx, n, -0.25f, b));
    for (size_t i = 0; i < n; i++) want[i] = -0.25 * db[i];
    got = test_read_at(ctx, buf, n + 1, n);
    test_expect_close("scale", n, got, want, 1e-6, 1.0);
    free(got);
    /* The gaps between the operands are untouched. */
    float *all = test_download(ctx, buf);
    assert_true(all[n] == h[n]);
    assert_true(all[2 * n + 2] == h[2 * n + 2]);
    assert_true(all[3 * n + 4] == h[3 * n + 4]);
    free(all), free(h), free(da), free(db), free(want);
    cls_buffer_free(buf);
  }
}

/* ------------------------------------------------------------------ bias */

static const size_t grid_rows[] = {1, 2, 7, 127, 1000};
static const size_t grid_cols[] = {1, 3, 31, 64, 4099};

static void bias_grid(cls_context *ctx) {
  for (size_t ri = 0; ri < 5; ri++)
    for (size_t ci = 0; ci < 5; ci++) {
      size_t rows = grid_rows[ri], cols = grid_cols[ci], n = rows * cols;
      /* Keeps the run short; 127 x 4099 covers the wide case (small-shape
       * mode: 1 x 4099 does). */
      if (n > test_limit(600000, 20000)) continue;
      float *hy = test_random_floats(n + 2, ri * 10 + ci, -1.0f, 1.0f);
      float *hb = test_random_floats(cols + 1, 50 + ri * 10 + ci, -1.0f, 1.0f);
      cls_buffer *y = test_upload(ctx, hy, n + 2), *b = test_upload(ctx, hb, cols + 1);
      double *want = test_to_double(hy + 2, n), *db = test_to_double(hb + 1, cols);

      TEST_OK(ctx, cls_bias_add(ctx, rows, cols, cls_ref_at(b, 1), cls_ref_at(y, 2)));
      cls__ref_bias_add(rows, cols, db, want);
      float *got = test_read_at(ctx, y, 2, n);
      test_expect_close("bias_add", n, got, want, 1e-6, 1.0);
      free(got);

      /* dbias of the original y values as dy, overwrite then accumulate. */
      double *dy = test_to_double(hy + 2, n), *wb = malloc(cols * sizeof *wb);
      TEST_OK(ctx, cls_buffer_write(ctx, y, 2, n, hy + 2));
      TEST_OK(ctx, cls_bias_backward(ctx, rows, cols, cls_ref_at(y, 2), cls_ref_at(b, 1), 0));
      cls__ref_bias_backward(rows, cols, dy, wb, 0);
      got = test_read_at(ctx, b, 1, cols);
      /* Error relative to the sum of |dy| of a column (about rows / 2). */
      test_expect_close("bias_backward", cols, got, wb, 2e-6 * (double)rows, 0.5 * (double)rows);
      free(got);
      TEST_OK(ctx, cls_bias_backward(ctx, rows, cols, cls_ref_at(y, 2), cls_ref_at(b, 1), 1));
      cls__ref_bias_backward(rows, cols, dy, wb, 1);
      got = test_read_at(ctx, b, 1, cols);
      test_expect_close("bias_backward accumulate", cols, got, wb, 4e-6 * (double)rows, 0.5 * (double)rows);
      /* Deterministic: bitwise the same twice. */
      TEST_OK(ctx, cls_bias_backward(ctx, rows, cols, cls_ref_at(y, 2), cls_ref_at(b, 1), 0));
      float *g1 = test_read_at(ctx, b, 1, cols);
      TEST_OK(ctx, cls_bias_backward(ctx, rows, cols, cls_ref_at(y, 2), cls_ref_at(b, 1), 0));
      float *g2 = test_read_at(ctx, b, 1, cols);
      assert_memory_equal(g1, g2, cols * sizeof(float));
      float first;
      TEST_OK(ctx, cls_buffer_read(ctx, b, 0, 1, &first));
      assert_true(first == hb[0]);
      free(got), free(g1), free(g2), free(hy), free(hb), free(want), free(db), free(dy), free(wb);
      cls_buffer_free(y), cls_buffer_free(b);
    }
}

static void test_bias(void **state) {
  bias_grid(*state);
}

/* The multi-part path and the scalar column path: parts of 3 rows, 4
 * columns per item. */
static void test_bias_parts(void **state) {
  (void)state;
  cls_context *ctx = test_context("ELT_VEC=1,ROW_PART=3,ROW_CVEC=4", NULL);
  bias_grid(ctx);
  cls_context_destroy(ctx);
}

/* dbias against central differences of L = sum(w * (y + bias)). */
static void test_bias_finite_differences(void **state) {
  cls_context *ctx = *state;
  size_t rows = 13, cols = 5, n = rows * cols;
  float *hw = test_random_floats(n, 91, -1.0f, 1.0f);
  double *y = calloc(n, sizeof *y), bias[5] = {0.1, -0.2, 0.3, 0.4, -0.5}, fd[5];
  double *w = test_to_double(hw, n);
  for (size_t c = 0; c < cols; c++) {
    double h = 1e-4, l[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      double *yy = malloc(n * sizeof *yy), bb[5];
      memcpy(bb, bias, sizeof bb);
      bb[c] += sgn ? -h : h;
      memcpy(yy, y, n * sizeof *yy);
      cls__ref_bias_add(rows, cols, bb, yy);
      l[sgn] = 0;
      for (size_t i = 0; i < n; i++) l[sgn] += w[i] * yy[i];
      free(yy);
    }
    fd[c] = (l[0] - l[1]) / (2 * h);
  }
  cls_buffer *dy = test_upload(ctx, hw, n), *db = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, cols, &db));
  TEST_OK(ctx, cls_bias_backward(ctx, rows, cols, cls_ref_at(dy, 0), cls_ref_at(db, 0), 0));
  float *got = test_download(ctx, db);
  test_expect_close("dbias vs finite differences", cols, got, fd, 1e-6, 1.0);
  free(hw), free(y), free(w), free(got);
  cls_buffer_free(dy), cls_buffer_free(db);
}

/* ------------------------------------------------------- bias + GELU */

/* The fused forward and backward against the double references of the
 * two ops they replace, on awkward shapes (one row or column, primes,
 * widths that are not multiples of the vector, more rows than one part),
 * at offsets, the backward both into its own buffer and in place over dy,
 * with and without accumulating the bias gradient. */
static void bias_gelu_grid(cls_context *ctx) {
  static const size_t shapes[][2] = {{1, 1}, {1, 17}, {3, 7}, {5, 16}, {31, 64}, {257, 33}, {600, 5}, {2, 100}};
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    const size_t rows = shapes[si][0], cols = shapes[si][1], n = rows * cols, xo = 3, bo = 1, yo = 2;
    float *hx = test_random_floats(xo + n, 300 + si, -5.0f, 5.0f),
          *hb = test_random_floats(bo + cols, 400 + si, -1, 1);
    float *hdy = test_random_floats(n, 500 + si, -2.0f, 2.0f), *hdb = test_random_floats(cols, 600 + si, -1, 1);
    cls_buffer *x = test_upload(ctx, hx, xo + n), *b = test_upload(ctx, hb, bo + cols), *y = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, yo + n + 1, &y));
    TEST_OK(ctx, cls_buffer_fill(ctx, y, 0, yo + n + 1, -7.0f));
    TEST_OK(ctx, cls_bias_gelu_forward(ctx, rows, cols, cls_ref_at(b, bo), cls_ref_at(x, xo), cls_ref_at(y, yo)));
    double *h = test_to_double(hx + xo, n), *bias = test_to_double(hb + bo, cols);
    double *want = malloc(n * sizeof *want), *dx = malloc(n * sizeof *dx), *dy = test_to_double(hdy, n);
    cls__ref_bias_add(rows, cols, bias, h);
    cls__ref_gelu_forward(n, h, want);
    float *got = test_read_at(ctx, x, xo, n);
    test_expect_close("bias_gelu h", n, got, h, 1e-6, 1e-3);
    free(got);
    got = test_read_at(ctx, y, yo, n);
    test_expect_close("bias_gelu y", n, got, want, 1e-5, 1e-2);
    free(got);
    got = test_download(ctx, y);
    assert_true(got[0] == -7.0f && got[1] == -7.0f && got[yo + n] == -7.0f);
    free(got);

    cls__ref_gelu_backward(n, h, dy, dx);
    for (int acc = 0; acc < 2; acc++) {
      double *db = test_to_double(hdb, cols);
      cls__ref_bias_backward(rows, cols, dx, db, acc);
      cls_buffer *bdy = test_upload(ctx, hdy, n), *bdb = test_upload(ctx, hdb, cols), *bdx = NULL;
      TEST_OK(ctx, cls_buffer_alloc(ctx, n, &bdx));
      /* Into dx, then in place over dy (the bias gradient once each). */
      TEST_OK(ctx, cls_gelu_bias_backward(ctx, rows, cols, cls_ref_at(x, xo), cls_ref_at(bdy, 0),
                                          cls_ref_at(bdx, 0), cls_ref_at(bdb, 0), acc));
      got = test_download(ctx, bdx);
      test_expect_close("gelu_bias dx", n, got, dx, 1e-5, 1e-2);
      free(got);
      got = test_download(ctx, bdb);
      test_expect_close("gelu_bias dbias", cols, got, db, 1e-4, 1.0);
      free(got);
      TEST_OK(ctx, cls_buffer_write(ctx, bdb, 0, cols, hdb));
      TEST_OK(ctx, cls_gelu_bias_backward(ctx, rows, cols, cls_ref_at(x, xo), cls_ref_at(bdy, 0),
                                          cls_ref_at(bdy, 0), cls_ref_at(bdb, 0), acc));
      got = test_download(ctx, bdy);
      test_expect_close("gelu_bias dx in place", n, got, dx, 1e-5, 1e-2);
      free(got);
      got = test_download(ctx, bdb);
      test_expect_close("gelu_bias dbias (in place)", cols, got, db, 1e-4, 1.0);
      free(got), free(db);
      cls_buffer_free(bdy), cls_buffer_free(bdb), cls_buffer_free(bdx);
    }
    free(hx), free(hb), free(hdy), free(hdb), free(h), free(bias), free(want), free(dx), free(dy);
    cls_buffer_free(x), cls_buffer_free(b), cls_buffer_free(y);
  }
}

static void test_bias_gelu(void **state) {
  bias_gelu_grid(*state);
  /* Scalar lanes, several parts, the column path's tail. */
  cls_context *ctx = test_context("ELT_VEC=1,ROW_PART=3,ROW_CVEC=4", NULL);
  bias_gelu_grid(ctx);
  cls_context_destroy(ctx);
}

/* Calls of one op since the counters were reset. */
static uint64_t op_calls(cls_context *ctx, const char *op) {
  cls_counters c;
  TEST_OK(ctx, cls_counters_get(ctx, &c));
  for (size_t i = 0; i < c.op_count; i++)
    if (strcmp(c.ops[i].name, op) == 0) return c.ops[i].calls;
  return 0;
}

/* The GELU backward's two forms (src/ops/elementwise.c, gelu_bias_grad):
 * one fused pass when it makes work-groups enough for the device, else
 * the GELU over every row and then the sum. ROW_CLOCAL=1 makes these
 * layers fused, ROW_CLOCAL=4096 any layer split: dx and dbias must be the
 * same bits either way (one model and three side by side, a tail of
 * columns past the last whole vector, with and without accumulation),
 * and the split form one launch more. */
static void test_gelu_bias_split(void **state) {
  (void)state;
  cls_context *ctxs[2] = {test_context("ROW_CLOCAL=1", NULL), test_context("ROW_CLOCAL=4096", NULL)};
  /* rows, cols, models; in small-shape mode (Oclgrind) smaller, still
   * fused under ROW_CLOCAL=1 on every set (4 work-groups a compute unit). */
  static const size_t full[][3] = {{300, 1000, 1}, {40, 517, 3}, {7, 211, 2}};
  static const size_t small[][3] = {{60, 200, 1}, {9, 130, 3}, {7, 211, 2}};
  const size_t(*shapes)[3] = test_small() ? small : full;
  for (size_t si = 0; si < sizeof full / sizeof full[0]; si++) {
    const size_t rows = shapes[si][0], cols = shapes[si][1], models = shapes[si][2], n = models * rows * cols;
    float *hh = test_random_floats(n, 700 + si, -5.0f, 5.0f), *hdy = test_random_floats(n, 800 + si, -2.0f, 2.0f);
    float *hdb = test_random_floats(models * cols, 900 + si, -1.0f, 1.0f);
    for (int acc = 0; acc < 2; acc++) {
      float *dx[2], *db[2];
      uint64_t calls[2];
      for (int f = 0; f < 2; f++) {
        cls_context *ctx = ctxs[f];
        cls_buffer *h = test_upload(ctx, hh, n), *dy = test_upload(ctx, hdy, n),
                   *bdb = test_upload(ctx, hdb, models * cols);
        cls_buffer *bdx = NULL;
        TEST_OK(ctx, cls_buffer_alloc(ctx, n, &bdx));
        cls_counters_reset(ctx);
        TEST_OK(ctx, cls_gelu_bias_backward_models(ctx, models, rows, cols, cls_ref_at(h, 0), cls_ref_at(dy, 0),
                                                   cls_ref_at(bdx, 0), cls_ref_at(bdb, 0), cols, acc));
        calls[f] = op_calls(ctx, "gelu_bias_bwd");
        dx[f] = test_download(ctx, bdx);
        db[f] = test_download(ctx, bdb);
        cls_buffer_free(h), cls_buffer_free(dy), cls_buffer_free(bdb), cls_buffer_free(bdx);
      }
      assert_memory_equal(dx[0], dx[1], n * sizeof(float));
      assert_memory_equal(db[0], db[1], models * cols * sizeof(float));
      assert_int_equal(calls[1], calls[0] + 1);
      free(dx[0]), free(dx[1]), free(db[0]), free(db[1]);
    }
    free(hh), free(hdy), free(hdb);
  }
  cls_context_destroy(ctxs[0]), cls_context_destroy(ctxs[1]);
}

/* The fused backward against central differences of the double forward:
 * L = sum(w * gelu(x + bias)), dL/dx and dL/dbias. */
static void test_bias_gelu_finite_differences(void **state) {
  cls_context *ctx = *state;
  const size_t rows = 7, cols = 3, n = rows * cols;
  float *hx = test_random_floats(n, 71, -3.0f, 3.0f), *hb = test_random_floats(cols, 72, -1, 1);
  float *hw = test_random_floats(n, 73, -1.0f, 1.0f);
  double *x = test_to_double(hx, n), *b = test_to_double(hb, cols), *w = test_to_double(hw, n);
  double *fdx = malloc(n * sizeof *fdx), fdb[3] = {0, 0, 0}, *t = malloc(n * sizeof *t),
         *y = malloc(n * sizeof *y);
  const double eps = 1e-5;
#define LOSS(out)                                                                                                 \
  do {                                                                                                            \
    cls__ref_bias_add(rows, cols, b, t);                                                                          \
    cls__ref_gelu_forward(n, t, y);                                                                               \
    out = 0;                                                                                                      \
    for (size_t i_ = 0; i_ < n; i_++) out += w[i_] * y[i_];                                                       \
  } while (0)
  for (size_t i = 0; i < n + cols; i++) {
    double l[2];
    for (int sg = 0; sg < 2; sg++) {
      double d = sg ? -eps : eps;
      memcpy(t, x, n * sizeof *t);
      if (i < n)
        t[i] += d;
      else
        b[i - n] += d;
      LOSS(l[sg]);
      if (i >= n) b[i - n] -= d;
    }
    if (i < n)
      fdx[i] = (l[0] - l[1]) / (2 * eps);
    else
      fdb[i - n] = (l[0] - l[1]) / (2 * eps);
  }
#undef LOSS
  cls_buffer *bx = test_upload(ctx, hx, n), *bb = test_upload(ctx, hb, cols), *bw = test_upload(ctx, hw, n);
  cls_buffer *by = NULL, *bdb = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &by));
  TEST_OK(ctx, cls_buffer_alloc(ctx, cols, &bdb));
  TEST_OK(ctx, cls_bias_gelu_forward(ctx, rows, cols, cls_ref_at(bb, 0), cls_ref_at(bx, 0), cls_ref_at(by, 0)));
  TEST_OK(ctx, cls_gelu_bias_backward(ctx, rows, cols, cls_ref_at(bx, 0), cls_ref_at(bw, 0), cls_ref_at(by, 0),
                                      cls_ref_at(bdb, 0), 0));
  float *got = test_download(ctx, by);
  test_expect_close("bias_gelu dx vs finite differences", n, got, fdx, 1e-4, 1e-2);
  free(got);
  got = test_download(ctx, bdb);
  test_expect_close("bias_gelu dbias vs finite differences", cols, got, fdb, 1e-4, 1e-2);
  free(got), free(hx), free(hb), free(hw), free(x), free(b), free(w), free(fdx), free(t), free(y);
  cls_buffer_free(bx), cls_buffer_free(bb), cls_buffer_free(bw), cls_buffer_free(by), cls_buffer_free(bdb);
}

/* ------------------------------------------------------- bad arguments */

/* The call returns want and buffer out (count floats) is unchanged. */
#define EXPECT_REFUSED(ctx, call, want, out)                                                                      \
  do {                                                                                                            \
    float *before_ = test_download(ctx, out);                                                                     \
    cls_status got_ = (call);                                                                                     \
    if (got_ != (want)) fail_msg("%s -> %d, want %d (%s)", #call, got_, (int)(want), cls_last_error(ctx));        \
    assert_true(strlen(cls_last_error(ctx)) > 0);                                                                 \
    float *after_ = test_download(ctx, out);                                                                      \
    assert_memory_equal(before_, after_, cls_buffer_count(out) * sizeof(float));                                  \
    free(before_), free(after_);                                                                                  \
  } while (0)

static void test_bad_arguments(void **state) {
  cls_context *ctx = *state;
  float h[64];
  test_fill_uniform(h, 64, 5, -1, 1);
  cls_buffer *x = test_upload(ctx, h, 64), *y = test_upload(ctx, h, 64), *z = test_upload(ctx, h, 64);
  cls_context *other = test_context(NULL, NULL);
  cls_buffer *foreign = NULL;
  TEST_OK(other, cls_buffer_alloc(other, 64, &foreign));
  cls_ref X = cls_ref_at(x, 0), Y = cls_ref_at(y, 0), Z = cls_ref_at(z, 0);

  assert_int_equal(cls_gelu_forward(NULL, 4, X, Y), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 4, CLS_NOREF, Y), CLS_ERR_NULL_ARGUMENT, y);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 4, X, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, x);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 0, X, Y), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 65, X, Y), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 10, X, cls_ref_at(y, 60)), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 10, X, cls_ref_at(y, 100)), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 10, cls_ref_at(x, 0), cls_ref_at(x, 5)), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, 10, cls_ref_at(foreign, 0), Y), CLS_ERR_WRONG_CONTEXT, y);
  EXPECT_REFUSED(ctx, cls_gelu_forward(ctx, (size_t)1 << 31, X, Y), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_gelu_backward(ctx, 4, X, Y, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, y);
  EXPECT_REFUSED(ctx, cls_gelu_backward(ctx, 4, X, CLS_NOREF, Z), CLS_ERR_NULL_ARGUMENT, z);
  EXPECT_REFUSED(ctx, cls_gelu_backward(ctx, 10, X, Y, cls_ref_at(y, 1)), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_gelu_backward(ctx, 10, X, Y, cls_ref_at(x, 3)), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_gelu_backward(ctx, 64, X, Y, cls_ref_at(z, 1)), CLS_ERR_BUFFER_TOO_SMALL, z);

  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 4, NAN, X, 1, Y, Z), CLS_ERR_INVALID_VALUE, z);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 4, 1, X, INFINITY, Y, Z), CLS_ERR_INVALID_VALUE, z);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 4, 1, CLS_NOREF, 1, Y, Z), CLS_ERR_NULL_ARGUMENT, z);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 4, 1, X, 1, Y, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, z);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 0, 1, X, 1, Y, Z), CLS_ERR_INVALID_SIZE, z);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 10, 1, X, 1, Y, cls_ref_at(x, 2)), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 10, 1, X, 1, Y, cls_ref_at(y, 9)), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_add_scaled(ctx, 10, 1, X, 1, cls_ref_at(y, 55), Z), CLS_ERR_BUFFER_TOO_SMALL, z);
  EXPECT_REFUSED(ctx, cls_scale(ctx, 4, NAN, X), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_scale(ctx, 0, 2, X), CLS_ERR_INVALID_SIZE, x);
  EXPECT_REFUSED(ctx, cls_scale(ctx, 4, 2, cls_ref_at(x, 61)), CLS_ERR_BUFFER_TOO_SMALL, x);
  assert_int_equal(cls_scale(ctx, 4, 2, CLS_NOREF), CLS_ERR_NULL_ARGUMENT);

  EXPECT_REFUSED(ctx, cls_bias_add(ctx, 0, 4, X, Y), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_bias_add(ctx, 4, 0, X, Y), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_bias_add(ctx, 4, 17, X, Y), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_bias_add(ctx, 4, 4, cls_ref_at(x, 61), Y), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_bias_add(ctx, 4, 4, CLS_NOREF, Y), CLS_ERR_NULL_ARGUMENT, y);
  EXPECT_REFUSED(ctx, cls_bias_add(ctx, 4, 4, cls_ref_at(y, 10), Y), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_bias_add(ctx, (size_t)1 << 20, (size_t)1 << 12, X, Y), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_bias_backward(ctx, 4, 4, X, Y, 2), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_bias_backward(ctx, 4, 4, X, CLS_NOREF, 0), CLS_ERR_NULL_ARGUMENT, x);
  EXPECT_REFUSED(ctx, cls_bias_backward(ctx, 4, 4, X, cls_ref_at(x, 15), 0), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_bias_backward(ctx, 4, 4, X, cls_ref_at(y, 61), 0), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_bias_backward(ctx, 8, 9, X, Y, 0), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_bias_backward(ctx, 4, 4, X, cls_ref_at(foreign, 0), 0), CLS_ERR_WRONG_CONTEXT, y);

  /* bias + GELU: bias Z, pre-activation X, output Y. */
  assert_int_equal(cls_bias_gelu_forward(NULL, 4, 4, Z, X, Y), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 0, 4, Z, X, Y), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 4, 4, CLS_NOREF, X, Y), CLS_ERR_NULL_ARGUMENT, y);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 4, 4, Z, X, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, x);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 8, 9, Z, X, Y), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 4, 4, Z, X, cls_ref_at(x, 8)), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 4, 4, Z, X, X), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 4, 4, cls_ref_at(x, 2), X, Y), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_bias_gelu_forward(ctx, 4, 4, Z, cls_ref_at(foreign, 0), Y), CLS_ERR_WRONG_CONTEXT, y);
  assert_int_equal(cls_gelu_bias_backward(NULL, 4, 4, X, Y, Y, Z, 0), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 4, X, Y, Y, Z, 2), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 0, X, Y, Y, Z, 0), CLS_ERR_INVALID_SIZE, y);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 4, X, Y, Y, CLS_NOREF, 0), CLS_ERR_NULL_ARGUMENT, y);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 4, X, Y, cls_ref_at(y, 3), Z, 0), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 4, X, Y, Y, cls_ref_at(y, 15), 0), CLS_ERR_INVALID_VALUE, y);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 4, X, Y, Y, cls_ref_at(x, 1), 0), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 8, 9, X, Y, Y, Z, 0), CLS_ERR_BUFFER_TOO_SMALL, y);
  EXPECT_REFUSED(ctx, cls_gelu_bias_backward(ctx, 4, 4, X, Y, Y, cls_ref_at(z, 62), 0), CLS_ERR_BUFFER_TOO_SMALL,
                 z);

  cls_buffer_free(x), cls_buffer_free(y), cls_buffer_free(z), cls_buffer_free(foreign);
  cls_context_destroy(other);
}

/* Every op adds to its counter. */
static void test_counters(void **state) {
  cls_context *ctx = *state;
  float h[100];
  test_fill_uniform(h, 100, 1, -1, 1);
  cls_buffer *x = test_upload(ctx, h, 100);
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_gelu_forward(ctx, 100, cls_ref_at(x, 0), cls_ref_at(x, 0)));
  TEST_OK(ctx, cls_bias_backward(ctx, 10, 10, cls_ref_at(x, 0), cls_ref_at(x, 0), 0) == CLS_ERR_INVALID_VALUE
                   ? CLS_OK
                   : CLS_ERR_INTERNAL);
  cls_counters c;
  TEST_OK(ctx, cls_counters_get(ctx, &c));
  int found = 0;
  for (size_t i = 0; i < c.op_count; i++)
    if (strcmp(c.ops[i].name, "gelu_fwd") == 0) {
      found = 1;
      assert_int_equal(c.ops[i].calls, 1);
      assert_true(c.ops[i].flops > 0 && c.ops[i].bytes == 800.0);
    }
  assert_true(found);
  cls_buffer_free(x);
}

/* The bias ops' models forms (models side by side, the train layer's
 * models.h) against one call per model, bitwise: one
 * part per model, several, and rows that are not a whole number of parts
 * (each model alone), with and without accumulation; also with short
 * parts (ROW_PART=16) and plain column sums (ROW_CVEC=1). */
static void bias_models_on(cls_context *ctx) {
  const size_t big[][2] = {{100, 33}, {512, 16}, {600, 64}, {48, 5}};
  const size_t small[][2] = {{20, 33}, {32, 16}, {40, 8}, {6, 5}};
  const size_t(*shapes)[2] = test_small() ? small : big;
  const size_t K = 3;
  for (size_t si = 0; si < 4; si++)
    for (int acc = 0; acc < 2; acc++) {
      const size_t rows = shapes[si][0], cols = shapes[si][1], n = K * rows * cols, bs = cols + 7;
      const size_t nb = K * bs;
      float *x = test_random_floats(n, 10 + si, -2, 2), *dy = test_random_floats(n, 20 + si, -1, 1);
      float *b = test_random_floats(nb, 30 + si, -1, 1);
      cls_buffer *X[2], *Y[2], *DY[2], *DX[2], *B[2], *DB[2];
      for (int v = 0; v < 2; v++) {
        X[v] = test_upload(ctx, x, n);
        Y[v] = test_upload(ctx, x, n);
        DY[v] = test_upload(ctx, dy, n);
        DX[v] = test_upload(ctx, dy, n);
        B[v] = test_upload(ctx, b, nb);
        DB[v] = test_upload(ctx, b, nb);
      }
      /* v = 0: the models forms; v = 1: one call per model. */
      TEST_OK(ctx, cls_bias_add_models(ctx, K, rows, cols, cls_ref_at(B[0], 0), bs, cls_ref_at(Y[0], 0)));
      TEST_OK(ctx, cls_bias_gelu_forward_models(ctx, K, rows, cols, cls_ref_at(B[0], 0), bs, cls_ref_at(X[0], 0),
                                                cls_ref_at(DX[0], 0)));
      TEST_OK(ctx,
              cls_bias_backward_models(ctx, K, rows, cols, cls_ref_at(DY[0], 0), cls_ref_at(DB[0], 0), bs, acc));
      for (size_t k = 0; k < K; k++) {
        const size_t o = k * rows * cols;
        TEST_OK(ctx, cls_bias_add(ctx, rows, cols, cls_ref_at(B[1], k * bs), cls_ref_at(Y[1], o)));
        TEST_OK(ctx, cls_bias_gelu_forward(ctx, rows, cols, cls_ref_at(B[1], k * bs), cls_ref_at(X[1], o),
                                           cls_ref_at(DX[1], o)));
        TEST_OK(ctx, cls_bias_backward(ctx, rows, cols, cls_ref_at(DY[1], o), cls_ref_at(DB[1], k * bs), acc));
      }
      const cls_buffer *const check1[][2] = {{Y[0], Y[1]}, {X[0], X[1]}, {DX[0], DX[1]}, {DB[0], DB[1]}};
      const char *names1[] = {"bias_add", "bias_gelu h", "bias_gelu y", "bias_backward"};
      for (int c = 0; c < 4; c++) {
        float *g0 = test_download(ctx, check1[c][0]), *g1 = test_download(ctx, check1[c][1]);
        if (memcmp(g0, g1, (c == 3 ? nb : n) * sizeof *g0))
          fail_msg("%s models form, %zu x %zu, accumulate %d: differs from one call per model", names1[c], rows,
                   cols, acc);
        free(g0);
        free(g1);
      }
      /* The GELU backward with its bias gradient, in place (dx = dy). */
      TEST_OK(ctx, cls_gelu_bias_backward_models(ctx, K, rows, cols, cls_ref_at(X[0], 0), cls_ref_at(DY[0], 0),
                                                 cls_ref_at(DY[0], 0), cls_ref_at(B[0], 0), bs, acc));
      for (size_t k = 0; k < K; k++) {
        const size_t o = k * rows * cols;
        TEST_OK(ctx, cls_gelu_bias_backward(ctx, rows, cols, cls_ref_at(X[1], o), cls_ref_at(DY[1], o),
                                            cls_ref_at(DY[1], o), cls_ref_at(B[1], k * bs), acc));
      }
      for (int c = 0; c < 2; c++) {
        const cls_buffer *u = c ? B[0] : DY[0], *w = c ? B[1] : DY[1];
        float *g0 = test_download(ctx, u), *g1 = test_download(ctx, w);
        if (memcmp(g0, g1, (c ? nb : n) * sizeof *g0))
          fail_msg(
              "gelu_bias_backward models form (%s), %zu x %zu, accumulate %d: differs from one call per model",
              c ? "dbias" : "dx", rows, cols, acc);
        free(g0);
        free(g1);
      }
      for (int v = 0; v < 2; v++) {
        cls_buffer_free(X[v]);
        cls_buffer_free(Y[v]);
        cls_buffer_free(DY[v]);
        cls_buffer_free(DX[v]);
        cls_buffer_free(B[v]);
        cls_buffer_free(DB[v]);
      }
      free(x);
      free(dy);
      free(b);
    }
  /* Overlapping biases are refused. */
  cls_buffer *y = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &y));
  assert_int_equal(cls_bias_add_models(ctx, 2, 2, 8, cls_ref_at(y, 0), 4, cls_ref_at(y, 32)),
                   CLS_ERR_INVALID_VALUE);
  cls_buffer_free(y);
}

static void test_bias_models(void **state) {
  bias_models_on(*state);
  const char *params[] = {"ROW_PART=16", "ROW_CVEC=1"};
  for (int i = 0; i < 2; i++) {
    cls_context *ctx = test_context(params[i], NULL);
    bias_models_on(ctx);
    cls_context_destroy(ctx);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gelu),
      cmocka_unit_test(test_gelu_finite_differences),
      cmocka_unit_test(test_gelu_widths),
      cmocka_unit_test(test_add_scaled),
      cmocka_unit_test(test_bias),
      cmocka_unit_test(test_bias_parts),
      cmocka_unit_test(test_bias_finite_differences),
      cmocka_unit_test(test_bias_gelu),
      cmocka_unit_test(test_bias_gelu_finite_differences),
      cmocka_unit_test(test_gelu_bias_split),
      cmocka_unit_test(test_bias_models),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_counters),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
