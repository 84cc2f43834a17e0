/*
 * tests/test_decode.c — the key/value cache of generation: cls_kv_store
 * puts keys and values where the layout says, and cls_attention_decode of
 * new queries against the cache equals the last rows of the double
 * reference's causal attention over the whole sequence, on awkward shapes
 * (1, primes, lengths that are not multiples of the work-group), prefill
 * and one-token steps alike; bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention_ref.h"
#include "test_util.h"

typedef struct {
  size_t B, H, dh, cap, pos0, tq;
} case_t;

/* Runs one case: the sequence of pos0 + tq positions, its first pos0 keys
 * stored by one call (as a prefill would) and the tq new ones by another,
 * then the new queries' attention. */
static void run_case(cls_context *ctx, case_t c) {
  const size_t C = c.H * c.dh, T = c.pos0 + c.tq, B = c.B;
  const double scale = 1.0 / sqrt((double)c.dh);
  /* Packed (B, T, 3C) with a padded row (3C + 1) and a gap between batch
   * elements, at an offset: the operands' ld and stride are exercised. */
  const size_t ld = 3 * C + 1, stride = T * ld + 5, off = 3;
  const size_t n = off + B * stride;
  float *h = test_random_floats(n, 7 + c.cap, -1.0f, 1.0f);
  double *q = malloc(B * T * C * sizeof *q), *k = malloc(B * T * C * sizeof *k),
         *v = malloc(B * T * C * sizeof *v);
  for (size_t b = 0; b < B; b++)
    for (size_t t = 0; t < T; t++)
      for (size_t j = 0; j < C; j++) {
        const size_t at = off + b * stride + t * ld + j, d = (b * T + t) * C + j;
        q[d] = h[at];
        k[d] = h[at + C];
        v[d] = h[at + 2 * C];
      }
  double *probs = malloc(B * c.H * T * T * sizeof *probs), *want = malloc(B * T * C * sizeof *want);
  cls_ref_attention_forward(B, T, T, c.H, c.dh, scale, 1, q, k, v, probs, want);

  cls_buffer *qkv = test_upload(ctx, h, n);
  const size_t ncache = B * c.H * c.cap * c.dh;
  cls_buffer *kc = test_upload_padded(ctx, NULL, ncache, 4), *vc = test_upload_padded(ctx, NULL, ncache, 4);
  cls_kv_shape sh = {B, c.pos0, c.H, c.dh, c.cap, 0, (float)scale};
  if (c.pos0) {
    cls_attn_operand ko = {cls_ref_at(qkv, off + C), ld, stride}, vo = {cls_ref_at(qkv, off + 2 * C), ld, stride};
    TEST_OK(ctx, cls_kv_store(ctx, &sh, ko, vo, cls_ref_at(kc, 4), cls_ref_at(vc, 4)));
  }
  sh.tq = c.tq;
  sh.pos0 = c.pos0;
  cls_attn_operand ko = {cls_ref_at(qkv, off + c.pos0 * ld + C), ld, stride};
  cls_attn_operand vo = {cls_ref_at(qkv, off + c.pos0 * ld + 2 * C), ld, stride};
  TEST_OK(ctx, cls_kv_store(ctx, &sh, ko, vo, cls_ref_at(kc, 4), cls_ref_at(vc, 4)));

  /* The caches hold the keys and values of every position, exactly. */
  float *gk = test_download_padded(ctx, kc, ncache, 4), *gv = test_download_padded(ctx, vc, ncache, 4);
  for (size_t b = 0; b < B; b++)
    for (size_t t = 0; t < T; t++)
      for (size_t j = 0; j < C; j++) {
        const size_t at = ((b * c.H + j / c.dh) * c.cap + t) * c.dh + j % c.dh, d = (b * T + t) * C + j;
        if (gk[at] != (float)k[d] || gv[at] != (float)v[d])
          fail_msg("cache of b %zu t %zu column %zu: %g/%g, want %g/%g", b, t, j, gk[at], gv[at], k[d], v[d]);
      }

  /* The new queries' outputs into a padded (B, tq, C) operand. */
  const size_t old = C + 2, ostride = c.tq * old + 1, on = B * ostride;
  cls_buffer *out = test_upload_padded(ctx, NULL, on, 8);
  cls_buffer *scratch;
  TEST_OK(ctx, cls_buffer_alloc(ctx, cls_attention_decode_scratch(&sh), &scratch));
  cls_attn_operand qo = {cls_ref_at(qkv, off + c.pos0 * ld), ld, stride};
  cls_attn_operand oo = {cls_ref_at(out, 8), old, ostride};
  TEST_OK(ctx,
          cls_attention_decode(ctx, &sh, qo, cls_ref_at(kc, 4), cls_ref_at(vc, 4), cls_ref_at(scratch, 0), oo));
  float *got = test_download_padded(ctx, out, on, 8);
  float *dense = malloc(B * c.tq * C * sizeof *dense);
  double *w = malloc(B * c.tq * C * sizeof *w);
  for (size_t b = 0; b < B; b++)
    for (size_t i = 0; i < c.tq; i++)
      for (size_t j = 0; j < C; j++) {
        dense[(b * c.tq + i) * C + j] = got[b * ostride + i * old + j];
        w[(b * c.tq + i) * C + j] = want[(b * T + c.pos0 + i) * C + j];
      }
  char what[128];
  snprintf(what, sizeof what, "decode B%zu H%zu dh%zu cap%zu pos0 %zu tq%zu", B, c.H, c.dh, c.cap, c.pos0, c.tq);
  test_expect_close(what, B * c.tq * C, dense, w, 2e-5, 1e-3);

  free(dense), free(w), free(got), free(gk), free(gv), free(h), free(q), free(k), free(v), free(probs), free(want);
  cls_buffer_free(qkv), cls_buffer_free(kc), cls_buffer_free(vc), cls_buffer_free(out), cls_buffer_free(scratch);
}

static void test_against_reference(void **state) {
  cls_context *ctx = *state;
  const case_t cases[] = {
      {1, 1, 1, 1, 0, 1},     /* everything 1 */
      {2, 3, 5, 7, 0, 7},     /* a prefill of the whole cache */
      {3, 2, 7, 13, 5, 1},    /* one decoding step */
      {2, 1, 33, 70, 61, 3},  /* a step of 3, keys beyond a work-group of 64 */
      {1, 4, 16, 131, 0, 67}, /* a prefill of a prime length */
      {5, 2, 3, 9, 8, 1},     /* the last position of the cache */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(ctx, cases[i]);
}

static void test_bad_arguments(void **state) {
  cls_context *ctx = *state;
  cls_buffer *b;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 4096, &b));
  const cls_kv_shape good = {2, 1, 2, 4, 8, 3, 0.5f};
  cls_attn_operand q = {cls_ref_at(b, 0), 24, 24}, k = {cls_ref_at(b, 8), 24, 24}, v = {cls_ref_at(b, 16), 24, 24};
  cls_attn_operand out = {cls_ref_at(b, 100), 8, 8};
  cls_ref kc = cls_ref_at(b, 200), vc = cls_ref_at(b, 400), sc = cls_ref_at(b, 600);
  TEST_OK(ctx, cls_kv_store(ctx, &good, k, v, kc, vc));
  TEST_OK(ctx, cls_attention_decode(ctx, &good, q, kc, vc, sc, out));
  cls_kv_shape s = good;
  s.pos0 = 8; /* beyond the cache */
  assert_int_equal(cls_attention_decode(ctx, &s, q, kc, vc, sc, out), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_kv_store(ctx, &s, k, v, kc, vc), CLS_ERR_INVALID_SIZE);
  s = good;
  s.scale = 0;
  assert_int_equal(cls_attention_decode(ctx, &s, q, kc, vc, sc, out), CLS_ERR_INVALID_VALUE);
  s = good;
  s.heads = 0;
  assert_int_equal(cls_attention_decode(ctx, &s, q, kc, vc, sc, out), CLS_ERR_INVALID_SIZE);
  cls_attn_operand over = {cls_ref_at(b, 210), 8, 8}; /* out inside the key cache */
  assert_int_equal(cls_attention_decode(ctx, &good, q, kc, vc, sc, over), CLS_ERR_INVALID_VALUE);
  cls_attn_operand v2 = v;
  v2.ld = 25;
  assert_int_equal(cls_kv_store(ctx, &good, k, v2, kc, vc), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_kv_store(ctx, &good, k, v, kc, cls_ref_at(b, 220)), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_attention_decode(ctx, &good, q, kc, vc, cls_ref_at(b, 4090), out),
                   CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_attention_decode(ctx, NULL, q, kc, vc, sc, out), CLS_ERR_NULL_ARGUMENT);
  cls_buffer_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_against_reference),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
