/*
 * tests/test_emulator.c — the spectral emulator: the device forward pass
 * against the double-precision host pass, every parameter tensor's gradient
 * against finite differences of that host pass (SP and muP), loss going
 * down on synthetic spectra, reproducibility, the encoding, bad
 * configurations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/spectra.h"
#include "nn/emulator.h"
#include "test_util.h"

/* Awkward small sizes: 3 labels, 3 tokens, 5 pixels, label MLP of 5. */
static cls_emulator_config tiny(cls_parametrisation param) {
  cls_emulator_config c;
  cls_emulator_config_default(&c);
  c.n_labels = 3;
  c.n_freq = 3;
  c.label_hidden = 5;
  c.n_tokens = 3;
  c.width = 8;
  c.depth = 2;
  c.heads = 2;
  c.param = param;
  c.base_width = 4;  /* muP multiplier 2: the muP scalings are exercised */
  c.init_std = 0.3f; /* large enough that every path carries signal */
  c.period_min = 0.05;
  c.period_max = 1.5;
  return c;
}

/* B spectra x P pixels: labels in [-1, 1], each spectrum its own
 * wavelengths in the window, a flux that depends on both. */
static void make_batch(const cls_emulator_config *c, size_t B, size_t P, unsigned seed, float *labels,
                       float *features, float *target) {
  test_fill_uniform(labels, B * c->n_labels, seed, -1.0f, 1.0f);
  double *wl = malloc(B * P * sizeof *wl);
  for (size_t b = 0; b < B; b++)
    for (size_t k = 0; k < P; k++) {
      double u = fmod(0.137 * (double)(k + 1) + 0.31 * (double)b + 0.07 * seed, 1.0);
      wl[b * P + k] = c->lambda_min * pow(c->lambda_max / c->lambda_min, u);
      target[b * P + k] =
          (float)(1.0 - 0.4 * exp(-20.0 * (u - 0.5) * (u - 0.5)) * (1.2 + labels[b * c->n_labels]));
    }
  cls_emulator_encode(c, wl, B * P, features);
  free(wl);
}

static void check_gradients(cls_parametrisation param) {
  cls_context *ctx = test_context(NULL, NULL);
  cls_emulator_config c = tiny(param);
  const size_t B = 2, P = 5, F = cls_emulator_n_features(&c);
  cls_emulator *e;
  TEST_OK(ctx, cls_emulator_create(ctx, &c, B, P + 2, 42, &e));
  float labels[2 * 3], features[2 * 5 * 6], target[2 * 5];
  assert_int_equal(F, 6);
  make_batch(&c, B, P, 1, labels, features, target);
  const cls_param_table *pt = cls_emulator_params(e);
  cls_param_slabs *s = cls_emulator_slabs(e);
  float *p = malloc(pt->total * sizeof *p), *grad = malloc(pt->total * sizeof *grad);
  TEST_OK(ctx, cls_buffer_read(ctx, s->params, 0, pt->total, p));

  float loss, flux[10];
  double ref_flux[10];
  TEST_OK(ctx, cls_param_zero_grads(ctx, pt, s));
  TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, B, P, 1, &loss));
  TEST_OK(ctx, cls_emulator_read_flux(e, flux));
  TEST_OK(ctx, cls_emulator_backward(e));
  TEST_OK(ctx, cls_buffer_read(ctx, s->grads, 0, pt->total, grad));
  double ref = cls_emulator_reference_loss(e, p, labels, features, target, B, P, ref_flux);
  printf("  %-5s device mse %.9g, host mse %.9g\n", param == CLS_PARAM_MUP ? "mup" : "sp", loss, ref);
  if (fabs(loss - ref) > 1e-5 * fabs(ref)) fail_msg("device loss %.9g, host loss %.9g", loss, ref);
  double ferr = test_max_rel_err(flux, ref_flux, B * P, 1e-3, NULL);
  if (ferr > 1e-5) fail_msg("predicted flux differs from the host's by %.3g relative", ferr);

  /* Central differences of the double host loss, tensor by tensor. */
  double worst = 0;
  for (size_t i = 0; i < pt->count; i++) {
    const cls_tensor_desc *d = &pt->t[i];
    double num = 0, den = 0;
    for (size_t j = 0; j < d->rows * d->cols; j++) {
      float *x = &p[d->offset + j], save = *x;
      *x = save + 1e-3f;
      float hi = *x;
      double lp = cls_emulator_reference_loss(e, p, labels, features, target, B, P, NULL);
      *x = save - 1e-3f;
      float lo = *x;
      double lm = cls_emulator_reference_loss(e, p, labels, features, target, B, P, NULL);
      *x = save;
      double fd = (lp - lm) / ((double)hi - (double)lo);
      double err = grad[d->offset + j] - fd;
      num += err * err;
      den += fd * fd;
    }
    double rel = sqrt(num) / (sqrt(den) + 1e-6);
    if (rel > worst) worst = rel;
    printf("  %-5s %-16s relative gradient error %.2e (|g| %.2e)\n", param == CLS_PARAM_MUP ? "mup" : "sp",
           d->name, rel, sqrt(den));
    if (!(rel < 1e-3)) fail_msg("tensor %s: relative gradient error %.3g", d->name, rel);
    if (!(den > 0)) fail_msg("tensor %s: zero gradient, the check proves nothing", d->name);
  }
  printf("  %-9s worst relative gradient error %.2e over %zu tensors\n", cls_parametrisation_name(param), worst,
         pt->count);
  free(p);
  free(grad);
  cls_emulator_destroy(e);
  cls_context_destroy(ctx);
}

static void test_gradients_sp(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_SP);
}

static void test_gradients_mup(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_MUP);
}

static void test_gradients_mup_depth(void **state) {
  (void)state;
  check_gradients(CLS_PARAM_MUP_DEPTH);
}

/* Depth-muP as a reparametrisation (nn/blocks_internal.h): at depth L the
 * matrices into the residual stream start at hid_std / sqrt(L) (not
 * GPT-2's / sqrt(2 L)) with lr x hid_lr / L and decay x sqrt(L), the
 * blocks' other tensors with lr x 1 / sqrt(L); outside the blocks nothing
 * changes. Under muP the same table has none of it. */
static void test_mup_depth_table(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  for (int p = 0; p < 2; p++) {
    cls_emulator_config c = tiny(p ? CLS_PARAM_MUP_DEPTH : CLS_PARAM_MUP); /* m = 2 */
    c.depth = 4;
    cls_emulator *e;
    TEST_OK(ctx, cls_emulator_create(ctx, &c, 1, 1, 1, &e));
    const cls_param_table *pt = cls_emulator_params(e);
    const float hid_std = 0.3f / sqrtf(2.0f), hid_lr = 0.5f, wd = c.weight_decay, a = p ? 0.5f : 1.0f;
    int seen = 0;
    for (size_t i = 0; i < pt->count; i++) {
      const cls_tensor_desc *d = &pt->t[i];
      const char *n = strchr(d->name, '.') ? strchr(d->name, '.') + 1 : d->name;
      if (!strcmp(n, "attn.o.w") || !strcmp(n, "mlp.proj.w")) {
        const float std = p ? hid_std * a : hid_std / sqrtf(8.0f);
        assert_true(fabsf(d->std - std) < 1e-6f);
        assert_true(fabsf(d->lr_mult - hid_lr * a * a) < 1e-6f);
        assert_true(fabsf(d->weight_decay - wd / a) < 1e-6f);
        seen++;
      } else if (!strcmp(n, "attn.o.b") || !strcmp(n, "mlp.proj.b")) {
        assert_true(fabsf(d->lr_mult - a * a) < 1e-6f);
      } else if (d->name[0] == 'h' &&
                 (!strcmp(n, "attn.q.w") || !strcmp(n, "attn.kv.w") || !strcmp(n, "mlp.fc.w"))) {
        assert_true(fabsf(d->std - hid_std) < 1e-6f);
        assert_true(fabsf(d->lr_mult - hid_lr * a) < 1e-6f);
        assert_true(d->weight_decay == wd);
        seen++;
      } else if (!strcmp(d->name, "head.fc.w")) {
        assert_true(fabsf(d->lr_mult - hid_lr) < 1e-6f); /* outside the blocks */
        seen++;
      }
    }
    assert_int_equal(seen, 4 * 5 + 1);
    cls_emulator_destroy(e);
  }
  cls_context_destroy(ctx);
}

/* The parametrisation lands in the table: init scales and lr multipliers. */
static void test_parametrisation(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_emulator_config c = tiny(CLS_PARAM_MUP); /* width 8, base 4: m = 2 */
  cls_emulator *e;
  TEST_OK(ctx, cls_emulator_create(ctx, &c, 1, 1, 1, &e));
  const cls_param_table *pt = cls_emulator_params(e);
  int seen = 0;
  for (size_t i = 0; i < pt->count; i++) {
    const cls_tensor_desc *d = &pt->t[i];
    if (!strcmp(d->name, "head.out.w")) {
      assert_int_equal(d->klass, CLS_PARAM_OUTPUT);
      assert_true(fabsf(d->std - 0.15f) < 1e-6f && fabsf(d->lr_mult - 0.5f) < 1e-6f);
      seen++;
    } else if (!strcmp(d->name, "h1.attn.q.w")) {
      assert_int_equal(d->klass, CLS_PARAM_HIDDEN);
      assert_true(fabsf(d->std - 0.3f / sqrtf(2.0f)) < 1e-6f && fabsf(d->lr_mult - 0.5f) < 1e-6f);
      seen++;
    } else if (!strcmp(d->name, "lab.proj.w")) {
      assert_true(d->is_embedding && d->klass == CLS_PARAM_INPUT && d->lr_mult == 1.0f);
      seen++;
    }
    if (d->rows == 1 || d->cols == 1) {
      if (strcmp(d->name, "head.out.w")) assert_true(d->weight_decay == 0.0f); /* gains and biases */
    }
  }
  assert_int_equal(seen, 3);
  /* With and without the embedding layers (wavelength and label MLP). */
  const size_t d = 8, T = 3, F = 6, NL = 3, Hm = 5, L = 2;
  size_t emb = F * d + d + NL * Hm + Hm + Hm * T * d + T * d;
  size_t body = d + L * (d + d * d + d + 2 * d * d + 2 * d + d * d + d + d + 4 * d * d + 4 * d + 4 * d * d + d) +
                d + d * d + d + d + 1;
  assert_int_equal(cls_param_count(pt, 1), emb + body);
  assert_int_equal(cls_param_count(pt, 0), body);
  cls_emulator_destroy(e);

  /* The FLOP count matches the matmul FLOPs the ops record (the fused
   * short-sequence attention counts its products as the matmuls would). */
  cls_emulator_config c2 = tiny(CLS_PARAM_SP);
  c2.width = 16;
  const size_t B = 3, P = 7;
  TEST_OK(ctx, cls_emulator_create(ctx, &c2, B, P, 1, &e));
  float labels[9], *features = malloc(B * P * 6 * sizeof *features), target[21];
  make_batch(&c2, B, P, 3, labels, features, target);
  /* A first step lets the auto backend measure its candidates (counted
   * too) before the step that is counted. */
  TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, B, P, 1, NULL));
  TEST_OK(ctx, cls_emulator_backward(e));
  TEST_OK(ctx, cls_finish(ctx));
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, B, P, 1, NULL));
  TEST_OK(ctx, cls_emulator_backward(e));
  cls_counters cn;
  TEST_OK(ctx, cls_counters_get(ctx, &cn));
  double mm = 0;
  for (size_t i = 0; i < cn.op_count; i++)
    if (!strncmp(cn.ops[i].name, "matmul", 6) || !strncmp(cn.ops[i].name, "attention", 9)) mm += cn.ops[i].flops;
  double model = cls_emulator_flops_per_step(e, B, P);
  printf("  flops per step: model %.0f, matmuls counted %.0f, all ops %.0f\n", model, mm, cn.flops);
  assert_true(fabs(mm - model) <= 1e-9 * model);
  assert_true(cn.flops > model);
  free(features);
  cls_emulator_destroy(e);
  cls_context_destroy(ctx);
}

/* The encoding: unit-norm (sin, cos) pairs, the phase of the slowest period
 * over the window as documented. */
static void test_encoding(void **state) {
  (void)state;
  cls_emulator_config c;
  cls_emulator_config_default(&c);
  c.n_freq = 4;
  c.period_min = 0.25;
  c.period_max = 2.0;
  double wl[3] = {c.lambda_min, sqrt(c.lambda_min * c.lambda_max), c.lambda_max};
  float f[3 * 8];
  cls_emulator_encode(&c, wl, 3, f);
  for (size_t i = 0; i < 3; i++)
    for (size_t k = 0; k < 4; k++) assert_true(fabs(hypot(f[i * 8 + 2 * k], f[i * 8 + 2 * k + 1]) - 1.0) < 1e-6);
  /* u = 0: sin 0, cos 1; u = 1/2 with period 2: angle pi/2; u = 1 with
   * period 0.25: angle 8 pi. */
  assert_true(fabsf(f[0]) < 1e-7f && fabsf(f[1] - 1.0f) < 1e-7f);
  assert_true(fabsf(f[8 + 6] - 1.0f) < 1e-6f && fabsf(f[8 + 7]) < 1e-6f);
  assert_true(fabsf(f[16 + 0]) < 1e-6f && fabsf(f[16 + 1] - 1.0f) < 1e-6f);
}

/* Trains on synthetic spectra: the default grid, B spectra x P sampled
 * pixels per step, AdamW. Returns the last loss; the first in *first. */
static float train(cls_context *ctx, cls_spectra *ds, uint64_t seed, int steps, float *first) {
  cls_emulator_config c;
  cls_emulator_config_default(&c);
  c.n_freq = 16;
  c.label_hidden = 32;
  c.n_tokens = 4;
  c.width = 32;
  c.depth = 2;
  c.heads = 2;
  c.period_min = 2e-3;
  enum { B = 8, P = 64 };
  cls_emulator *e;
  TEST_OK(ctx, cls_emulator_create(ctx, &c, B, P, seed, &e));
  const size_t F = cls_emulator_n_features(&c);
  const double *grid = cls_spectra_wavelength(ds);
  uint32_t spec[B], pix[B * P];
  float labels[B * CLS_SPECTRA_N_LABELS], flux[B * P], *features = malloc(B * P * F * sizeof *features);
  double wl[B * P];
  char err[256];
  float loss = NAN;
  for (int step = 1; step <= steps; step++) {
    assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 5, (uint64_t)step, B, P, spec, pix, err, sizeof err),
                     CLS_OK);
    assert_int_equal(cls_spectra_gather(ds, CLS_SPLIT_TRAIN, B, spec, P, pix, labels, flux, err, sizeof err),
                     CLS_OK);
    for (size_t i = 0; i < B * P; i++) wl[i] = grid[pix[i]];
    cls_emulator_encode(&c, wl, B * P, features);
    TEST_OK(ctx, cls_param_zero_grads(ctx, cls_emulator_params(e), cls_emulator_slabs(e)));
    TEST_OK(ctx, cls_emulator_forward(e, labels, features, flux, B, P, 1, &loss));
    if (step == 1 && first) *first = loss;
    TEST_OK(ctx, cls_emulator_backward(e));
    TEST_OK(ctx, cls_param_adamw(ctx, cls_emulator_params(e), cls_emulator_slabs(e), 3e-3f, 0.9f, 0.95f, 1e-8f,
                                 (unsigned long)step, 1.0f));
  }
  free(features);
  cls_emulator_destroy(e);
  return loss;
}

/* The muP coordinate check on the emulator: widths 32..256 trained for three
 * Adam steps at a learning rate that suits the base width; the scale of the
 * last block's attention output and MLP hidden activation, and of the
 * head's hidden activation (which follows an RMSNorm, so SP inflates it
 * less). */
static void coord_growth(cls_context *ctx, cls_parametrisation param, double *attn, double *mlp, double *head) {
  const size_t widths[] = {32, 64, 128, 256};
  enum { B = 4, P = 16 };
  double a[4], m[4], h[4];
  for (size_t w = 0; w < 4; w++) {
    cls_emulator_config c;
    cls_emulator_config_default(&c);
    c.n_freq = 8;
    c.label_hidden = 32;
    c.n_tokens = 4;
    c.width = widths[w];
    c.depth = 2;
    c.heads = 4;
    c.base_width = 32;
    c.param = param;
    cls_emulator *e;
    TEST_OK(ctx, cls_emulator_create(ctx, &c, B, P, 3, &e));
    const size_t F = cls_emulator_n_features(&c);
    float labels[B * 4], target[B * P], *features = malloc(B * P * F * sizeof *features);
    c.n_labels = 4;
    make_batch(&c, B, P, 2, labels, features, target);
    float loss, rms[7];
    for (unsigned long step = 1; step <= 3; step++) {
      TEST_OK(ctx, cls_param_zero_grads(ctx, cls_emulator_params(e), cls_emulator_slabs(e)));
      TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, B, P, 1, &loss));
      TEST_OK(ctx, cls_emulator_backward(e));
      TEST_OK(ctx, cls_param_adamw(ctx, cls_emulator_params(e), cls_emulator_slabs(e), 1e-2f, 0.9f, 0.95f, 1e-8f,
                                   step, 0));
    }
    TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, B, P, 0, &loss));
    assert_int_equal(cls_emulator_activation_count(e), 7);
    TEST_OK(ctx, cls_emulator_activation_rms(e, rms));
    printf("  %s width %3zu: tokens %.3f attn %.3f %.3f mlp %.3f %.3f head %.3f flux %.3f\n",
           param == CLS_PARAM_MUP ? "mup" : "sp ", widths[w], rms[0], rms[1], rms[2], rms[3], rms[4], rms[5],
           rms[6]);
    a[w] = rms[2];
    m[w] = rms[4];
    h[w] = rms[5];
    free(features);
    cls_emulator_destroy(e);
  }
  *attn = a[3] / a[0];
  *mlp = m[3] / m[0];
  *head = h[3] / h[0];
}

static void test_mup_coordinate_check(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  double sp_attn, sp_mlp, sp_head, mup_attn, mup_mlp, mup_head;
  coord_growth(ctx, CLS_PARAM_SP, &sp_attn, &sp_mlp, &sp_head);
  coord_growth(ctx, CLS_PARAM_MUP, &mup_attn, &mup_mlp, &mup_head);
  printf("  width 256 over width 32: last attention output sp %.2f, mup %.2f; last MLP hidden sp %.2f, mup %.2f; "
         "head hidden sp %.2f, mup %.2f\n",
         sp_attn, mup_attn, sp_mlp, mup_mlp, sp_head, mup_head);
  assert_true(sp_attn > 2.5 && sp_mlp > 2.5 && sp_head > 1.5); /* grows with width */
  assert_true(mup_attn > 0.6 && mup_attn < 1.6 && mup_mlp > 0.6 && mup_mlp < 1.6 && mup_head > 0.6 &&
              mup_head < 1.6); /* flat */
  cls_context_destroy(ctx);
}

static void test_loss_goes_down_and_reproduces(void **state) {
  (void)state;
  cls_spectra_config sc;
  cls_spectra_config_default(&sc);
  sc.n_train = 64;
  sc.n_val = 0;
  sc.n_test = 0;
  cls_spectra *ds;
  char err[256];
  assert_int_equal(cls_spectra_create(&sc, &ds, err, sizeof err), CLS_OK);
  cls_context *ctx = test_context(NULL, NULL);
  float first, first2, first3;
  float last = train(ctx, ds, 7, 60, &first);
  printf("  mse %.5f -> %.5f after 60 steps\n", first, last);
  assert_true(isfinite(first) && first > 0);
  assert_true(last < 0.5f * first);
  float again = train(ctx, ds, 7, 60, &first2);
  assert_true(again == last); /* same seed, same device: same losses */
  assert_true(first2 == first);
  train(ctx, ds, 8, 1, &first3);
  assert_true(first3 != first);
  cls_context_destroy(ctx);
  cls_spectra_destroy(ds);
}

static void expect_config_error(cls_context *ctx, const cls_emulator_config *c, cls_status want, const char *msg) {
  cls_emulator *e = (cls_emulator *)1;
  assert_int_equal(cls_emulator_create(ctx, c, 1, 4, 1, &e), want);
  assert_null(e);
  if (!strstr(cls_last_error(ctx), msg)) fail_msg("error '%s' does not say '%s'", cls_last_error(ctx), msg);
}

static void test_bad_configs(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_emulator_config c = tiny(CLS_PARAM_SP);
  c.width = 9;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_VALUE, "not divisible by heads");
  c = tiny(CLS_PARAM_SP);
  c.depth = 0;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_SIZE, "at least 1");
  c = tiny(CLS_PARAM_SP);
  c.n_tokens = 0;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_SIZE, "n_tokens");
  c = tiny(CLS_PARAM_SP);
  c.n_labels = 0;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_SIZE, "n_labels");
  c = tiny(CLS_PARAM_SP);
  c.n_freq = 0;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_SIZE, "n_freq");
  c = tiny(CLS_PARAM_MUP);
  c.base_width = 3;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_VALUE, "base width");
  c = tiny(CLS_PARAM_SP);
  c.init_std = NAN;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_VALUE, "init_std");
  c = tiny(CLS_PARAM_SP);
  c.lambda_max = c.lambda_min;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_VALUE, "lambda_min < lambda_max");
  c = tiny(CLS_PARAM_SP);
  c.period_min = 0;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_VALUE, "period_min");
  c = tiny(CLS_PARAM_SP);
  c.param = (cls_parametrisation)7;
  expect_config_error(ctx, &c, CLS_ERR_INVALID_VALUE, "parametrisation");
  c = tiny(CLS_PARAM_SP);
  cls_emulator *e = NULL;
  assert_int_equal(cls_emulator_create(ctx, &c, 0, 4, 1, &e), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_emulator_create(ctx, &c, (size_t)1 << 20, (size_t)1 << 20, 1, &e), CLS_ERR_INVALID_SIZE);
  assert_null(e);

  /* Bad calls on a good model. */
  TEST_OK(ctx, cls_emulator_create(ctx, &c, 2, 4, 1, &e));
  float labels[6], features[8 * 6], target[8], loss, flux[8];
  make_batch(&c, 2, 4, 2, labels, features, target);
  assert_int_equal(cls_emulator_backward(e), CLS_ERR_INVALID_VALUE); /* no forward yet */
  assert_int_equal(cls_emulator_read_flux(e, flux), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_emulator_forward(e, labels, features, target, 3, 4, 1, &loss), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_emulator_forward(e, labels, features, target, 2, 5, 1, &loss), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_emulator_forward(e, NULL, features, target, 2, 4, 1, &loss), CLS_ERR_NULL_ARGUMENT);
  target[3] = NAN;
  assert_int_equal(cls_emulator_forward(e, labels, features, target, 2, 4, 1, &loss), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "target[3]"));
  target[3] = 0.5f;
  TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, 2, 4, 0, &loss));
  assert_int_equal(cls_emulator_backward(e), CLS_ERR_INVALID_VALUE); /* forward without gradients */
  TEST_OK(ctx, cls_emulator_forward(e, labels, features, target, 2, 4, 1, &loss));
  TEST_OK(ctx, cls_emulator_backward(e));
  assert_int_equal(cls_emulator_backward(e), CLS_ERR_INVALID_VALUE); /* twice */
  cls_emulator_destroy(e);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradients_sp),         cmocka_unit_test(test_gradients_mup),
      cmocka_unit_test(test_gradients_mup_depth),  cmocka_unit_test(test_mup_depth_table),
      cmocka_unit_test(test_parametrisation),      cmocka_unit_test(test_encoding),
      cmocka_unit_test(test_mup_coordinate_check), cmocka_unit_test(test_loss_goes_down_and_reproduces),
      cmocka_unit_test(test_bad_configs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
