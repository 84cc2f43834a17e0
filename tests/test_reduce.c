/*
 * tests/test_reduce.c — sums and sums of squares: against a long-double
 * pairwise reference on awkward sizes and offsets, bitwise reproducible,
 * accurate on a million floats, several ranges at once, other group
 * shapes, every bad argument, and the models form (cls_reduce_models)
 * against one call per model.
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

static const size_t sizes[] = {1, 2, 3, 7, 31, 64, 127, 1000, 4099, 65537};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static double sum_abs(int sq, const double *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += sq ? x[i] * x[i] : fabs(x[i]);
  return s;
}

static float reduce_once(cls_context *ctx, cls_reduce_kind kind, size_t n, cls_ref x, float scale, cls_buffer *out,
                         size_t oo) {
  TEST_OK(ctx, cls_reduce(ctx, kind, n, x, scale, cls_ref_at(out, oo)));
  float r;
  TEST_OK(ctx, cls_buffer_read(ctx, out, oo, 1, &r));
  return r;
}

static void sizes_grid(cls_context *ctx) {
  for (size_t si = 0; si < NSIZES; si++) {
    size_t n = sizes[si], xo = 3;
    if (n > test_limit(SIZE_MAX, 4099)) continue; /* small-shape mode: still several groups */
    float *h = malloc((n + 5) * sizeof *h);
    test_fill_uniform(h, n + 5, 40 + si, -1.0f, 1.0f);
    cls_buffer *x = test_upload(ctx, h, n + 5), *out = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, 4, &out));
    TEST_OK(ctx, cls_buffer_fill(ctx, out, 0, 4, 9.0f));
    double *d = test_to_double(h + xo, n);
    for (int sq = 0; sq < 2; sq++) {
      double want = cls__ref_reduce(sq, n, d) * 0.5;
      float got = reduce_once(ctx, sq ? CLS_REDUCE_SUMSQ : CLS_REDUCE_SUM, n, cls_ref_at(x, xo), 0.5f, out, 2);
      double err = fabs(got - want) / (0.5 * sum_abs(sq, d, n));
      if (!(err < 1e-6)) fail_msg("reduce kind %d n=%zu: got %.9g want %.9g (err %.3g)", sq, n, got, want, err);
    }
    float o[4];
    TEST_OK(ctx, cls_buffer_read(ctx, out, 0, 4, o));
    assert_true(o[0] == 9.0f && o[1] == 9.0f && o[3] == 9.0f);
    free(h), free(d);
    cls_buffer_free(x), cls_buffer_free(out);
  }
}

static void test_sizes(void **state) {
  sizes_grid(*state);
}

/* Small groups and short chunks: many partial sums, a multi-level finish. */
static void test_other_shapes(void **state) {
  (void)state;
  cls_context *ctx = test_context("RED_WG=16,RED_ITEMS=3,ROW_VEC=4", NULL);
  sizes_grid(ctx);
  cls_context_destroy(ctx);
}

/* A million positive floats: a serial float sum would be off by ~1e-4
 * relative; the two-pass tree stays near float precision. Twice bitwise. */
static void test_million(void **state) {
  cls_context *ctx = *state;
  size_t n = test_small() ? 20000 : 1000000; /* small-shape mode: still two passes */
  float *h = malloc(n * sizeof *h);
  test_fill_uniform(h, n, 77, 0.0f, 1.0f);
  cls_buffer *x = test_upload(ctx, h, n), *out = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 1, &out));
  double *d = test_to_double(h, n);
  for (int sq = 0; sq < 2; sq++) {
    cls_reduce_kind kind = sq ? CLS_REDUCE_SUMSQ : CLS_REDUCE_SUM;
    double want = cls__ref_reduce(sq, n, d);
    float a = reduce_once(ctx, kind, n, cls_ref_at(x, 0), 1.0f, out, 0);
    float b = reduce_once(ctx, kind, n, cls_ref_at(x, 0), 1.0f, out, 0);
    assert_memory_equal(&a, &b, sizeof a);
    double rel = fabs(a - want) / want;
    if (!(rel < 5e-7)) fail_msg("1e6 kind %d: got %.9g want %.9g rel %.3g", sq, a, want, rel);
    /* The serial float sum, for the record of what this guards against. */
    float serial = 0;
    for (size_t i = 0; i < n; i++) serial += sq ? h[i] * h[i] : h[i];
    print_message("1e6 %s: two-pass rel err %.2e, serial float %.2e\n", sq ? "sumsq" : "sum", rel,
                  fabs(serial - want) / want);
  }
  free(h), free(d);
  cls_buffer_free(x), cls_buffer_free(out);
}

static void test_ranges(void **state) {
  cls_context *ctx = *state;
  size_t len[4] = {1, 5000, 127, 70000};
  size_t total = 0;
  for (int i = 0; i < 4; i++) total += len[i];
  float *h = malloc((total + 20) * sizeof *h);
  test_fill_uniform(h, total + 20, 9, -2.0f, 2.0f);
  cls_buffer *a = test_upload(ctx, h, total + 20), *b = test_upload(ctx, h, 200), *out = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 2, &out));
  /* Three ranges of a (with gaps), one of b that overlaps nothing. */
  cls_ref r[4] = {cls_ref_at(a, 0), cls_ref_at(a, 10), cls_ref_at(b, 7), cls_ref_at(a, 5020)};
  double want = 0, absum = 0;
  for (int i = 0; i < 4; i++) {
    double *d = test_to_double(h + r[i].offset, len[i]);
    want += cls__ref_reduce(1, len[i], d);
    absum += sum_abs(1, d, len[i]);
    free(d);
  }
  TEST_OK(ctx, cls_sumsq_ranges(ctx, 4, r, len, cls_ref_at(out, 1)));
  float got, again;
  TEST_OK(ctx, cls_buffer_read(ctx, out, 1, 1, &got));
  assert_true(fabs(got - want) / absum < 1e-6);
  TEST_OK(ctx, cls_sumsq_ranges(ctx, 4, r, len, cls_ref_at(out, 1)));
  TEST_OK(ctx, cls_buffer_read(ctx, out, 1, 1, &again));
  assert_memory_equal(&got, &again, sizeof got);
  free(h);
  cls_buffer_free(a), cls_buffer_free(b), cls_buffer_free(out);
}

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
  float h[32];
  test_fill_uniform(h, 32, 1, -1, 1);
  cls_buffer *x = test_upload(ctx, h, 32), *out = test_upload(ctx, h, 4);
  cls_context *other = test_context(NULL, NULL);
  cls_buffer *foreign = NULL;
  TEST_OK(other, cls_buffer_alloc(other, 4, &foreign));
  cls_ref X = cls_ref_at(x, 0), O = cls_ref_at(out, 1);

  assert_int_equal(cls_reduce(NULL, CLS_REDUCE_SUM, 4, X, 1, O), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 0, X, 1, O), CLS_ERR_INVALID_SIZE, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, (cls_reduce_kind)7, 4, X, 1, O), CLS_ERR_INVALID_VALUE, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, CLS_NOREF, 1, O), CLS_ERR_NULL_ARGUMENT, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, X, 1, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 33, X, 1, O), CLS_ERR_BUFFER_TOO_SMALL, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, cls_ref_at(x, 30), 1, O), CLS_ERR_BUFFER_TOO_SMALL, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, X, 1, cls_ref_at(out, 4)), CLS_ERR_BUFFER_TOO_SMALL, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, X, NAN, O), CLS_ERR_INVALID_VALUE, out);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, X, 1, cls_ref_at(x, 3)), CLS_ERR_INVALID_VALUE, x);
  EXPECT_REFUSED(ctx, cls_reduce(ctx, CLS_REDUCE_SUM, 4, X, 1, cls_ref_at(foreign, 0)), CLS_ERR_WRONG_CONTEXT, x);

  size_t len[2] = {4, 4};
  cls_ref r[2] = {X, cls_ref_at(x, 10)};
  assert_int_equal(cls_sumsq_ranges(ctx, 2, NULL, len, O), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_sumsq_ranges(ctx, 2, r, NULL, O), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_sumsq_ranges(ctx, 0, r, len, O), CLS_ERR_INVALID_SIZE, out);
  size_t bad_len[2] = {4, 0};
  EXPECT_REFUSED(ctx, cls_sumsq_ranges(ctx, 2, r, bad_len, O), CLS_ERR_INVALID_SIZE, out);
  size_t long_len[2] = {4, 23};
  EXPECT_REFUSED(ctx, cls_sumsq_ranges(ctx, 2, r, long_len, O), CLS_ERR_BUFFER_TOO_SMALL, out);
  cls_ref r_null[2] = {X, CLS_NOREF};
  EXPECT_REFUSED(ctx, cls_sumsq_ranges(ctx, 2, r_null, len, O), CLS_ERR_NULL_ARGUMENT, out);
  EXPECT_REFUSED(ctx, cls_sumsq_ranges(ctx, 2, r, len, cls_ref_at(x, 12)), CLS_ERR_INVALID_VALUE, x);

  cls_buffer_free(x), cls_buffer_free(out), cls_buffer_free(foreign);
  cls_context_destroy(other);
}

/* cls_reduce_models against one cls_reduce per model, bitwise: 3 models
 * of n floats x_stride apart (gaps between them), both kinds, sizes of one
 * chunk and of several (the last one partial). */
static void models_grid(cls_context *ctx) {
  const size_t K = 3;
  for (size_t si = 0; si < NSIZES; si++) {
    const size_t n = sizes[si], xs = n + 5;
    if (n > test_limit(SIZE_MAX, 4099)) continue;
    float *h = malloc(K * xs * sizeof *h);
    test_fill_uniform(h, K * xs, 70 + si, -1.0f, 1.0f);
    cls_buffer *x = test_upload(ctx, h, K * xs), *out = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, 2 * K + 1, &out));
    TEST_OK(ctx, cls_buffer_fill(ctx, out, 0, 2 * K + 1, 9.0f));
    for (int sq = 0; sq < 2; sq++) {
      const cls_reduce_kind kind = sq ? CLS_REDUCE_SUMSQ : CLS_REDUCE_SUM;
      TEST_OK(ctx, cls_reduce_models(ctx, kind, K, n, cls_ref_at(x, 2), xs, 0.25f, cls_ref_at(out, 1)));
      for (size_t k = 0; k < K; k++)
        TEST_OK(ctx, cls_reduce(ctx, kind, n, cls_ref_at(x, 2 + k * xs), 0.25f, cls_ref_at(out, 1 + K + k)));
      float o[7];
      TEST_OK(ctx, cls_buffer_read(ctx, out, 0, 2 * K + 1, o));
      assert_true(o[0] == 9.0f);
      if (memcmp(o + 1, o + 1 + K, K * sizeof *o))
        fail_msg("reduce_models kind %d n=%zu: %.9g %.9g %.9g, alone %.9g %.9g %.9g", sq, n, o[1], o[2], o[3],
                 o[4], o[5], o[6]);
      assert_true(o[1] != o[2]); /* the models' ranges differ */
    }
    free(h);
    cls_buffer_free(x), cls_buffer_free(out);
  }
  /* Overlapping ranges and an output inside them are refused. */
  cls_buffer *b = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &b));
  assert_int_equal(cls_reduce_models(ctx, CLS_REDUCE_SUM, 2, 8, cls_ref_at(b, 0), 7, 1.0f, cls_ref_at(b, 40)),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_reduce_models(ctx, CLS_REDUCE_SUM, 2, 8, cls_ref_at(b, 0), 8, 1.0f, cls_ref_at(b, 15)),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_reduce_models(ctx, CLS_REDUCE_SUM, 4, 8, cls_ref_at(b, 0), 16, 1.0f, cls_ref_at(b, 62)),
                   CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_reduce_models(ctx, CLS_REDUCE_SUM, 0, 8, cls_ref_at(b, 0), 16, 1.0f, cls_ref_at(b, 60)),
                   CLS_ERR_INVALID_SIZE);
  cls_buffer_free(b);
}

static void test_models(void **state) {
  models_grid(*state);
  cls_context *ctx = test_context("RED_WG=16,RED_ITEMS=3,ROW_VEC=4", NULL);
  models_grid(ctx);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes),  cmocka_unit_test(test_other_shapes),  cmocka_unit_test(test_million),
      cmocka_unit_test(test_ranges), cmocka_unit_test(test_bad_arguments), cmocka_unit_test(test_models),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
