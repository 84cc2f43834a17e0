/*
 * tests/test_gpt_infer.c — generation from the GPT with the key/value
 * cache: the logits of a prefill and of every decoding step equal the
 * double-precision full forward pass at that position; sampling with the
 * cache draws what recomputing the whole prefix draws; greedy generation
 * follows the reference's argmax; the same seed gives the same tokens and
 * a sequence's tokens do not depend on its batch; stop tokens; a diverged
 * model and bad requests are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpt.h"
#include "nn/gpt_infer.h"
#include "test_util.h"

static cls_gpt_config tiny(cls_parametrisation param) {
  cls_gpt_config c;
  cls_gpt_config_default(&c);
  c.vocab = 11;
  c.context = 9;
  c.width = 12;
  c.depth = 2;
  c.heads = 3;
  c.param = param;
  c.base_width = 6;
  c.init_std = 0.4f; /* large enough that attention is far from uniform */
  return c;
}

static float *params_of(cls_context *ctx, cls_gpt *g) {
  const cls_param_table *pt = cls_gpt_params(g);
  float *p = malloc(pt->total * sizeof *p);
  TEST_OK(ctx, cls_buffer_read(ctx, cls_gpt_slabs(g)->params, 0, pt->total, p));
  return p;
}

static void check_logits(cls_parametrisation param) {
  cls_context *ctx = test_context(NULL, NULL);
  const cls_gpt_config c = tiny(param);
  const size_t B = 3, T = c.context, V = c.vocab;
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, 1, 1, 7, &g)); /* training activations of one token: unused here */
  float *p = params_of(ctx, g);
  int32_t tok[3 * 9];
  for (size_t i = 0; i < B * T; i++) tok[i] = (int32_t)((i * 7 + i * i / 3 + 1) % V);
  double *want = malloc(B * T * V * sizeof *want);
  assert_int_equal(cls_gpt_reference_logits(g, p, tok, B, T, want), 0);

  cls_gpt_infer *s;
  TEST_OK(ctx, cls_gpt_infer_create(g, 4, &s));
  float got[3 * 11];
  double w[3 * 11];
  int32_t col[3], prompt[3 * 4];
  /* Prefills of every length: the last position's logits. */
  for (size_t t = 1; t <= T; t++) {
    int32_t *pre = malloc(B * t * sizeof *pre);
    for (size_t b = 0; b < B; b++) memcpy(pre + b * t, tok + b * T, t * sizeof *pre);
    TEST_OK(ctx, cls_gpt_infer_prefill(s, pre, B, t));
    free(pre);
    TEST_OK(ctx, cls_gpt_infer_logits(s, got));
    for (size_t b = 0; b < B; b++)
      for (size_t v = 0; v < V; v++) w[b * V + v] = want[(b * T + t - 1) * V + v];
    test_expect_close("prefill logits", B * V, got, w, 1e-4, 1e-2);
  }
  /* A prompt of 4, then one token per step: every position. */
  for (size_t b = 0; b < B; b++) memcpy(prompt + b * 4, tok + b * T, 4 * sizeof *prompt);
  TEST_OK(ctx, cls_gpt_infer_prefill(s, prompt, B, 4));
  for (size_t t = 4; t < T; t++) {
    for (size_t b = 0; b < B; b++) col[b] = tok[b * T + t];
    TEST_OK(ctx, cls_gpt_infer_step(s, col));
    assert_int_equal(cls_gpt_infer_position(s), t + 1);
    TEST_OK(ctx, cls_gpt_infer_logits(s, got));
    for (size_t b = 0; b < B; b++)
      for (size_t v = 0; v < V; v++) w[b * V + v] = want[(b * T + t) * V + v];
    char what[64];
    snprintf(what, sizeof what, "step logits at position %zu", t);
    test_expect_close(what, B * V, got, w, 1e-4, 1e-2);
  }
  /* The cache is full: one more step is refused. */
  assert_int_equal(cls_gpt_infer_step(s, col), CLS_ERR_INVALID_SIZE);
  cls_gpt_infer_destroy(s);
  free(want), free(p);
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

static void test_logits_sp(void **state) {
  (void)state;
  check_logits(CLS_PARAM_SP);
}
static void test_logits_mup(void **state) {
  (void)state;
  check_logits(CLS_PARAM_MUP);
}

/* Generates from the tiny model: B prompts of P tokens, gen tokens. */
static void generate(cls_gpt *g, const cls_gpt_sample_config *c, size_t B, size_t P, size_t gen, int32_t *out,
                     size_t *lengths) {
  int32_t prompts[64];
  for (size_t i = 0; i < B * P; i++) prompts[i] = (int32_t)((i * 5 + 3) % 11);
  cls_status st = cls_gpt_sample(g, c, prompts, B, P, gen, out, lengths);
  if (st != CLS_OK) fail_msg("cls_gpt_sample: %s", cls_status_name(st));
}

static void test_sampling(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  const cls_gpt_config c = tiny(CLS_PARAM_SP);
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, 2, 4, 3, &g));
  /* P + gen = context + 1: the last token needs no position. */
  const size_t B = 4, P = 2, gen = 8;
  int32_t a[32], b[32], one[8];
  cls_gpt_sample_config sc;
  cls_gpt_sample_config_default(&sc);
  sc.sampling.seed = 42;
  sc.sampling.temperature = 1.5f; /* flat: the draws vary */
  generate(g, &sc, B, P, gen, a, NULL);
  generate(g, &sc, B, P, gen, b, NULL);
  assert_memory_equal(a, b, sizeof a); /* same seed, same tokens */
  sc.no_cache = 1;
  generate(g, &sc, B, P, gen, b, NULL);
  assert_memory_equal(a, b, sizeof a); /* the cache draws what the whole prefix draws */
  sc.no_cache = 0;
  /* Sequence 2 alone, as sequence 2: the same tokens as in the batch. */
  int32_t prompt2[2] = {(int32_t)((4 * 5 + 3) % 11), (int32_t)((5 * 5 + 3) % 11)};
  sc.first_sequence = 2;
  TEST_OK(ctx, cls_gpt_sample(g, &sc, prompt2, 1, P, gen, one, NULL));
  assert_memory_equal(a + 2 * gen, one, sizeof one);
  sc.first_sequence = 0;
  sc.sampling.seed = 43;
  generate(g, &sc, B, P, gen, b, NULL);
  assert_memory_not_equal(a, b, sizeof a);

  /* Greedy: each token is the reference's argmax after its prefix. */
  sc.sampling.greedy = 1;
  generate(g, &sc, B, P, gen, a, NULL);
  float *p = params_of(ctx, g);
  int32_t seq[9];
  double logits[9 * 11];
  for (size_t r = 0; r < B; r++) {
    for (size_t i = 0; i < P; i++) seq[i] = (int32_t)(((r * P + i) * 5 + 3) % 11);
    memcpy(seq + P, a + r * gen, (gen - 1) * sizeof *seq); /* the last token is no input */
    assert_int_equal(cls_gpt_reference_logits(g, p, seq, 1, P + gen - 1, logits), 0);
    for (size_t i = 0; i < gen; i++) {
      const double *row = logits + (P - 1 + i) * 11;
      size_t best = 0;
      for (size_t v = 1; v < 11; v++)
        if (row[v] > row[best]) best = v;
      assert_int_equal(a[r * gen + i], (int32_t)best);
    }
  }
  /* A stop token: the rows end with it, the rest filled with it. */
  size_t len[4];
  sc.stop_token = a[0 * gen + 2]; /* row 0 stops at index 2 or before */
  generate(g, &sc, B, P, gen, b, len);
  for (size_t r = 0; r < B; r++) {
    size_t first = gen;
    for (size_t i = 0; i < gen && first == gen; i++)
      if (a[r * gen + i] == sc.stop_token) first = i;
    assert_int_equal(len[r], first == gen ? gen : first + 1);
    for (size_t i = 0; i < gen; i++) assert_int_equal(b[r * gen + i], i < len[r] ? a[r * gen + i] : sc.stop_token);
  }
  assert_true(len[0] <= 3);
  free(p);
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

static void test_refusals(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  const cls_gpt_config c = tiny(CLS_PARAM_SP);
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, 1, 1, 3, &g));
  int32_t prompt[16] = {0}, out[16];
  cls_gpt_sample_config sc;
  cls_gpt_sample_config_default(&sc);
  char err[512];
  assert_int_equal(cls_gpt_sample_check(g, &sc, 1, 10, 1, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "`prompt`"));
  TEST_OK(ctx, cls_gpt_sample_check(g, &sc, 1, 9, 1, err, sizeof err)); /* the last token needs no position */
  assert_int_equal(cls_gpt_sample_check(g, &sc, 1, 0, 1, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_gpt_sample_check(g, &sc, 1, 3, 0, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "`length`"));
  assert_int_equal(cls_gpt_sample_check(g, &sc, 1, 3, 8, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "at most 7"));
  TEST_OK(ctx, cls_gpt_sample_check(g, &sc, 1, 3, 7, err, sizeof err));
  sc.stop_token = 11;
  assert_int_equal(cls_gpt_sample_check(g, &sc, 1, 3, 6, err, sizeof err), CLS_ERR_INVALID_VALUE);
  sc.stop_token = -1;
  sc.sampling.temperature = 0;
  assert_int_equal(cls_gpt_sample(g, &sc, prompt, 1, 3, 2, out, NULL), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "temperature"));
  sc.sampling.temperature = 1;
  prompt[1] = 11; /* not a token */
  assert_int_equal(cls_gpt_sample(g, &sc, prompt, 1, 3, 2, out, NULL), CLS_ERR_INVALID_VALUE);
  prompt[1] = 0;
  /* A diverged model: NaN logits are an error, not tokens. */
  const cls_param_table *pt = cls_gpt_params(g);
  float nan = NAN;
  TEST_OK(ctx, cls_buffer_write(ctx, cls_gpt_slabs(g)->params, pt->t[0].offset, 1, &nan));
  assert_int_equal(cls_gpt_sample(g, &sc, prompt, 1, 3, 2, out, NULL), CLS_ERR_NUMERIC);
  assert_non_null(strstr(cls_last_error(ctx), "not finite"));
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_logits_sp),
      cmocka_unit_test(test_logits_mup),
      cmocka_unit_test(test_sampling),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
