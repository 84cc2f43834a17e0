/*
 * tests/test_adamw.c — AdamW against the double reference over several
 * steps, with and without weight decay and clipping by global norm (the
 * norm computed on the device by cls_sumsq_ranges, never read back), on
 * awkward sizes and offsets; a non-finite norm; every bad argument.
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

/* Two parameter groups of sizes n1, n2 in one slab (param, grad, m, v each
 * a slab with a gap), five steps with fresh gradients each step, one
 * global norm over both groups' gradients. */
static void run_case(cls_context *ctx, size_t n1, size_t n2, float wd, float max_norm, float beta1) {
  size_t o1 = 2, o2 = 2 + n1 + 3, total = o2 + n2 + 1;
  float *hp = test_random_floats(total, n1 * 7 + n2, -1, 1);
  cls_buffer *p = test_upload(ctx, hp, total), *g = NULL, *m = NULL, *v = NULL, *ss = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, total, &g));
  TEST_OK(ctx, cls_buffer_alloc(ctx, total, &m));
  TEST_OK(ctx, cls_buffer_alloc(ctx, total, &v));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 3, &ss));
  TEST_OK(ctx, cls_buffer_fill(ctx, m, 0, total, 0.0f));
  TEST_OK(ctx, cls_buffer_fill(ctx, v, 0, total, 0.0f));
  double *rp = malloc(total * sizeof *rp), *rm = calloc(total, sizeof *rm), *rv = calloc(total, sizeof *rv);
  double *rg = malloc(total * sizeof *rg);
  for (size_t i = 0; i < total; i++) rp[i] = hp[i];

  cls_adamw_params hp1, hp2;
  cls_adamw_params_init(&hp1);
  hp1.lr = 0.01f;
  hp1.beta1 = beta1;
  hp1.weight_decay = wd;
  hp1.max_norm = max_norm;
  hp2 = hp1;
  hp2.lr = 0.003f; /* another group's multiplier already applied */
  hp2.weight_decay = 0.0f;
  cls_ref rr[2] = {cls_ref_at(g, o1), cls_ref_at(g, o2)};
  size_t len[2] = {n1, n2};
  for (unsigned long step = 1; step <= 5; step++) {
    float *hg = test_random_floats(total, 1000 * step + n1, -2, 2);
    TEST_OK(ctx, cls_buffer_write(ctx, g, 0, total, hg));
    double sumsq = 0;
    for (size_t i = 0; i < total; i++) rg[i] = hg[i];
    for (size_t i = 0; i < n1; i++) sumsq += rg[o1 + i] * rg[o1 + i];
    for (size_t i = 0; i < n2; i++) sumsq += rg[o2 + i] * rg[o2 + i];
    TEST_OK(ctx, cls_sumsq_ranges(ctx, 2, rr, len, cls_ref_at(ss, 1)));
    hp1.step = hp2.step = step;
    TEST_OK(ctx, cls_adamw_step(ctx, n1, &hp1, cls_ref_at(p, o1), cls_ref_at(g, o1), cls_ref_at(m, o1),
                                cls_ref_at(v, o1), max_norm > 0 ? cls_ref_at(ss, 1) : CLS_NOREF));
    TEST_OK(ctx, cls_adamw_step(ctx, n2, &hp2, cls_ref_at(p, o2), cls_ref_at(g, o2), cls_ref_at(m, o2),
                                cls_ref_at(v, o2), max_norm > 0 ? cls_ref_at(ss, 1) : CLS_NOREF));
    cls__ref_adamw_step(n1, &hp1, rp + o1, rg + o1, rm + o1, rv + o1, sumsq);
    cls__ref_adamw_step(n2, &hp2, rp + o2, rg + o2, rm + o2, rv + o2, sumsq);
    free(hg);
  }
  float *gp = test_read_at(ctx, p, 0, total), *gm = test_read_at(ctx, m, 0, total),
        *gv = test_read_at(ctx, v, 0, total);
  /* Parameters move by ~lr per step: compare relative to 1 (their scale). */
  test_expect_close("adamw param", total, gp, rp, 2e-6, 1.0);
  /* m sums gradients of either sign (cancellation): its error is relative
   * to the size of the moments, not to each entry. */
  double mmax = 0, vmax = 0;
  for (size_t i = 0; i < total; i++) mmax = fmax(mmax, fabs(rm[i])), vmax = fmax(vmax, rv[i]);
  test_expect_close("adamw m", total, gm, rm, 1e-5, 0.01 * mmax + 1e-30);
  test_expect_close("adamw v", total, gv, rv, 1e-5, 0.01 * vmax + 1e-30);
  /* The gaps between the groups are untouched. */
  assert_true(gp[0] == hp[0] && gp[o1 + n1] == hp[o1 + n1] && gp[total - 1] == hp[total - 1]);
  assert_true(gm[0] == 0.0f && gv[o2 - 1] == 0.0f);
  free(gp), free(gm), free(gv), free(hp), free(rp), free(rm), free(rv), free(rg);
  cls_buffer_free(p), cls_buffer_free(g), cls_buffer_free(m), cls_buffer_free(v), cls_buffer_free(ss);
}

static void test_steps(void **state) {
  cls_context *ctx = *state;
  static const size_t sizes[] = {1, 2, 3, 7, 31, 64, 127, 1000, 4099};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n1 = sizes[i], n2 = sizes[(i + 3) % 9];
    run_case(ctx, n1, n2, 0.0f, 0.0f, 0.9f); /* plain Adam, no clipping */
    run_case(ctx, n1, n2, 0.1f, 0.0f, 0.9f); /* weight decay */
    run_case(ctx, n1, n2, 0.1f, 0.5f, 0.9f); /* clipping active (norms are ~1..70) */
    run_case(ctx, n1, n2, 0.0f, 1e6f, 0.0f); /* clipping inactive, beta1 = 0 */
  }
}

/* The slab in one launch: groups of awkward sizes (1, primes, ends that
 * split vectors) with their own rate multipliers and decays, at an offset,
 * five steps, against the reference run group by group. */
static void run_groups(cls_context *ctx, const size_t *sizes, size_t count, float max_norm) {
  size_t n = 0;
  cls_adamw_group groups[8];
  for (size_t i = 0; i < count; i++) {
    n += sizes[i];
    groups[i].end = n;
    groups[i].lr_mult = i % 3 == 0 ? 1.0f : i % 3 == 1 ? 0.25f : 3.0f;
    groups[i].weight_decay = i % 2 ? 0.0f : 0.1f;
  }
  const size_t off = 5, total = off + n + 2;
  float *hp = test_random_floats(total, n * 3 + count, -1, 1);
  cls_buffer *p = test_upload(ctx, hp, total), *g = NULL, *m = NULL, *v = NULL, *ss = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, total, &g));
  TEST_OK(ctx, cls_buffer_alloc(ctx, total, &m));
  TEST_OK(ctx, cls_buffer_alloc(ctx, total, &v));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 1, &ss));
  TEST_OK(ctx, cls_buffer_fill(ctx, m, 0, total, 0.0f));
  TEST_OK(ctx, cls_buffer_fill(ctx, v, 0, total, 0.0f));
  double *rp = malloc(total * sizeof *rp), *rm = calloc(total, sizeof *rm), *rv = calloc(total, sizeof *rv);
  double *rg = malloc(total * sizeof *rg);
  for (size_t i = 0; i < total; i++) rp[i] = hp[i];
  cls_adamw_params h;
  cls_adamw_params_init(&h);
  h.lr = 0.01f;
  h.max_norm = max_norm;
  h.weight_decay = 5.0f; /* not used by the grouped step */
  cls_ref gr = cls_ref_at(g, off);
  for (unsigned long step = 1; step <= 5; step++) {
    float *hg = test_random_floats(total, 77 * step + n, -2, 2);
    TEST_OK(ctx, cls_buffer_write(ctx, g, 0, total, hg));
    double sumsq = 0;
    for (size_t i = 0; i < total; i++) rg[i] = hg[i];
    for (size_t i = 0; i < n; i++) sumsq += rg[off + i] * rg[off + i];
    TEST_OK(ctx, cls_sumsq_ranges(ctx, 1, &gr, &n, cls_ref_at(ss, 0)));
    h.step = step;
    TEST_OK(ctx, cls_adamw_step_groups(ctx, n, &h, count, groups, cls_ref_at(p, off), gr, cls_ref_at(m, off),
                                       cls_ref_at(v, off), max_norm > 0 ? cls_ref_at(ss, 0) : CLS_NOREF));
    for (size_t i = 0, start = 0; i < count; start = groups[i++].end) {
      cls_adamw_params hg1 = h;
      hg1.lr = h.lr * groups[i].lr_mult;
      hg1.weight_decay = groups[i].weight_decay;
      const size_t at = off + start, len = groups[i].end - start;
      cls__ref_adamw_step(len, &hg1, rp + at, rg + at, rm + at, rv + at, sumsq);
    }
    free(hg);
  }
  float *gp = test_read_at(ctx, p, 0, total), *gm = test_read_at(ctx, m, 0, total);
  test_expect_close("adamw groups param", total, gp, rp, 2e-6, 1.0);
  double mmax = 0;
  for (size_t i = 0; i < total; i++) mmax = fmax(mmax, fabs(rm[i]));
  test_expect_close("adamw groups m", total, gm, rm, 1e-5, 0.01 * mmax + 1e-30);
  /* Outside the slab nothing moves. */
  for (size_t i = 0; i < off; i++) assert_true(gp[i] == hp[i] && gm[i] == 0.0f);
  assert_true(gp[total - 1] == hp[total - 1] && gp[total - 2] == hp[total - 2]);
  free(gp), free(gm), free(hp), free(rp), free(rm), free(rv), free(rg);
  cls_buffer_free(p), cls_buffer_free(g), cls_buffer_free(m), cls_buffer_free(v), cls_buffer_free(ss);
}

static void test_groups(void **state) {
  cls_context *ctx = *state;
  static const size_t one[] = {1}, primes[] = {7, 31, 1, 97, 3}, aligned[] = {16, 64, 48, 1024},
                      odd[] = {17, 15, 33, 1, 2, 4099};
  run_groups(ctx, one, 1, 0.0f);
  run_groups(ctx, primes, 5, 0.0f);
  run_groups(ctx, primes, 5, 0.5f); /* clipping active */
  run_groups(ctx, aligned, 4, 0.0f);
  run_groups(ctx, odd, 6, 1e6f); /* clipping inactive; the table changes between calls */
  run_groups(ctx, aligned, 4, 0.5f);
}

/* Models side by side (cls_adamw_step_models, norms by cls_reduce_models)
 * against one cls_sumsq_ranges + cls_adamw_step_groups per model on a copy
 * of the same slabs: bitwise equal params, m and v after three steps, each
 * model at its own lr and step, some clipped and some not, stride n or
 * more (the gaps untouched). */
static void run_models(cls_context *ctx, const size_t *sizes, size_t count, size_t models, size_t gap,
                       float max_norm) {
  size_t n = 0;
  cls_adamw_group groups[8];
  for (size_t i = 0; i < count; i++) {
    n += sizes[i];
    groups[i].end = n;
    groups[i].lr_mult = i % 3 == 0 ? 1.0f : i % 3 == 1 ? 0.25f : 3.0f;
    groups[i].weight_decay = i % 2 ? 0.0f : 0.1f;
  }
  const size_t stride = n + gap, off = 3, total = off + models * stride;
  float *h0 = test_random_floats(total, 5 * n + models, -1, 1);
  cls_buffer *b[2][5]; /* [models form, one by one][p, g, m, v, sumsq] */
  for (int f = 0; f < 2; f++) {
    b[f][0] = test_upload(ctx, h0, total);
    for (int j = 1; j < 4; j++) {
      TEST_OK(ctx, cls_buffer_alloc(ctx, total, &b[f][j]));
      TEST_OK(ctx, cls_buffer_fill(ctx, b[f][j], 0, total, 0.0f));
    }
    TEST_OK(ctx, cls_buffer_alloc(ctx, models, &b[f][4]));
  }
  float lr[8];
  unsigned long stepno[8];
  cls_adamw_params h;
  cls_adamw_params_init(&h);
  h.max_norm = max_norm;
  for (unsigned long t = 1; t <= 3; t++) {
    float *hg = test_random_floats(total, 91 * t + n + models, -2, 2);
    for (size_t k = 0; k < models; k++) {
      lr[k] = 0.003f * (float)(k + 1) / (float)t;
      stepno[k] = t + 2 * k; /* models at different points of their runs */
      if (k % 2)             /* small gradients: under the clip */
        for (size_t i = 0; i < n; i++) hg[off + k * stride + i] *= 1e-3f;
    }
    for (int f = 0; f < 2; f++) TEST_OK(ctx, cls_buffer_write(ctx, b[f][1], 0, total, hg));
    cls_ref P = cls_ref_at(b[0][0], off), G = cls_ref_at(b[0][1], off), M = cls_ref_at(b[0][2], off),
            V = cls_ref_at(b[0][3], off);
    if (max_norm > 0)
      TEST_OK(ctx, cls_reduce_models(ctx, CLS_REDUCE_SUMSQ, models, n, G, stride, 1.0f, cls_ref_at(b[0][4], 0)));
    TEST_OK(ctx, cls_adamw_step_models(ctx, models, n, stride, &h, lr, stepno, count, groups, P, G, M, V,
                                       max_norm > 0 ? cls_ref_at(b[0][4], 0) : CLS_NOREF));
    for (size_t k = 0; k < models; k++) {
      const size_t at = off + k * stride;
      cls_ref g1 = cls_ref_at(b[1][1], at);
      if (max_norm > 0) TEST_OK(ctx, cls_sumsq_ranges(ctx, 1, &g1, &n, cls_ref_at(b[1][4], 0)));
      cls_adamw_params h1 = h;
      h1.lr = lr[k];
      h1.step = stepno[k];
      TEST_OK(ctx, cls_adamw_step_groups(ctx, n, &h1, count, groups, cls_ref_at(b[1][0], at), g1,
                                         cls_ref_at(b[1][2], at), cls_ref_at(b[1][3], at),
                                         max_norm > 0 ? cls_ref_at(b[1][4], 0) : CLS_NOREF));
    }
    free(hg);
  }
  static const char *what[4] = {"param", "grad", "m", "v"};
  for (int j = 0; j < 4; j++) {
    float *x = test_read_at(ctx, b[0][j], 0, total), *y = test_read_at(ctx, b[1][j], 0, total);
    for (size_t i = 0; i < total; i++)
      if (memcmp(&x[i], &y[i], sizeof(float)))
        fail_msg("adamw models (%zu models, n %zu, stride %zu, clip %g): %s[%zu] is %.9g, alone %.9g", models, n,
                 stride, (double)max_norm, what[j], i, (double)x[i], (double)y[i]);
    if (j == 0) /* the gaps between the models keep their values */
      for (size_t k = 0; k < models; k++)
        for (size_t i = off + k * stride + n; i < off + (k + 1) * stride; i++) assert_true(x[i] == h0[i]);
    free(x), free(y);
  }
  free(h0);
  for (int f = 0; f < 2; f++)
    for (int j = 0; j < 5; j++) cls_buffer_free(b[f][j]);
}

static void test_models(void **state) {
  cls_context *ctx = *state;
  static const size_t one[] = {1}, primes[] = {7, 31, 1, 97, 3}, aligned[] = {16, 64, 48, 1024},
                      big[] = {3000, 17, 40000};
  for (size_t models = 1; models <= 5; models += 2) {
    run_models(ctx, one, 1, models, 0, 0.0f);
    run_models(ctx, one, 1, models, 5, 0.5f);
    run_models(ctx, primes, 5, models, 0, 2.0f); /* some models clipped, some not */
    run_models(ctx, primes, 5, models, 13, 0.0f);
    run_models(ctx, aligned, 4, models, 16, 3.0f);
  }
  /* Several partial sums per model (chunks of the norm), when not on a
   * simulator. */
  if (!test_small()) run_models(ctx, big, 3, 4, 11, 5.0f);
}

/* A NaN (or infinite) global norm turns every parameter NaN. */
static void test_nonfinite_norm(void **state) {
  cls_context *ctx = *state;
  float one[8] = {1, 1, 1, 1, 1, 1, 1, 1}, bad[2] = {NAN, INFINITY};
  for (int k = 0; k < 2; k++) {
    cls_buffer *p = test_upload(ctx, one, 8), *g = test_upload(ctx, one, 8), *m = test_upload(ctx, one, 8);
    cls_buffer *v = test_upload(ctx, one, 8), *ss = test_upload(ctx, bad + k, 1);
    cls_adamw_params hp;
    cls_adamw_params_init(&hp);
    hp.max_norm = 1.0f;
    TEST_OK(ctx, cls_adamw_step(ctx, 8, &hp, cls_ref_at(p, 0), cls_ref_at(g, 0), cls_ref_at(m, 0),
                                cls_ref_at(v, 0), cls_ref_at(ss, 0)));
    float *gp = test_download(ctx, p);
    for (int i = 0; i < 8; i++) assert_true(isnan(gp[i]));
    free(gp);
    cls_buffer_free(p), cls_buffer_free(g), cls_buffer_free(m), cls_buffer_free(v), cls_buffer_free(ss);
  }
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
  float h[64];
  test_fill_uniform(h, 64, 3, -1, 1);
  cls_buffer *p = test_upload(ctx, h, 64), *g = test_upload(ctx, h, 64), *m = test_upload(ctx, h, 64);
  cls_buffer *v = test_upload(ctx, h, 64), *ss = test_upload(ctx, h, 2);
  cls_context *other = test_context(NULL, NULL);
  cls_buffer *foreign = NULL;
  TEST_OK(other, cls_buffer_alloc(other, 64, &foreign));
  cls_ref P = cls_ref_at(p, 0), G = cls_ref_at(g, 0), M = cls_ref_at(m, 0), V = cls_ref_at(v, 0),
          S = cls_ref_at(ss, 1);
  cls_adamw_params ok, hp;
  cls_adamw_params_init(&ok);
  ok.max_norm = 1.0f;

#define WITH(field, value, status)                                                                                \
  do {                                                                                                            \
    hp = ok;                                                                                                      \
    hp.field = value;                                                                                             \
    EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &hp, P, G, M, V, S), status, p);                                  \
  } while (0)
  WITH(lr, NAN, CLS_ERR_INVALID_VALUE);
  WITH(lr, -1e-3f, CLS_ERR_INVALID_VALUE);
  WITH(lr, INFINITY, CLS_ERR_INVALID_VALUE);
  WITH(beta1, 1.0f, CLS_ERR_INVALID_VALUE);
  WITH(beta1, -0.1f, CLS_ERR_INVALID_VALUE);
  WITH(beta1, NAN, CLS_ERR_INVALID_VALUE);
  WITH(beta2, 1.0f, CLS_ERR_INVALID_VALUE);
  WITH(beta2, 1.5f, CLS_ERR_INVALID_VALUE);
  WITH(beta2, NAN, CLS_ERR_INVALID_VALUE);
  WITH(eps, 0.0f, CLS_ERR_INVALID_VALUE);
  WITH(eps, -1e-8f, CLS_ERR_INVALID_VALUE);
  WITH(eps, NAN, CLS_ERR_INVALID_VALUE);
  WITH(eps, INFINITY, CLS_ERR_INVALID_VALUE);
  WITH(weight_decay, -0.1f, CLS_ERR_INVALID_VALUE);
  WITH(weight_decay, NAN, CLS_ERR_INVALID_VALUE);
  WITH(weight_decay, 2000.0f, CLS_ERR_INVALID_VALUE); /* lr x wd > 1 */
  WITH(step, 0, CLS_ERR_INVALID_VALUE);
  WITH(max_norm, NAN, CLS_ERR_INVALID_VALUE);
  WITH(max_norm, INFINITY, CLS_ERR_INVALID_VALUE);
#undef WITH

  assert_int_equal(cls_adamw_step(NULL, 16, &ok, P, G, M, V, S), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, NULL, P, G, M, V, S), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 0, &ok, P, G, M, V, S), CLS_ERR_INVALID_SIZE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, V, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, CLS_NOREF, G, M, V, S), CLS_ERR_NULL_ARGUMENT, m);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, CLS_NOREF, M, V, S), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, CLS_NOREF, V, S), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, CLS_NOREF, S), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 65, &ok, P, G, M, V, S), CLS_ERR_BUFFER_TOO_SMALL, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, cls_ref_at(m, 49), V, S), CLS_ERR_BUFFER_TOO_SMALL, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, V, cls_ref_at(ss, 2)), CLS_ERR_BUFFER_TOO_SMALL, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, cls_ref_at(p, 8), M, V, S), CLS_ERR_INVALID_VALUE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, cls_ref_at(g, 15), V, S), CLS_ERR_INVALID_VALUE, g);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, cls_ref_at(m, 0), S), CLS_ERR_INVALID_VALUE, m);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, V, cls_ref_at(p, 3)), CLS_ERR_INVALID_VALUE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, V, cls_ref_at(v, 15)), CLS_ERR_INVALID_VALUE, v);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, V, cls_ref_at(foreign, 0)), CLS_ERR_WRONG_CONTEXT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step(ctx, 16, &ok, cls_ref_at(foreign, 0), G, M, V, S), CLS_ERR_WRONG_CONTEXT, m);
  /* Without clipping the norm is not needed (and not checked). */
  hp = ok;
  hp.max_norm = 0.0f;
  TEST_OK(ctx, cls_adamw_step(ctx, 16, &hp, P, G, M, V, CLS_NOREF));
  hp.max_norm = -1.0f;
  TEST_OK(ctx, cls_adamw_step(ctx, 16, &hp, P, G, M, V, CLS_NOREF));
  /* The gradient may overlap the norm buffer (both are only read). */
  TEST_OK(ctx, cls_adamw_step(ctx, 16, &ok, P, G, M, V, cls_ref_at(g, 3)));

  /* The grouped step: the same array checks, and a bad group table. */
  cls_adamw_group gs[3] = {{4, 1.0f, 0.1f}, {9, 0.5f, 0.0f}, {16, 2.0f, 0.1f}};
  TEST_OK(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, gs, P, G, M, V, S));
  assert_int_equal(cls_adamw_step_groups(NULL, 16, &ok, 3, gs, P, G, M, V, S), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, NULL, 3, gs, P, G, M, V, S), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, NULL, P, G, M, V, S), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 0, gs, P, G, M, V, S), CLS_ERR_INVALID_SIZE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 17, &ok, 3, gs, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 2, gs, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, gs, P, G, M, V, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, gs, P, cls_ref_at(p, 8), M, V, S),
                 CLS_ERR_INVALID_VALUE, p);
  cls_adamw_group bad[3];
  memcpy(bad, gs, sizeof bad);
  bad[1].end = 4; /* not increasing */
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, bad, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);
  assert_non_null(strstr(cls_last_error(ctx), "groups[1]"));
  memcpy(bad, gs, sizeof bad);
  bad[0].end = 0;
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, bad, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);
  memcpy(bad, gs, sizeof bad);
  bad[2].lr_mult = NAN;
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, bad, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);
  memcpy(bad, gs, sizeof bad);
  bad[1].weight_decay = -1.0f;
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, bad, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);
  memcpy(bad, gs, sizeof bad);
  bad[2].lr_mult = 1e3f; /* lr 1e-3 x 1e3 x 0.1 x ... > 1 with this decay */
  bad[2].weight_decay = 2.0f;
  EXPECT_REFUSED(ctx, cls_adamw_step_groups(ctx, 16, &ok, 3, bad, P, G, M, V, S), CLS_ERR_INVALID_VALUE, p);

  /* Models side by side: two models of 16 parameters, 32 apart. */
  float lrs[3] = {1e-3f, 2e-3f, 3e-3f};
  unsigned long steps[3] = {1, 7, 2};
  cls_ref S2 = cls_ref_at(ss, 0);
  TEST_OK(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, lrs, steps, 3, gs, P, G, M, V, S2));
  assert_int_equal(cls_adamw_step_models(NULL, 2, 16, 32, &ok, lrs, steps, 3, gs, P, G, M, V, S2),
                   CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, NULL, steps, 3, gs, P, G, M, V, S2),
                 CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, lrs, NULL, 3, gs, P, G, M, V, S2),
                 CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 0, 16, 32, &ok, lrs, steps, 3, gs, P, G, M, V, S2),
                 CLS_ERR_INVALID_SIZE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 15, &ok, lrs, steps, 3, gs, P, G, M, V, S2),
                 CLS_ERR_INVALID_VALUE, p);
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 3, 16, 32, &ok, lrs, steps, 3, gs, P, G, M, V, S2),
                 CLS_ERR_BUFFER_TOO_SMALL, p); /* 80 floats beyond the 64-float slabs */
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, lrs, steps, 3, gs, P, G, M, V, S),
                 CLS_ERR_BUFFER_TOO_SMALL, p); /* two norms from the buffer's last float */
  float badlr[2] = {1e-3f, NAN};
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, badlr, steps, 3, gs, P, G, M, V, S2),
                 CLS_ERR_INVALID_VALUE, p);
  assert_non_null(strstr(cls_last_error(ctx), "model 1"));
  unsigned long badstep[2] = {0, 1};
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, lrs, badstep, 3, gs, P, G, M, V, S2),
                 CLS_ERR_INVALID_VALUE, p);
  assert_non_null(strstr(cls_last_error(ctx), "model 0"));
  EXPECT_REFUSED(ctx, cls_adamw_step_models(ctx, 2, 16, 32, &ok, lrs, steps, 3, gs, P, G, M, V, CLS_NOREF),
                 CLS_ERR_NULL_ARGUMENT, p);

  cls_buffer_free(p), cls_buffer_free(g), cls_buffer_free(m), cls_buffer_free(v), cls_buffer_free(ss);
  cls_buffer_free(foreign);
  cls_context_destroy(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_steps),          cmocka_unit_test(test_groups),        cmocka_unit_test(test_models),
      cmocka_unit_test(test_nonfinite_norm), cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
