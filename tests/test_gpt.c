/*
 * tests/test_gpt.c — the byte-level GPT: the device forward pass against the
 * double-precision host pass, every parameter tensor's gradient against
 * finite differences of that host pass, loss going down, reproducibility,
 * bad configurations.
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
#include "test_util.h"

static cls_gpt_config tiny(cls_parametrisation param) {
  cls_gpt_config c;
  cls_gpt_config_default(&c);
  c.vocab = 11;
  c.context = 6;
  c.width = 8;
  c.depth = 2;
  c.heads = 2;
  c.param = param;
  c.base_width = 4;  /* muP multiplier 2: the muP scalings are exercised */
  c.init_std = 0.3f; /* large enough that every path carries signal */
  return c;
}

static void make_batch(int32_t *tok, int32_t *tgt, size_t n, size_t vocab, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    tok[i] = (int32_t)((i * 7 + seed * 3 + i * i) % vocab);
    tgt[i] = (int32_t)((i * 5 + seed + 1) % vocab);
  }
}

/* ignore: targets 0, 3, 4 and 8 of the ten are CLS_IGNORE_TARGET (an
 * answer-only loss): the loss and gradients are those of the mean over
 * the other six. */
static void check_gradients(cls_parametrisation param, int ignore) {
  cls_context *ctx = test_context(NULL, NULL);
  cls_gpt_config c = tiny(param);
  const size_t B = 2, T = 5;
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, B, T, 42, &g));
  int32_t tok[10], tgt[10];
  make_batch(tok, tgt, B * T, c.vocab, 1);
  if (ignore) tgt[0] = tgt[3] = tgt[4] = tgt[8] = CLS_IGNORE_TARGET;
  const cls_param_table *pt = cls_gpt_params(g);
  cls_param_slabs *s = cls_gpt_slabs(g);
  float *p = malloc(pt->total * sizeof *p), *grad = malloc(pt->total * sizeof *grad);
  TEST_OK(ctx, cls_buffer_read(ctx, s->params, 0, pt->total, p));

  float loss;
  TEST_OK(ctx, cls_param_zero_grads(ctx, pt, s));
  TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, B, T, 1, &loss));
  TEST_OK(ctx, cls_gpt_backward(g));
  TEST_OK(ctx, cls_buffer_read(ctx, s->grads, 0, pt->total, grad));
  double ref = cls_gpt_reference_loss(g, p, tok, tgt, B, T);
  if (fabs(loss - ref) > 1e-5 * fabs(ref)) fail_msg("device loss %.9g, host loss %.9g", loss, ref);

  /* Central differences of the double host loss, tensor by tensor. */
  for (size_t i = 0; i < pt->count; i++) {
    const cls_tensor_desc *d = &pt->t[i];
    double num = 0, den = 0;
    for (size_t j = 0; j < d->rows * d->cols; j++) {
      float *x = &p[d->offset + j], save = *x;
      *x = save + 1e-3f;
      float hi = *x;
      double lp = cls_gpt_reference_loss(g, p, tok, tgt, B, T);
      *x = save - 1e-3f;
      float lo = *x;
      double lm = cls_gpt_reference_loss(g, p, tok, tgt, B, T);
      *x = save;
      double fd = (lp - lm) / ((double)hi - (double)lo);
      double e = grad[d->offset + j] - fd;
      num += e * e;
      den += fd * fd;
    }
    double rel = sqrt(num) / (sqrt(den) + 1e-6);
    printf("  %-5s %-14s relative gradient error %.2e (|g| %.2e)\n", cls_parametrisation_name(param), d->name, rel,
           sqrt(den));
    if (rel > 1e-3) fail_msg("tensor %s: relative gradient error %.3g", d->name, rel);
  }
  free(p);
  free(grad);
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

static void test_gradients_sp(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_SP, 0);
}

static void test_gradients_ignored_targets(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_SP, 1);
}

/* Every target ignored: a defined loss of 0 and zero gradients, no NaN;
 * the per-position losses and the logits read back. */
static void test_all_targets_ignored(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_gpt_config c = tiny(CLS_PARAM_SP);
  const size_t B = 2, T = 5, n = B * T;
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, B, T, 3, &g));
  int32_t tok[10], tgt[10];
  make_batch(tok, tgt, n, c.vocab, 2);
  for (size_t i = 0; i < n; i++) tgt[i] = CLS_IGNORE_TARGET;
  const cls_param_table *pt = cls_gpt_params(g);
  cls_param_slabs *s = cls_gpt_slabs(g);
  float loss = -1, *grad = malloc(pt->total * sizeof *grad), losses[10], *logits = malloc(n * c.vocab * 4);
  TEST_OK(ctx, cls_param_zero_grads(ctx, pt, s));
  TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, B, T, 1, &loss));
  assert_true(loss == 0.0f);
  TEST_OK(ctx, cls_gpt_read_losses(g, losses));
  for (size_t i = 0; i < n; i++) assert_true(losses[i] == 0.0f);
  assert_int_equal(cls_gpt_read_logits(g, logits), CLS_ERR_INVALID_VALUE); /* they are gradients now */
  TEST_OK(ctx, cls_gpt_backward(g));
  TEST_OK(ctx, cls_buffer_read(ctx, s->grads, 0, pt->total, grad));
  for (size_t i = 0; i < pt->total; i++) assert_true(grad[i] == 0.0f);
  /* Without gradients the logits read back; their argmax loss matches. */
  make_batch(tok, tgt, n, c.vocab, 2);
  TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, B, T, 0, &loss));
  TEST_OK(ctx, cls_gpt_read_logits(g, logits));
  TEST_OK(ctx, cls_gpt_read_losses(g, losses));
  double mean = 0;
  for (size_t i = 0; i < n; i++) {
    const float *row = logits + i * c.vocab;
    double m = -INFINITY, z = 0;
    for (size_t v = 0; v < c.vocab; v++) m = fmax(m, row[v]);
    for (size_t v = 0; v < c.vocab; v++) z += exp(row[v] - m);
    double want = m + log(z) - row[tgt[i]];
    assert_true(fabs(losses[i] - want) < 1e-4 * fmax(1.0, want));
    mean += losses[i] / (double)n;
  }
  assert_true(fabs(mean - loss) < 1e-5 * fmax(1.0, mean));
  /* A target below -1 is refused. */
  tgt[2] = -2;
  assert_int_equal(cls_gpt_forward(g, tok, tgt, B, T, 0, &loss), CLS_ERR_INVALID_VALUE);
  free(grad), free(logits);
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

static void test_gradients_mup(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_MUP, 0);
}

/* Depth-muP (nn/blocks_internal.h) on the GPT: the gradients, and the
 * table: at depth 2 the residual projections start at hid_std / sqrt(2)
 * with lr x hid_lr / 2 and decay x sqrt(2), qkv at lr x hid_lr / sqrt(2). */
static void test_mup_depth(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_MUP_DEPTH, 0);
  cls_context *ctx = test_context(NULL, NULL);
  cls_gpt_config c = tiny(CLS_PARAM_MUP_DEPTH);
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, 1, 2, 1, &g));
  const cls_param_table *pt = cls_gpt_params(g);
  const float hid_std = 0.3f / sqrtf(2.0f), hid_lr = 0.5f, a = 1.0f / sqrtf(2.0f);
  int seen = 0;
  for (size_t i = 0; i < pt->count; i++) {
    const cls_tensor_desc *d = &pt->t[i];
    const char *n = strchr(d->name, '.') ? strchr(d->name, '.') + 1 : d->name;
    if (!strcmp(n, "attn.proj.w") || !strcmp(n, "mlp.proj.w")) {
      assert_true(fabsf(d->std - hid_std * a) < 1e-6f && fabsf(d->lr_mult - hid_lr * a * a) < 1e-6f);
      assert_true(fabsf(d->weight_decay - c.weight_decay / a) < 1e-6f);
      seen++;
    } else if (!strcmp(n, "attn.qkv.w") || !strcmp(n, "mlp.fc.w")) {
      assert_true(fabsf(d->std - hid_std) < 1e-6f && fabsf(d->lr_mult - hid_lr * a) < 1e-6f);
      seen++;
    }
  }
  assert_int_equal(seen, 2 * 4);
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

static float train(cls_context *ctx, uint64_t seed, int steps, float *first) {
  cls_gpt_config c;
  cls_gpt_config_default(&c);
  c.context = 16;
  c.width = 32;
  c.depth = 2;
  c.heads = 2;
  const size_t B = 4, T = 16;
  cls_gpt *g;
  TEST_OK(ctx, cls_gpt_create(ctx, &c, B, T, seed, &g));
  /* A learnable sequence: each byte is the previous plus one. */
  int32_t tok[64], tgt[64];
  for (size_t i = 0; i < B * T; i++) {
    tok[i] = (int32_t)(97 + (i * 3 + i / T) % 26);
    tgt[i] = (int32_t)(97 + (i * 3 + i / T + 1) % 26);
  }
  float loss = NAN;
  for (int step = 1; step <= steps; step++) {
    TEST_OK(ctx, cls_param_zero_grads(ctx, cls_gpt_params(g), cls_gpt_slabs(g)));
    TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, B, T, 1, &loss));
    if (step == 1 && first) *first = loss;
    TEST_OK(ctx, cls_gpt_backward(g));
    TEST_OK(ctx, cls_param_adamw(ctx, cls_gpt_params(g), cls_gpt_slabs(g), 3e-3f, 0.9f, 0.95f, 1e-8f,
                                 (unsigned long)step, 1.0f));
  }
  cls_gpt_destroy(g);
  return loss;
}

static void test_loss_goes_down_and_reproduces(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  float first, first2, first3;
  float last = train(ctx, 7, 40, &first);
  printf("  loss %.4f -> %.4f after 40 steps\n", first, last);
  assert_true(fabsf(first - logf(256.0f)) < 0.5f); /* near-uniform at init */
  assert_true(last < 0.5f * first);
  float again = train(ctx, 7, 40, &first2);
  assert_true(again == last); /* same seed, same device: same losses */
  assert_true(first2 == first);
  train(ctx, 8, 1, &first3);
  assert_true(first3 != first);
  cls_context_destroy(ctx);
}

/* The muP coordinate check: train widths 32..256 for three Adam steps at a
 * learning rate that suits the base width, and measure the logits' scale.
 * Under SP the updates add up coherently over a width's worth of
 * coordinates, so the logits grow with width; under muP they stay put. */
static double logit_growth(cls_context *ctx, cls_parametrisation param, double *attn_growth) {
  const size_t widths[] = {32, 64, 128, 256}, B = 4, T = 16;
  double rms[4], attn[4];
  for (size_t w = 0; w < 4; w++) {
    cls_gpt_config c;
    cls_gpt_config_default(&c);
    c.context = T;
    c.width = widths[w];
    c.depth = 2;
    c.heads = 4;
    c.base_width = 32;
    c.param = param;
    cls_gpt *g;
    TEST_OK(ctx, cls_gpt_create(ctx, &c, B, T, 3, &g));
    int32_t tok[64], tgt[64];
    make_batch(tok, tgt, B * T, c.vocab, 2);
    float loss, scales[6];
    for (unsigned long step = 1; step <= 3; step++) {
      TEST_OK(ctx, cls_param_zero_grads(ctx, cls_gpt_params(g), cls_gpt_slabs(g)));
      TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, B, T, 1, &loss));
      TEST_OK(ctx, cls_gpt_backward(g));
      TEST_OK(ctx, cls_param_adamw(ctx, cls_gpt_params(g), cls_gpt_slabs(g), 1e-2f, 0.9f, 0.95f, 1e-8f, step, 0));
    }
    TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, B, T, 0, &loss));
    assert_int_equal(cls_gpt_activation_count(g), 6);
    TEST_OK(ctx, cls_gpt_activation_rms(g, scales));
    rms[w] = scales[5];
    attn[w] = scales[2];
    printf("  %s width %3zu: embedding %.3f attn %.3f %.3f mlp %.3f %.3f logits %.3f\n",
           param == CLS_PARAM_MUP ? "mup" : "sp ", widths[w], scales[0], scales[1], scales[2], scales[3],
           scales[4], scales[5]);
    cls_gpt_destroy(g);
  }
  *attn_growth = attn[3] / attn[0];
  return rms[3] / rms[0];
}

static void test_mup_coordinate_check(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  double sp_attn, mup_attn;
  double sp = logit_growth(ctx, CLS_PARAM_SP, &sp_attn), mup = logit_growth(ctx, CLS_PARAM_MUP, &mup_attn);
  printf("  width 256 over width 32: logits RMS sp %.2f, mup %.2f; last attention output sp %.2f, mup %.2f\n", sp,
         mup, sp_attn, mup_attn);
  assert_true(sp > 3.0 && sp_attn > 3.0);                                  /* grows with width */
  assert_true(mup > 0.5 && mup < 1.6 && mup_attn > 0.6 && mup_attn < 1.6); /* flat */
  cls_context_destroy(ctx);
}

static void test_bad_configs(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_gpt *g = NULL;
  cls_gpt_config c = tiny(CLS_PARAM_SP);
  c.width = 9;
  assert_int_equal(cls_gpt_create(ctx, &c, 1, 4, 1, &g), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "not divisible by heads"));
  c = tiny(CLS_PARAM_SP);
  c.depth = 0;
  assert_int_equal(cls_gpt_create(ctx, &c, 1, 4, 1, &g), CLS_ERR_INVALID_SIZE);
  c = tiny(CLS_PARAM_SP);
  assert_int_equal(cls_gpt_create(ctx, &c, 1, 7, 1, &g), CLS_ERR_INVALID_SIZE); /* beyond the context */
  assert_int_equal(cls_gpt_create(ctx, &c, 0, 4, 1, &g), CLS_ERR_INVALID_SIZE);
  c.init_std = NAN;
  assert_int_equal(cls_gpt_create(ctx, &c, 1, 4, 1, &g), CLS_ERR_INVALID_VALUE);
  assert_null(g);

  c = tiny(CLS_PARAM_SP);
  TEST_OK(ctx, cls_gpt_create(ctx, &c, 2, 4, 1, &g));
  int32_t tok[8] = {0, 1, 2, 3, 4, 5, 6, 7}, tgt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  float loss;
  assert_int_equal(cls_gpt_backward(g), CLS_ERR_INVALID_VALUE); /* no forward yet */
  assert_int_equal(cls_gpt_forward(g, tok, tgt, 3, 4, 1, &loss), CLS_ERR_INVALID_SIZE);
  tok[5] = 11; /* vocab is 11 */
  assert_int_equal(cls_gpt_forward(g, tok, tgt, 2, 4, 1, &loss), CLS_ERR_INVALID_VALUE);
  tok[5] = 5;
  tgt[0] = -2; /* -1 is CLS_IGNORE_TARGET */
  assert_int_equal(cls_gpt_forward(g, tok, tgt, 2, 4, 1, &loss), CLS_ERR_INVALID_VALUE);
  tgt[0] = 1;
  TEST_OK(ctx, cls_gpt_forward(g, tok, tgt, 2, 4, 0, &loss));
  assert_int_equal(cls_gpt_backward(g), CLS_ERR_INVALID_VALUE); /* forward without gradients */
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradients_sp),
      cmocka_unit_test(test_gradients_mup),
      cmocka_unit_test(test_mup_depth),
      cmocka_unit_test(test_gradients_ignored_targets),
      cmocka_unit_test(test_all_targets_ignored),
      cmocka_unit_test(test_loss_goes_down_and_reproduces),
      cmocka_unit_test(test_mup_coordinate_check),
      cmocka_unit_test(test_bad_configs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
