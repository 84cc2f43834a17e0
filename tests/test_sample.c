/*
 * tests/test_sample.c — drawing tokens from logits on the device
 * (cls_sample): greedy and top-k 1 are the argmax (lowest index among
 * ties), a vanishing temperature is the argmax too, the device draws the
 * tokens of the double-precision reference, the empirical distribution of
 * top-p (and top-k + top-p) draws passes a chi-square test against the
 * truncated, renormalised softmax, the same seed draws the same tokens and
 * a row's token does not depend on its batch; rows without a distribution
 * and bad parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/sample_ref.h"
#include "test_util.h"

/* Draws rows x vocab logits on the device; the tokens as ints. */
static void draw(cls_context *ctx, const float *logits, size_t rows, size_t vocab, const cls_sample_params *p,
                 uint64_t first_row, uint32_t position, int32_t *out) {
  cls_buffer *x = test_upload(ctx, logits, rows * vocab), *scratch, *tok;
  TEST_OK(ctx, cls_buffer_alloc(ctx, cls_sample_scratch(rows, vocab), &scratch));
  tok = test_upload_padded(ctx, NULL, rows, 4);
  TEST_OK(ctx, cls_sample(ctx, rows, vocab, cls_ref_at(x, 0), p, first_row, position, cls_ref_at(scratch, 0),
                          cls_ref_at(tok, 4)));
  float *t = test_download_padded(ctx, tok, rows, 4);
  for (size_t r = 0; r < rows; r++) out[r] = (int32_t)t[r];
  free(t);
  cls_buffer_free(x), cls_buffer_free(scratch), cls_buffer_free(tok);
}

static int32_t argmax(const float *x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return (int32_t)best;
}

/* Random rows with ties: values on a coarse grid, so maxima repeat. */
static float *tied_rows(size_t rows, size_t vocab, uint64_t seed) {
  float *x = test_random_floats(rows * vocab, seed, -4.0f, 4.0f);
  for (size_t i = 0; i < rows * vocab; i++) x[i] = floorf(x[i] * 2.0f) / 2.0f;
  return x;
}

static void test_greedy_is_argmax(void **state) {
  cls_context *ctx = *state;
  const size_t rows = 37, vocab = 67; /* primes */
  float *x = tied_rows(rows, vocab, 3);
  int32_t got[37];
  cls_sample_params p;
  cls_sample_params_default(&p);
  p.greedy = 1;
  draw(ctx, x, rows, vocab, &p, 0, 0, got);
  for (size_t r = 0; r < rows; r++) assert_int_equal(got[r], argmax(x + r * vocab, vocab));
  /* top-k 1 is greedy, at any temperature and top-p. */
  p.greedy = 0;
  p.top_k = 1;
  p.temperature = 2.5f;
  p.top_p = 0.9f;
  draw(ctx, x, rows, vocab, &p, 5, 9, got);
  for (size_t r = 0; r < rows; r++) assert_int_equal(got[r], argmax(x + r * vocab, vocab));
  free(x);
}

static void test_cold_is_argmax(void **state) {
  cls_context *ctx = *state;
  const size_t rows = 64, vocab = 256;
  /* Distinct maxima (gaps of at least 1e-3): as the temperature goes to 0
   * every draw is the argmax. */
  float *x = test_random_floats(rows * vocab, 11, -3.0f, 3.0f);
  for (size_t r = 0; r < rows; r++) x[r * vocab + (r * 31) % vocab] = 3.01f;
  int32_t got[64];
  cls_sample_params p;
  cls_sample_params_default(&p);
  const float temps[] = {1e-4f, 1e-12f, 1e-38f};
  for (size_t t = 0; t < 3; t++) {
    p.temperature = temps[t];
    draw(ctx, x, rows, vocab, &p, 0, (uint32_t)t, got);
    for (size_t r = 0; r < rows; r++) assert_int_equal(got[r], argmax(x + r * vocab, vocab));
  }
  free(x);
}

static void test_device_matches_reference(void **state) {
  cls_context *ctx = *state;
  const size_t rows = test_small() ? 40 : 300, vocab = 97;
  float *x = test_random_floats(rows * vocab, 21, -3.0f, 3.0f);
  int32_t *got = malloc(rows * sizeof *got);
  const struct {
    float t;
    size_t k;
    float p;
  } cases[] = {{1.0f, 0, 1.0f}, {0.7f, 10, 1.0f}, {1.3f, 0, 0.6f}, {0.9f, 20, 0.8f}, {1.0f, 96, 0.999f}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    cls_sample_params p;
    cls_sample_params_default(&p);
    p.temperature = cases[c].t;
    p.top_k = cases[c].k;
    p.top_p = cases[c].p;
    p.seed = 1000 + c;
    draw(ctx, x, rows, vocab, &p, 77, 5, got);
    size_t differ = 0;
    for (size_t r = 0; r < rows; r++) differ += got[r] != cls_ref_sample_row(x + r * vocab, vocab, &p, 77 + r, 5);
    /* float sums against double: a draw within ~1e-6 of a boundary may
     * fall on the other side; none of these rows should. */
    if (differ) fail_msg("case %zu: %zu of %zu draws differ from the reference", c, differ, rows);
  }
  free(got), free(x);
}

/* The 99.9 % quantile of chi-square with df degrees of freedom
 * (Wilson-Hilferty; within 1 % for df >= 3). */
static double chi2_quantile_999(double df) {
  const double z = 3.0902, a = 2.0 / (9.0 * df);
  const double c = 1.0 - a + z * sqrt(a);
  return df * c * c * c;
}

static void chi_square(cls_context *ctx, const float *logits, size_t vocab, const cls_sample_params *p,
                       size_t min_kept, size_t max_kept) {
  /* Small-shape mode (a simulator) checks the kernel's memory accesses,
   * not the statistics: fewer draws, a test that still passes. */
  const size_t n = test_small() ? 2000 : 40000;
  float *x = malloc(n * vocab * sizeof *x);
  for (size_t r = 0; r < n; r++) memcpy(x + r * vocab, logits, vocab * sizeof *x);
  int32_t *got = malloc(n * sizeof *got);
  draw(ctx, x, n, vocab, p, 0, 3, got);
  double probs[16];
  assert_int_equal(cls_ref_sample_probs(logits, vocab, p, probs), 0);
  size_t count[16] = {0}, kept = 0;
  for (size_t r = 0; r < n; r++) {
    assert_true(got[r] >= 0 && (size_t)got[r] < vocab);
    if (probs[got[r]] == 0) fail_msg("token %d drawn, outside the kept set", got[r]);
    count[got[r]]++;
  }
  double chi2 = 0;
  for (size_t i = 0; i < vocab; i++)
    if (probs[i] > 0) {
      const double e = probs[i] * (double)n;
      chi2 += ((double)count[i] - e) * ((double)count[i] - e) / e;
      kept++;
    }
  assert_true(kept >= min_kept && kept <= max_kept);
  const double limit = chi2_quantile_999((double)(kept - 1));
  if (!(chi2 < limit)) fail_msg("chi-square %.2f over %zu tokens, limit %.2f", chi2, kept, limit);
  free(x), free(got);
}

static void test_top_p_distribution(void **state) {
  cls_context *ctx = *state;
  /* Softmax masses at temperature 1 (ascending): the nucleus of 0.8 keeps
   * the largest few; the ties at 1.0 are split by index. */
  const float logits[12] = {0.5f, 2.0f, -1.0f, 1.0f, 3.0f, 1.0f, 0.0f, 2.5f, -2.0f, 1.5f, 1.0f, -0.5f};
  cls_sample_params p;
  cls_sample_params_default(&p);
  p.top_p = 0.8f;
  p.seed = 12345;
  chi_square(ctx, logits, 12, &p, 4, 6);
  p.top_p = 0.95f;
  p.temperature = 0.8f;
  chi_square(ctx, logits, 12, &p, 6, 9);
  p.top_k = 5; /* top-k then top-p within the five */
  p.top_p = 0.9f;
  p.temperature = 1.5f;
  chi_square(ctx, logits, 12, &p, 3, 5);
  p.top_k = 0; /* no truncation */
  p.top_p = 1.0f;
  chi_square(ctx, logits, 12, &p, 12, 12);
}

static void test_seeds_and_batches(void **state) {
  cls_context *ctx = *state;
  const size_t rows = 16, vocab = 256;
  float *x = test_random_floats(rows * vocab, 5, -1.0f, 1.0f);
  int32_t a[16], b[16], c[16], d[16];
  cls_sample_params p;
  cls_sample_params_default(&p);
  p.seed = 99;
  draw(ctx, x, rows, vocab, &p, 0, 4, a);
  draw(ctx, x, rows, vocab, &p, 0, 4, b);
  assert_memory_equal(a, b, sizeof a); /* the same seed: the same tokens */
  /* Rows 6..15 drawn on their own, as rows 6.. of the batch. */
  draw(ctx, x + 6 * vocab, rows - 6, vocab, &p, 6, 4, c);
  assert_memory_equal(a + 6, c, (rows - 6) * sizeof *c);
  p.seed = 100;
  draw(ctx, x, rows, vocab, &p, 0, 4, d);
  size_t same = 0;
  for (size_t r = 0; r < rows; r++) same += a[r] == d[r];
  assert_true(same < rows / 2); /* another seed: other tokens (near-uniform rows) */
  p.seed = 99;
  draw(ctx, x, rows, vocab, &p, 0, 5, d); /* another position: other tokens */
  same = 0;
  for (size_t r = 0; r < rows; r++) same += a[r] == d[r];
  assert_true(same < rows / 2);
  free(x);
}

static void test_no_distribution(void **state) {
  cls_context *ctx = *state;
  const size_t vocab = 5;
  float x[4 * 5] = {0,         1,         NAN,  2,         3,         0,         1,
                    INFINITY,  2,         3,    -INFINITY, -INFINITY, -INFINITY, -INFINITY,
                    -INFINITY, -INFINITY, 0.5f, -INFINITY, 0.5f,      -INFINITY};
  int32_t got[4];
  cls_sample_params p;
  cls_sample_params_default(&p);
  draw(ctx, x, 4, vocab, &p, 0, 0, got);
  assert_int_equal(got[0], -1);            /* NaN */
  assert_int_equal(got[1], -1);            /* +inf */
  assert_int_equal(got[2], -1);            /* only -inf */
  assert_true(got[3] == 1 || got[3] == 3); /* -inf is never drawn */
  p.greedy = 1;
  draw(ctx, x, 4, vocab, &p, 0, 0, got);
  assert_int_equal(got[0], -1);
  assert_int_equal(got[3], 1);
}

static void test_bad_parameters(void **state) {
  cls_context *ctx = *state;
  cls_buffer *b;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 1024, &b));
  cls_sample_params p;
  cls_sample_params_default(&p);
  const cls_ref x = cls_ref_at(b, 0), s = cls_ref_at(b, 100), t = cls_ref_at(b, 200);
  TEST_OK(ctx, cls_sample(ctx, 2, 50, x, &p, 0, 0, s, t));
  char err[256];
  const float bad_t[] = {0.0f, -1.0f, NAN, INFINITY};
  for (size_t i = 0; i < 4; i++) {
    p.temperature = bad_t[i];
    assert_int_equal(cls_sample(ctx, 2, 50, x, &p, 0, 0, s, t), CLS_ERR_INVALID_VALUE);
    assert_int_equal(cls_sample_params_check(&p, err, sizeof err), CLS_ERR_INVALID_VALUE);
    assert_non_null(strstr(err, "`temperature`"));
  }
  p.temperature = 0.0f;
  p.greedy = 1; /* greedy needs no temperature */
  TEST_OK(ctx, cls_sample(ctx, 2, 50, x, &p, 0, 0, s, t));
  cls_sample_params_default(&p);
  const float bad_p[] = {0.0f, -0.1f, 1.5f, NAN};
  for (size_t i = 0; i < 4; i++) {
    p.top_p = bad_p[i];
    assert_int_equal(cls_sample_params_check(&p, err, sizeof err), CLS_ERR_INVALID_VALUE);
    assert_non_null(strstr(err, "`top_p`"));
  }
  cls_sample_params_default(&p);
  assert_int_equal(cls_sample(ctx, 0, 50, x, &p, 0, 0, s, t), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_sample(ctx, 2, 0, x, &p, 0, 0, s, t), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_sample(ctx, 2, 50, x, &p, 0, 0, s, cls_ref_at(b, 99)), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_sample(ctx, 2, 50, x, &p, 0, 0, cls_ref_at(b, 1000), t), CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_sample(ctx, 2, 50, x, NULL, 0, 0, s, t), CLS_ERR_NULL_ARGUMENT);
  cls_buffer_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_greedy_is_argmax),         cmocka_unit_test(test_cold_is_argmax),
      cmocka_unit_test(test_device_matches_reference), cmocka_unit_test(test_top_p_distribution),
      cmocka_unit_test(test_seeds_and_batches),        cmocka_unit_test(test_no_distribution),
      cmocka_unit_test(test_bad_parameters),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
