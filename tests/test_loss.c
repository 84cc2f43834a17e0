/*
 * tests/test_loss.c — cross-entropy (fused loss and gradient, both kernel
 * variants) and MSE against the double references, on awkward shapes,
 * offsets and in place; gradients by central finite differences; huge
 * logits; invalid targets; every bad argument.
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

static void expect_close(const char *what, size_t rows, size_t cols, const float *got, const double *want,
                         double tol, double floor) {
  size_t at;
  double e = test_max_rel_err(got, want, rows * cols, floor, &at);
  if (!(e <= tol))
    fail_msg("%s: %zu x %zu rel err %.3g at %zu (got %.9g want %.9g)", what, rows, cols, e, at, got[at], want[at]);
}

/* Integer ids in [0, vocab) as floats. */
static float *rand_targets(size_t rows, size_t vocab, uint64_t seed) {
  float *t = test_random_floats(rows, seed, 0.0f, 1.0f);
  for (size_t r = 0; r < rows; r++) {
    size_t v = (size_t)(t[r] * (float)vocab);
    t[r] = (float)(v < vocab ? v : vocab - 1);
  }
  return t;
}

/* ----------------------------------------------------------- cross-entropy */

static const size_t ce_rows[] = {1, 2, 3, 7, 31, 64, 127};
static const size_t ce_vocab[] = {1, 2, 3, 7, 31, 64, 127, 256, 1000, 4099};

/* One shape: losses and gradient together and apart, and in place. */
static void ce_case(cls_context *ctx, size_t rows, size_t vocab, float lo, float hi, uint64_t seed) {
  size_t n = rows * vocab, lo_off = 3, to_off = 1;
  float *hx = test_random_floats(n + lo_off, seed, lo, hi);
  float *ht = rand_targets(rows + to_off, vocab, seed + 1);
  cls_buffer *x = test_upload(ctx, hx, n + lo_off), *t = test_upload(ctx, ht, rows + to_off);
  cls_buffer *loss = NULL, *dl = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, rows + 2, &loss));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n + 5, &dl));
  TEST_OK(ctx, cls_buffer_fill(ctx, loss, 0, rows + 2, -3.0f));
  double *dx = test_to_double(hx + lo_off, n), *dt = test_to_double(ht + to_off, rows);
  double *wl = malloc(rows * sizeof *wl), *wg = malloc(n * sizeof *wg);
  double gs = 1.0 / (double)rows;
  cls__ref_cross_entropy(rows, vocab, dx, dt, wl, wg, gs);
  cls_ref X = cls_ref_at(x, lo_off), T = cls_ref_at(t, to_off), L = cls_ref_at(loss, 1), G = cls_ref_at(dl, 5);
  /* Loss error relative to the loss (at least 1), gradient error to the
   * grad_scale (its entries are grad_scale times probabilities). */
  double lfloor = 1.0, gfloor = gs;

  TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, X, T, L, G, (float)gs));
  float *gl = test_read_at(ctx, loss, 1, rows), *gg = test_read_at(ctx, dl, 5, n);
  expect_close("ce loss (fused)", rows, 1, gl, wl, 2e-6, lfloor);
  expect_close("ce grad (fused)", rows, vocab, gg, wg, 2e-6, gfloor);
  float *around = test_download(ctx, loss);
  assert_true(around[0] == -3.0f && around[rows + 1] == -3.0f);
  free(around), free(gl), free(gg);

  /* Loss only, then gradient only. */
  TEST_OK(ctx, cls_buffer_fill(ctx, loss, 0, rows + 2, -3.0f));
  TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, X, T, L, CLS_NOREF, (float)gs));
  gl = test_read_at(ctx, loss, 1, rows);
  expect_close("ce loss (alone)", rows, 1, gl, wl, 2e-6, lfloor);
  TEST_OK(ctx, cls_buffer_fill(ctx, dl, 0, n + 5, 0.0f));
  TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, X, T, CLS_NOREF, G, (float)gs));
  gg = test_read_at(ctx, dl, 5, n);
  expect_close("ce grad (alone)", rows, vocab, gg, wg, 2e-6, gfloor);
  free(gl), free(gg);

  /* In place: the gradient overwrites the logits. */
  TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, X, T, L, X, (float)gs));
  gl = test_read_at(ctx, loss, 1, rows), gg = test_read_at(ctx, x, lo_off, n);
  expect_close("ce loss (in place)", rows, 1, gl, wl, 2e-6, lfloor);
  expect_close("ce grad (in place)", rows, vocab, gg, wg, 2e-6, gfloor);
  float first[3];
  TEST_OK(ctx, cls_buffer_read(ctx, x, 0, 3, first));
  assert_memory_equal(first, hx, sizeof first);
  free(gl), free(gg);

  free(hx), free(ht), free(dx), free(dt), free(wl), free(wg);
  cls_buffer_free(x), cls_buffer_free(t), cls_buffer_free(loss), cls_buffer_free(dl);
}

static void ce_grid(cls_context *ctx) {
  for (size_t ri = 0; ri < sizeof ce_rows / sizeof ce_rows[0]; ri++)
    for (size_t vi = 0; vi < sizeof ce_vocab / sizeof ce_vocab[0]; vi++) {
      if (ce_rows[ri] * ce_vocab[vi] > test_limit(300000, TEST_SMALL_LIMIT)) continue;
      ce_case(ctx, ce_rows[ri], ce_vocab[vi], -5.0f, 5.0f, ri * 100 + vi);
    }
}

static void test_ce(void **state) {
  ce_grid(*state);
}

static void test_ce_workgroup_variant(void **state) {
  (void)state;
  cls_context *ctx = test_context("ROW_VARIANT=1", NULL);
  ce_grid(ctx);
  cls_context_destroy(ctx);
}

/* Logits of magnitude 1e4: nothing overflows and the loss keeps its
 * precision (both variants). */
static void test_ce_huge_logits(void **state) {
  const char *params[2] = {NULL, "ROW_VARIANT=1"};
  for (int p = 0; p < 2; p++) {
    cls_context *ctx = p ? test_context(params[p], NULL) : *state;
    ce_case(ctx, 7, 256, -1e4f, 1e4f, 1234 + p);
    ce_case(ctx, 3, 31, 9990.0f, 1e4f, 99 + p);
    ce_case(ctx, 3, 31, -1e4f, -9990.0f, 98 + p);
    if (p) cls_context_destroy(ctx);
  }
}

/* dlogits against central differences of grad_scale * sum of the losses. */
static void test_ce_finite_differences(void **state) {
  cls_context *ctx = *state;
  size_t rows = 3, vocab = 11, n = rows * vocab;
  float *hx = test_random_floats(n, 5, -3.0f, 3.0f), ht[3] = {0, 10, 4};
  cls_buffer *x = test_upload(ctx, hx, n), *t = test_upload(ctx, ht, rows), *g = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &g));
  double gs = 0.7;
  TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, cls_ref_at(x, 0), cls_ref_at(t, 0), CLS_NOREF, cls_ref_at(g, 0),
                                 (float)gs));
  float *got = test_download(ctx, g);
  double *dx = test_to_double(hx, n), dt[3] = {0, 10, 4}, *fd = malloc(n * sizeof *fd), loss[3];
  for (size_t i = 0; i < n; i++) {
    double h = 1e-5, l[2];
    for (int k = 0; k < 2; k++) {
      double keep = dx[i];
      dx[i] += k ? -h : h;
      cls__ref_cross_entropy(rows, vocab, dx, dt, loss, NULL, 1.0);
      l[k] = gs * (loss[0] + loss[1] + loss[2]);
      dx[i] = keep;
    }
    fd[i] = (l[0] - l[1]) / (2 * h);
  }
  expect_close("ce grad vs finite differences", rows, vocab, got, fd, 1e-5, gs);
  free(hx), free(got), free(dx), free(fd);
  cls_buffer_free(x), cls_buffer_free(t), cls_buffer_free(g);
}

/* Ids that are negative (other than the ignored -1), too large, fractional
 * or NaN poison their row only (both variants). */
static void test_ce_invalid_targets(void **state) {
  for (int p = 0; p < 2; p++) {
    cls_context *ctx = p ? test_context("ROW_VARIANT=1", NULL) : *state;
    size_t rows = 6, vocab = 5;
    float hx[30], ht[6] = {-2.0f, 5.0f, 2.5f, NAN, 4.0f, 0.0f};
    test_fill_uniform(hx, 30, 3, -1, 1);
    cls_buffer *x = test_upload(ctx, hx, 30), *t = test_upload(ctx, ht, 6), *l = NULL, *g = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &l));
    TEST_OK(ctx, cls_buffer_alloc(ctx, 30, &g));
    TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, cls_ref_at(x, 0), cls_ref_at(t, 0), cls_ref_at(l, 0),
                                   cls_ref_at(g, 0), 1.0f));
    float *gl = test_download(ctx, l), *gg = test_download(ctx, g);
    for (size_t r = 0; r < rows; r++) {
      int bad = r < 4;
      assert_true(bad ? isnan(gl[r]) : isfinite(gl[r]) && gl[r] > 0);
      for (size_t j = 0; j < vocab; j++) assert_true(bad ? isnan(gg[r * vocab + j]) : isfinite(gg[r * vocab + j]));
    }
    free(gl), free(gg);
    cls_buffer_free(x), cls_buffer_free(t), cls_buffer_free(l), cls_buffer_free(g);
    if (p) cls_context_destroy(ctx);
  }
}

/* Ignored targets (-1): loss 0 and gradient row 0, the other rows as the
 * reference; some rows, every row (no NaN anywhere, nothing divided), in
 * place and apart, on awkward shapes, both variants. */
static void ce_ignore_case(cls_context *ctx, size_t rows, size_t vocab, int every, uint64_t seed) {
  size_t n = rows * vocab;
  float *hx = test_random_floats(n, seed, -4.0f, 4.0f);
  float *ht = rand_targets(rows, vocab, seed + 1);
  for (size_t r = 0; r < rows; r++)
    if (every || r % 3 != 1) ht[r] = (float)CLS_IGNORE_TARGET;
  cls_buffer *x = test_upload(ctx, hx, n), *t = test_upload(ctx, ht, rows), *l = NULL, *g = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, rows, &l));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &g));
  TEST_OK(ctx, cls_buffer_fill(ctx, l, 0, rows, -3.0f));
  TEST_OK(ctx, cls_buffer_fill(ctx, g, 0, n, -3.0f));
  double *dx = test_to_double(hx, n), *dt = test_to_double(ht, rows);
  double *wl = malloc(rows * sizeof *wl), *wg = malloc(n * sizeof *wg);
  const double gs = 0.25;
  cls__ref_cross_entropy(rows, vocab, dx, dt, wl, wg, gs);
  for (int in_place = 0; in_place < 2; in_place++) {
    cls_ref G = in_place ? cls_ref_at(x, 0) : cls_ref_at(g, 0);
    TEST_OK(ctx, cls_cross_entropy(ctx, rows, vocab, cls_ref_at(x, 0), cls_ref_at(t, 0), cls_ref_at(l, 0), G,
                                   (float)gs));
    float *gl = test_download(ctx, l), *gg = test_download(ctx, in_place ? x : g);
    for (size_t r = 0; r < rows; r++) {
      int ign = ht[r] == (float)CLS_IGNORE_TARGET;
      if (ign) assert_true(gl[r] == 0.0f);
      for (size_t j = 0; j < vocab && ign; j++) assert_true(gg[r * vocab + j] == 0.0f);
    }
    expect_close("ce loss (ignored rows)", rows, 1, gl, wl, 2e-6, 1.0);
    expect_close("ce grad (ignored rows)", rows, vocab, gg, wg, 2e-6, gs);
    free(gl), free(gg);
  }
  free(hx), free(ht), free(dx), free(dt), free(wl), free(wg);
  cls_buffer_free(x), cls_buffer_free(t), cls_buffer_free(l), cls_buffer_free(g);
}

static void test_ce_ignored_targets(void **state) {
  static const size_t rows[] = {1, 3, 7, 64, 127}, vocab[] = {1, 3, 14, 31, 257, 4099};
  for (int p = 0; p < 2; p++) {
    cls_context *ctx = p ? test_context("ROW_VARIANT=1", NULL) : *state;
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
      for (size_t vi = 0; vi < sizeof vocab / sizeof vocab[0]; vi++)
        for (int every = 0; every < 2; every++)
          if (rows[ri] * vocab[vi] <= test_limit(SIZE_MAX, TEST_SMALL_LIMIT))
            ce_ignore_case(ctx, rows[ri], vocab[vi], every, 7 * ri + vi);
    if (p) cls_context_destroy(ctx);
  }
}

/* -------------------------------------------------------------------- MSE */

static void test_mse(void **state) {
  cls_context *ctx = *state;
  static const size_t sizes[] = {1, 2, 3, 7, 31, 64, 127, 1000, 4099};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    size_t n = sizes[si];
    float *hp = test_random_floats(n + 2, 10 + si, -2, 2), *ht = test_random_floats(n + 1, 20 + si, -2, 2);
    cls_buffer *p = test_upload(ctx, hp, n + 2), *t = test_upload(ctx, ht, n + 1), *e = NULL, *d = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, n + 3, &e));
    TEST_OK(ctx, cls_buffer_alloc(ctx, n, &d));
    double *dp = test_to_double(hp + 2, n), *dt = test_to_double(ht + 1, n);
    double *we = malloc(n * sizeof *we), *wd = malloc(n * sizeof *wd);
    double gs = 1.0 / (double)n;
    cls__ref_mse(n, dp, dt, we, wd, gs);
    cls_ref P = cls_ref_at(p, 2), T = cls_ref_at(t, 1);
    TEST_OK(ctx, cls_mse(ctx, n, P, T, cls_ref_at(e, 3), cls_ref_at(d, 0), (float)gs));
    float *ge = test_read_at(ctx, e, 3, n), *gd = test_read_at(ctx, d, 0, n);
    expect_close("mse err", n, 1, ge, we, 1e-6, 1e-3);
    expect_close("mse grad", n, 1, gd, wd, 1e-6, gs * 1e-3);
    free(ge), free(gd);
    TEST_OK(ctx, cls_mse(ctx, n, P, T, CLS_NOREF, cls_ref_at(d, 0), (float)gs));
    gd = test_read_at(ctx, d, 0, n);
    expect_close("mse grad alone", n, 1, gd, wd, 1e-6, gs * 1e-3);
    free(gd);
    /* In place: err over pred and the gradient over target. */
    TEST_OK(ctx, cls_mse(ctx, n, P, T, P, T, (float)gs));
    ge = test_read_at(ctx, p, 2, n), gd = test_read_at(ctx, t, 1, n);
    expect_close("mse err in place", n, 1, ge, we, 1e-6, 1e-3);
    expect_close("mse grad in place", n, 1, gd, wd, 1e-6, gs * 1e-3);
    free(ge), free(gd), free(hp), free(ht), free(dp), free(dt), free(we), free(wd);
    cls_buffer_free(p), cls_buffer_free(t), cls_buffer_free(e), cls_buffer_free(d);
  }
}

static void test_mse_finite_differences(void **state) {
  cls_context *ctx = *state;
  size_t n = 9;
  float hp[9], ht[9];
  test_fill_uniform(hp, n, 1, -1, 1);
  test_fill_uniform(ht, n, 2, -1, 1);
  cls_buffer *p = test_upload(ctx, hp, n), *t = test_upload(ctx, ht, n), *d = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &d));
  double gs = 1.0 / 9;
  TEST_OK(ctx, cls_mse(ctx, n, cls_ref_at(p, 0), cls_ref_at(t, 0), CLS_NOREF, cls_ref_at(d, 0), (float)gs));
  float *got = test_download(ctx, d);
  double *dp = test_to_double(hp, n), *dt = test_to_double(ht, n), fd[9], err[9];
  for (size_t i = 0; i < n; i++) {
    double h = 1e-5, l[2];
    for (int k = 0; k < 2; k++) {
      double keep = dp[i];
      dp[i] += k ? -h : h;
      cls__ref_mse(n, dp, dt, err, NULL, 1.0);
      l[k] = 0;
      for (size_t j = 0; j < n; j++) l[k] += gs * err[j];
      dp[i] = keep;
    }
    fd[i] = (l[0] - l[1]) / (2 * h);
  }
  expect_close("mse grad vs finite differences", n, 1, got, fd, 1e-5, gs);
  free(got), free(dp), free(dt);
  cls_buffer_free(p), cls_buffer_free(t), cls_buffer_free(d);
}

/* ---------------------------------------------------------- bad arguments */

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
  test_fill_uniform(h, 64, 5, 0, 3);
  for (int i = 0; i < 64; i++) h[i] = floorf(h[i]);
  cls_buffer *x = test_upload(ctx, h, 64), *t = test_upload(ctx, h, 8), *l = test_upload(ctx, h, 8);
  cls_buffer *g = test_upload(ctx, h, 64);
  cls_context *other = test_context(NULL, NULL);
  cls_buffer *foreign = NULL;
  TEST_OK(other, cls_buffer_alloc(other, 64, &foreign));
  cls_ref X = cls_ref_at(x, 0), T = cls_ref_at(t, 0), L = cls_ref_at(l, 0), G = cls_ref_at(g, 0);

  assert_int_equal(cls_cross_entropy(NULL, 2, 4, X, T, L, G, 1), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 0, 4, X, T, L, G, 1), CLS_ERR_INVALID_SIZE, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 0, X, T, L, G, 1), CLS_ERR_INVALID_SIZE, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 1, ((size_t)1 << 24) + 1, X, T, L, G, 1), CLS_ERR_INVALID_SIZE, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, CLS_NOREF, CLS_NOREF, 1), CLS_ERR_NULL_ARGUMENT, x);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, CLS_NOREF, T, L, G, 1), CLS_ERR_NULL_ARGUMENT, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, CLS_NOREF, L, G, 1), CLS_ERR_NULL_ARGUMENT, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, L, G, NAN), CLS_ERR_INVALID_VALUE, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, L, G, INFINITY), CLS_ERR_INVALID_VALUE, l);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 33, X, T, L, G, 1), CLS_ERR_BUFFER_TOO_SMALL, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 9, 4, X, T, L, G, 1), CLS_ERR_BUFFER_TOO_SMALL, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, cls_ref_at(l, 7), G, 1), CLS_ERR_BUFFER_TOO_SMALL, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, L, cls_ref_at(g, 57), 1), CLS_ERR_BUFFER_TOO_SMALL, l);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, L, cls_ref_at(x, 1), 1), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, cls_ref_at(x, 3), G, 1), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, cls_ref_at(g, 30), cls_ref_at(g, 24), 1),
                 CLS_ERR_INVALID_VALUE, g);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, T, cls_ref_at(t, 1), G, 1), CLS_ERR_INVALID_VALUE, t);
  EXPECT_REFUSED(ctx, cls_cross_entropy(ctx, 2, 4, X, cls_ref_at(foreign, 0), L, G, 1), CLS_ERR_WRONG_CONTEXT, g);

  assert_int_equal(cls_mse(NULL, 4, X, T, L, G, 1), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 0, X, T, L, G, 1), CLS_ERR_INVALID_SIZE, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, CLS_NOREF, CLS_NOREF, 1), CLS_ERR_NULL_ARGUMENT, x);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, CLS_NOREF, T, L, G, 1), CLS_ERR_NULL_ARGUMENT, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, CLS_NOREF, L, G, 1), CLS_ERR_NULL_ARGUMENT, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, L, G, NAN), CLS_ERR_INVALID_VALUE, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, L, G, 3e38f), CLS_ERR_INVALID_VALUE, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 9, X, T, L, G, 1), CLS_ERR_BUFFER_TOO_SMALL, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, cls_ref_at(l, 5), G, 1), CLS_ERR_BUFFER_TOO_SMALL, g);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, L, cls_ref_at(l, 2), 1), CLS_ERR_INVALID_VALUE, l);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, cls_ref_at(x, 1), G, 1), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_mse(ctx, 4, X, T, L, cls_ref_at(foreign, 0), 1), CLS_ERR_WRONG_CONTEXT, l);

  cls_buffer_free(x), cls_buffer_free(t), cls_buffer_free(l), cls_buffer_free(g), cls_buffer_free(foreign);
  cls_context_destroy(other);
}

/* The ops add to their counters under their names. */
static void test_counters(void **state) {
  cls_context *ctx = *state;
  float hx[12] = {0}, ht[3] = {0, 1, 2};
  cls_buffer *x = test_upload(ctx, hx, 12), *t = test_upload(ctx, ht, 3), *l = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 3, &l));
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_cross_entropy(ctx, 3, 4, cls_ref_at(x, 0), cls_ref_at(t, 0), cls_ref_at(l, 0), cls_ref_at(x, 0),
                                 1.0f));
  TEST_OK(ctx, cls_mse(ctx, 3, cls_ref_at(x, 0), cls_ref_at(t, 0), cls_ref_at(l, 0), CLS_NOREF, 1.0f));
  cls_counters c;
  TEST_OK(ctx, cls_counters_get(ctx, &c));
  int seen = 0;
  for (size_t i = 0; i < c.op_count; i++) {
    if (strcmp(c.ops[i].name, "cross_entropy_fwd_bwd") == 0 || strcmp(c.ops[i].name, "mse") == 0) {
      seen++;
      assert_int_equal(c.ops[i].calls, 1);
      assert_true(c.ops[i].flops > 0 && c.ops[i].bytes > 0);
    }
  }
  assert_int_equal(seen, 2);
  cls_buffer_free(x), cls_buffer_free(t), cls_buffer_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ce),
      cmocka_unit_test(test_ce_workgroup_variant),
      cmocka_unit_test(test_ce_huge_logits),
      cmocka_unit_test(test_ce_finite_differences),
      cmocka_unit_test(test_ce_invalid_targets),
      cmocka_unit_test(test_ce_ignored_targets),
      cmocka_unit_test(test_mse),
      cmocka_unit_test(test_mse_finite_differences),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_counters),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
