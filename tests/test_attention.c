/*
 * tests/test_attention.c — multi-head attention against the double
 * reference: self (causal) and cross attention, packed and padded layouts,
 * accumulation; the reference's backward against finite differences; bad
 * arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention_ref.h"
#include "test_util.h"

typedef struct {
  size_t B, tq, tk, H, dh;
  int causal;
} case_t;

/* Where operand `name` of a case lives on the device: a padded layout. */
typedef struct {
  size_t offset, ld, stride;
} layout;

static layout padded(size_t t, size_t c, size_t pad_ld, size_t pad_stride, size_t offset) {
  layout l = {offset, c + pad_ld, 0};
  l.stride = t * l.ld + pad_stride;
  return l;
}

/* The operand of buffer buf in layout l. */
#define OP(buf, l) ((cls_attn_operand){cls_ref_at(buf, l.offset), l.ld, l.stride})

static size_t layout_floats(layout l, size_t B) {
  return l.offset + B * l.stride;
}

/* Dense (B, T, C) host doubles -> floats in a buffer with layout l; the
 * padding holds a sentinel that must never be read into a result. */
static cls_buffer *upload_seq(cls_context *ctx, const double *x, size_t B, size_t t, size_t c, layout l) {
  size_t n = layout_floats(l, B);
  float *h = malloc(n * sizeof *h);
  for (size_t i = 0; i < n; i++) h[i] = 1e30f;
  for (size_t b = 0; b < B; b++)
    for (size_t i = 0; i < t; i++)
      for (size_t j = 0; j < c; j++) h[l.offset + b * l.stride + i * l.ld + j] = (float)x[(b * t + i) * c + j];
  cls_buffer *buf = test_upload(ctx, h, n);
  free(h);
  return buf;
}

static void download_seq(cls_context *ctx, cls_buffer *buf, size_t B, size_t t, size_t c, layout l, float *dense) {
  float *h = test_download(ctx, buf);
  for (size_t b = 0; b < B; b++)
    for (size_t i = 0; i < t; i++)
      for (size_t j = 0; j < c; j++) dense[(b * t + i) * c + j] = h[l.offset + b * l.stride + i * l.ld + j];
  free(h);
}

static double *random_doubles(size_t n, uint64_t seed) {
  float *f = malloc(n * sizeof *f);
  double *d = malloc(n * sizeof *d);
  test_fill_uniform(f, n, seed, -1.0f, 1.0f);
  for (size_t i = 0; i < n; i++) d[i] = f[i];
  free(f);
  return d;
}

static void expect_close(const float *got, const double *want, size_t n, double tol, const char *what) {
  size_t at;
  double e = test_max_rel_err(got, want, n, 0.05, &at);
  if (e > tol) fail_msg("%s: error %.3g at %zu (got %.7g, want %.7g)", what, e, at, got[at], want[at]);
}

/* gain: the scale over 1/sqrt(head_dim). */
static void run_case(cls_context *ctx, case_t c, int accumulate, double gain) {
  const size_t C = c.H * c.dh, nq = c.B * c.tq * C, nk = c.B * c.tk * C, np = c.B * c.H * c.tq * c.tk;
  const double scale = 1.0 / sqrt((double)c.dh) * gain;
  double *q = random_doubles(nq, 1 + c.tq), *k = random_doubles(nk, 2 + c.tk), *v = random_doubles(nk, 3 + c.H);
  double *dout = random_doubles(nq, 4 + c.dh), *probs = malloc(np * sizeof(double)),
         *out = malloc(nq * sizeof(double));
  double *dq = malloc(nq * sizeof(double)), *dk = malloc(nk * sizeof(double)), *dv = malloc(nk * sizeof(double));
  cls_ref_attention_forward(c.B, c.tq, c.tk, c.H, c.dh, scale, c.causal, q, k, v, probs, out);
  assert_int_equal(cls_ref_attention_backward(c.B, c.tq, c.tk, c.H, c.dh, scale, q, k, v, probs, dout, dq, dk, dv),
                   0);

  layout lq = padded(c.tq, C, 3, 5, 7), lk = padded(c.tk, C, 0, 0, 0), lv = padded(c.tk, C, 1, 2, 11);
  layout lo = padded(c.tq, C, 2, 1, 3), ldo = padded(c.tq, C, 0, 3, 1);
  cls_buffer *bq = upload_seq(ctx, q, c.B, c.tq, C, lq), *bk = upload_seq(ctx, k, c.B, c.tk, C, lk);
  cls_buffer *bv = upload_seq(ctx, v, c.B, c.tk, C, lv), *bdo = upload_seq(ctx, dout, c.B, c.tq, C, ldo);
  double *zeros = calloc(nq > nk ? nq : nk, sizeof(double));
  double *ones = malloc((nq > nk ? nq : nk) * sizeof(double));
  for (size_t i = 0; i < (nq > nk ? nq : nk); i++) ones[i] = 0.5;
  cls_buffer *bo = upload_seq(ctx, zeros, c.B, c.tq, C, lo);
  /* Gradients start at 0.5 so that accumulation shows. */
  cls_buffer *bdq = upload_seq(ctx, ones, c.B, c.tq, C, lo), *bdk = upload_seq(ctx, ones, c.B, c.tk, C, lk);
  cls_buffer *bdv = upload_seq(ctx, ones, c.B, c.tk, C, lv);
  cls_buffer *bp, *bs;
  TEST_OK(ctx, cls_buffer_alloc(ctx, np + 5, &bp));
  TEST_OK(ctx, cls_buffer_alloc(ctx, np, &bs));
  cls_attn_shape s = {c.B, c.tq, c.tk, c.H, c.dh, (float)scale, c.causal};
  TEST_OK(ctx, cls_attention_forward(ctx, &s, OP(bq, lq), OP(bk, lk), OP(bv, lv), cls_ref_at(bp, 5), OP(bo, lo)));
  TEST_OK(ctx, cls_attention_backward(ctx, &s, OP(bq, lq), OP(bk, lk), OP(bv, lv), cls_ref_at(bp, 5), OP(bdo, ldo),
                                      cls_ref_at(bs, 0), OP(bdq, lo), OP(bdk, lk), OP(bdv, lv), accumulate));

  float *got = malloc((nq > nk ? nq : nk) * sizeof(float));
  float *gp = malloc((np + 5) * sizeof(float));
  TEST_OK(ctx, cls_buffer_read(ctx, bp, 0, np + 5, gp));
  expect_close(gp + 5, probs, np, 1e-4, "probs");
  download_seq(ctx, bo, c.B, c.tq, C, lo, got);
  expect_close(got, out, nq, 1e-4, "out");
  if (accumulate) {
    for (size_t i = 0; i < nq; i++) dq[i] += 0.5;
    for (size_t i = 0; i < nk; i++) dk[i] += 0.5, dv[i] += 0.5;
  }
  download_seq(ctx, bdq, c.B, c.tq, C, lo, got);
  expect_close(got, dq, nq, 2e-4, "dq");
  download_seq(ctx, bdk, c.B, c.tk, C, lk, got);
  expect_close(got, dk, nk, 2e-4, "dk");
  download_seq(ctx, bdv, c.B, c.tk, C, lv, got);
  expect_close(got, dv, nk, 2e-4, "dv");

  cls_buffer *all[] = {bq, bk, bv, bdo, bo, bdq, bdk, bdv, bp, bs};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cls_buffer_free(all[i]);
  free(q), free(k), free(v), free(dout), free(probs), free(out), free(dq), free(dk), free(dv);
  free(zeros), free(ones), free(got), free(gp);
}

static void test_against_reference(void **state) {
  (void)state;
  /* Every way: every case up to 64 keys and head columns on
   * cl/attention.cl's row kernels; up to 16 keys on its vector kernels
   * (ATTN_VEC=16; more keys fall back to the row kernels), with query
   * blocks that do and do not divide tq; and matmuls and softmax for
   * every shape (ATTN_TK=0). */
  const char *params[] = {"ATTN_TK=64,ATTN_DH=64,ATTN_VEC=0",
                          "ATTN_TK=64,ATTN_DH=64,ATTN_VEC=16,ATTN_QB=8,ROW_VEC=16,ATTN_QDH=0,ATTN_QDH_BWD=0",
                          "ATTN_TK=16,ATTN_DH=8,ATTN_VEC=16,ATTN_QB=3,ROW_VEC=16,ATTN_QDH=0,ATTN_QDH_BWD=0",
                          /* queries as lanes: every case up to 16 keys, then only heads up to 4 columns */
                          "ATTN_TK=64,ATTN_DH=64,ATTN_VEC=16,ROW_VEC=16,ATTN_QDH=64,ATTN_QDH_BWD=64",
                          "ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ATTN_QB=5,ROW_VEC=16,ATTN_QDH=4,ATTN_QDH_BWD=4",
                          /* one pass each way: they share the probs layout */
                          "ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ATTN_QB=7,ROW_VEC=16,ATTN_QDH=64,ATTN_QDH_BWD=0",
                          "ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ATTN_QB=7,ROW_VEC=16,ATTN_QDH=0,ATTN_QDH_BWD=64",
                          "ATTN_TK=0"};
  const case_t cases[] = {
      {1, 1, 1, 1, 1, 0},
      {1, 1, 1, 1, 1, 1},
      {2, 5, 5, 3, 4, 1},
      {3, 7, 3, 2, 5, 0},
      {2, 17, 17, 4, 8, 1},
      {1, 33, 16, 1, 16, 0},
      {4, 31, 13, 2, 7, 0},
      {2, 64, 64, 4, 32, 1},
      {3, 130, 16, 4, 4, 0}, /* the emulator's shape: many queries, 16 label tokens, head_dim 4 */
      /* queries as lanes: query blocks of 16 whole, partial and masked,
       * key counts 1 and primes up to 16, heads of 1, 3, 4 and 8 columns */
      {2, 40, 1, 3, 4, 0},
      {1, 2, 2, 2, 1, 1},
      {2, 11, 11, 3, 3, 1},
      {2, 19, 7, 2, 8, 0},
      {2, 13, 13, 1, 4, 1},
      {3, 47, 11, 2, 1, 0},
      {1, 16, 16, 2, 8, 1},
      {2, 33, 5, 3, 3, 0},
  };
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      /* Small-shape mode: the probabilities (B H tq tk) bound the work. */
      const case_t *c = &cases[i];
      if (c->B * c->H * c->tq * c->tk > test_limit(SIZE_MAX, TEST_SMALL_LIMIT)) continue;
      /* The matmuls-and-softmax way runs, on a GPU set, the own matmul's
       * local-memory tiles, seconds a case in a simulator; its products
       * are test_matmul's. In small-shape mode three cases check how
       * attention lays them out: one key, causal primes, tq != tk. */
      if (test_small() && !strcmp(params[p], "ATTN_TK=0") && i != 1 && i != 2 && i != 12) continue;
      run_case(ctx, cases[i], 0, 1.7);
      run_case(ctx, cases[i], 1, 1.7);
    }
    cls_context_destroy(ctx);
  }
}

/* Scores far apart: exponents below the fast exponential's range (z <
 * -86), where the kernels must take exp() (probabilities underflow to 0
 * or denormals, as the reference's do). */
static void test_large_scores(void **state) {
  (void)state;
  const char *params[] = {"ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ROW_VEC=16,ATTN_QDH=64,ATTN_QDH_BWD=64",
                          "ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ROW_VEC=16,ATTN_QB=4,ATTN_QDH=0,ATTN_QDH_BWD=0"};
  const case_t cases[] = {{2, 21, 7, 2, 3, 0}, {1, 16, 16, 2, 4, 1}};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(ctx, cases[i], 0, 300.0);
    cls_context_destroy(ctx);
  }
}

/* Forward and backward of case c on dense operands, batch elements b0 ..
 * b0 + c.B - 1 of the host data x (of `all` batch elements): every result
 * (probs, out, dq, dk, dv), concatenated into r. */
static void run_dense(cls_context *ctx, case_t c, size_t b0, double *const x[4], float *r) {
  const size_t C = c.H * c.dh, nq = c.B * c.tq * C, nk = c.B * c.tk * C, np = c.B * c.H * c.tq * c.tk;
  const layout lq = padded(c.tq, C, 0, 0, 0), lk = padded(c.tk, C, 0, 0, 0);
  cls_buffer *bq = upload_seq(ctx, x[0] + b0 * c.tq * C, c.B, c.tq, C, lq);
  cls_buffer *bk = upload_seq(ctx, x[1] + b0 * c.tk * C, c.B, c.tk, C, lk);
  cls_buffer *bv = upload_seq(ctx, x[2] + b0 * c.tk * C, c.B, c.tk, C, lk);
  cls_buffer *bdo = upload_seq(ctx, x[3] + b0 * c.tq * C, c.B, c.tq, C, lq), *bo, *bp, *bs, *bdq, *bdk, *bdv;
  TEST_OK(ctx, cls_buffer_alloc(ctx, nq, &bo));
  TEST_OK(ctx, cls_buffer_alloc(ctx, np, &bp));
  TEST_OK(ctx, cls_buffer_alloc(ctx, np, &bs));
  TEST_OK(ctx, cls_buffer_alloc(ctx, nq, &bdq));
  TEST_OK(ctx, cls_buffer_alloc(ctx, nk, &bdk));
  TEST_OK(ctx, cls_buffer_alloc(ctx, nk, &bdv));
  cls_attn_shape s = {c.B, c.tq, c.tk, c.H, c.dh, 0.61f, c.causal};
  TEST_OK(ctx, cls_attention_forward(ctx, &s, OP(bq, lq), OP(bk, lk), OP(bv, lk), cls_ref_at(bp, 0), OP(bo, lq)));
  TEST_OK(ctx, cls_attention_backward(ctx, &s, OP(bq, lq), OP(bk, lk), OP(bv, lk), cls_ref_at(bp, 0), OP(bdo, lq),
                                      cls_ref_at(bs, 0), OP(bdq, lq), OP(bdk, lk), OP(bdv, lk), 0));
  TEST_OK(ctx, cls_buffer_read(ctx, bp, 0, np, r));
  TEST_OK(ctx, cls_buffer_read(ctx, bo, 0, nq, r + np));
  TEST_OK(ctx, cls_buffer_read(ctx, bdq, 0, nq, r + np + nq));
  TEST_OK(ctx, cls_buffer_read(ctx, bdk, 0, nk, r + np + 2 * nq));
  TEST_OK(ctx, cls_buffer_read(ctx, bdv, 0, nk, r + np + 2 * nq + nk));
  cls_buffer *all[] = {bq, bk, bv, bdo, bo, bp, bs, bdq, bdk, bdv};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cls_buffer_free(all[i]);
}

/* Bitwise: the same inputs give the same bits run to run, and a batch
 * element's results are those it gets alone (the emulator runs several
 * models' spectra as one batch and compares bitwise with one model). */
static void test_bitwise(void **state) {
  (void)state;
  const char *params[] = {"ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ROW_VEC=16,ATTN_QDH=64,ATTN_QDH_BWD=64",
                          "ATTN_TK=16,ATTN_DH=64,ATTN_VEC=16,ROW_VEC=16,ATTN_QB=16,ATTN_QDH=0,ATTN_QDH_BWD=0"};
  const case_t cases[] = {{3, 130, 16, 4, 4, 0}, {3, 19, 7, 2, 8, 0}, {2, 13, 13, 2, 3, 1}};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      case_t c = cases[i], one = c;
      one.B = 1;
      const size_t C = c.H * c.dh, nq = c.tq * C, nk = c.tk * C, np = c.H * c.tq * c.tk;
      const size_t per = np + 2 * nq + 2 * nk; /* one batch element's results */
      double *x[4] = {random_doubles(c.B * nq, 21), random_doubles(c.B * nk, 22), random_doubles(c.B * nk, 23),
                      random_doubles(c.B * nq, 24)};
      float *r1 = malloc(c.B * per * sizeof *r1), *r2 = malloc(c.B * per * sizeof *r2);
      float *alone = malloc(per * sizeof *alone);
      run_dense(ctx, c, 0, x, r1);
      run_dense(ctx, c, 0, x, r2);
      assert_memory_equal(r1, r2, c.B * per * sizeof *r1);
      /* Element b of each result of the whole batch against b alone. */
      const size_t sizes[5] = {np, nq, nq, nk, nk};
      for (size_t b = 0; b < c.B; b++) {
        run_dense(ctx, one, b, x, alone);
        size_t at_all = 0, at_one = 0;
        for (int k = 0; k < 5; k++) {
          if (memcmp(r1 + at_all + b * sizes[k], alone + at_one, sizes[k] * sizeof(float)))
            fail_msg("%s, case %zu: result %d of batch element %zu differs from it alone", params[p], i, k, b);
          at_all += c.B * sizes[k];
          at_one += sizes[k];
        }
      }
      for (int k = 0; k < 4; k++) free(x[k]);
      free(r1), free(r2), free(alone);
    }
    cls_context_destroy(ctx);
  }
}

/* The reference backward is itself checked by central differences of the
 * reference forward, on the scalar loss sum(dout * out). */
static void test_reference_gradients(void **state) {
  (void)state;
  const size_t B = 2, tq = 4, tk = 3, H = 2, dh = 3, C = H * dh;
  for (int causal = 0; causal < 2; causal++) {
    size_t tkk = causal ? tq : tk;
    size_t nq = B * tq * C, nk = B * tkk * C, np = B * H * tq * tkk;
    double *q = random_doubles(nq, 11), *k = random_doubles(nk, 12), *v = random_doubles(nk, 13);
    double *dout = random_doubles(nq, 14), *p = malloc(np * sizeof(double)), *out = malloc(nq * sizeof(double));
    double *dq = malloc(nq * sizeof(double)), *dk = malloc(nk * sizeof(double)), *dv = malloc(nk * sizeof(double));
    cls_ref_attention_forward(B, tq, tkk, H, dh, 0.7, causal, q, k, v, p, out);
    assert_int_equal(cls_ref_attention_backward(B, tq, tkk, H, dh, 0.7, q, k, v, p, dout, dq, dk, dv), 0);
    double *xs[3] = {q, k, v}, *gs[3] = {dq, dk, dv};
    size_t ns[3] = {nq, nk, nk};
    for (int w = 0; w < 3; w++)
      for (size_t i = 0; i < ns[w]; i++) {
        double save = xs[w][i], loss[2];
        for (int sgn = 0; sgn < 2; sgn++) {
          xs[w][i] = save + (sgn ? -1e-6 : 1e-6);
          cls_ref_attention_forward(B, tq, tkk, H, dh, 0.7, causal, q, k, v, p, out);
          loss[sgn] = 0;
          for (size_t j = 0; j < nq; j++) loss[sgn] += dout[j] * out[j];
        }
        xs[w][i] = save;
        double fd = (loss[0] - loss[1]) / 2e-6;
        if (fabs(fd - gs[w][i]) > 1e-6 * (1 + fabs(fd)))
          fail_msg("operand %d index %zu: finite difference %.9g, backward %.9g", w, i, fd, gs[w][i]);
      }
    free(q), free(k), free(v), free(dout), free(p), free(out), free(dq), free(dk), free(dv);
  }
}

static void test_bad_arguments(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  const size_t B = 2, T = 4, H = 2, dh = 3, C = H * dh, n = B * T * C;
  cls_buffer *x, *p, *o;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &x));
  TEST_OK(ctx, cls_buffer_alloc(ctx, B * H * T * T, &p));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &o));
  TEST_OK(ctx, cls_buffer_fill(ctx, x, 0, n, 0.25f));
  TEST_OK(ctx, cls_buffer_fill(ctx, o, 0, n, 7.0f));
  cls_attn_operand in = {cls_ref_at(x, 0), C, T * C}, out = {cls_ref_at(o, 0), C, T * C};
  cls_attn_shape s = {B, T, T, H, dh, 0.5f, 1};
  cls_ref pr = cls_ref_at(p, 0);

  assert_int_equal(cls_attention_forward(NULL, &s, in, in, in, pr, out), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_attention_forward(ctx, NULL, in, in, in, pr, out), CLS_ERR_NULL_ARGUMENT);
  cls_attn_shape bad = s;
  bad.heads = 0;
  assert_int_equal(cls_attention_forward(ctx, &bad, in, in, in, pr, out), CLS_ERR_INVALID_SIZE);
  bad = s;
  bad.scale = NAN;
  assert_int_equal(cls_attention_forward(ctx, &bad, in, in, in, pr, out), CLS_ERR_INVALID_VALUE);
  bad = s;
  bad.scale = 0.0f;
  assert_int_equal(cls_attention_forward(ctx, &bad, in, in, in, pr, out), CLS_ERR_INVALID_VALUE);
  bad = s;
  bad.tk = 3;
  assert_int_equal(cls_attention_forward(ctx, &bad, in, in, in, pr, out), CLS_ERR_SHAPE_MISMATCH);
  cls_attn_operand narrow = in;
  narrow.ld = C - 1;
  assert_int_equal(cls_attention_forward(ctx, &s, narrow, in, in, pr, out), CLS_ERR_LEADING_DIM);
  cls_attn_operand shifted = in;
  shifted.ref.offset = 1;
  assert_int_equal(cls_attention_forward(ctx, &s, in, shifted, in, pr, out), CLS_ERR_BUFFER_TOO_SMALL);
  cls_attn_operand overlapping = out;
  overlapping.stride = C;
  assert_int_equal(cls_attention_forward(ctx, &s, in, in, in, pr, overlapping), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_attention_forward(ctx, &s, in, in, in, cls_ref_at(p, 1), out), CLS_ERR_BUFFER_TOO_SMALL);
  cls_attn_operand none = {CLS_NOREF, C, T * C};
  assert_int_equal(cls_attention_forward(ctx, &s, in, in, none, pr, out), CLS_ERR_NULL_ARGUMENT);
  /* Broadcast inputs (stride 0) are fine. */
  cls_attn_operand shared = {cls_ref_at(x, 0), C, 0};
  TEST_OK(ctx, cls_attention_forward(ctx, &s, in, shared, shared, pr, out));
  float y[4];
  TEST_OK(ctx, cls_buffer_read(ctx, o, 0, 4, y));
  assert_true(fabsf(y[0] - 0.25f) < 1e-6f); /* the mean of equal values */

  /* Backward: scratch overlapping probs, bad accumulate flag; nothing written. */
  TEST_OK(ctx, cls_buffer_fill(ctx, o, 0, n, 7.0f));
  assert_int_equal(cls_attention_backward(ctx, &s, in, in, in, pr, in, pr, out, out, out, 0),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_attention_backward(ctx, &s, in, in, in, pr, in, cls_ref_at(x, 0), out, out, out, 2),
                   CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_attention_backward(ctx, &s, in, in, in, pr, in, cls_ref_at(x, 0), out, overlapping, out, 0),
                   CLS_ERR_INVALID_VALUE);
  float *after = test_download(ctx, o);
  for (size_t i = 0; i < n; i++) assert_true(after[i] == 7.0f);
  free(after);
  assert_int_equal(cls_attention_probs_count(NULL), 0);
  assert_int_equal(cls_attention_probs_count(&s), B * H * T * T);
  cls_buffer_free(x), cls_buffer_free(p), cls_buffer_free(o);
  cls_context_destroy(ctx);

  /* Device parameters the vector kernels cannot take: a width other than
   * 16, or row vectors that are not float16. */
  const char *bad_params[] = {"ATTN_TK=16,ATTN_VEC=8,ROW_VEC=16", "ATTN_TK=16,ATTN_VEC=16,ROW_VEC=8"};
  for (size_t i = 0; i < 2; i++) {
    ctx = test_context(bad_params[i], NULL);
    TEST_OK(ctx, cls_buffer_alloc(ctx, n, &x));
    TEST_OK(ctx, cls_buffer_alloc(ctx, B * H * T * T, &p));
    in.ref = cls_ref_at(x, 0);
    assert_int_equal(cls_attention_forward(ctx, &s, in, in, in, cls_ref_at(p, 0), in), CLS_ERR_INVALID_VALUE);
    assert_non_null(strstr(cls_last_error(ctx), i ? "ROW_VEC" : "ATTN_VEC=8"));
    cls_buffer_free(x), cls_buffer_free(p);
    cls_context_destroy(ctx);
  }
  /* Heads wider than the queries-as-lanes kernels take: refused when the
   * context is made, naming the parameter. */
  cls_context_options opts;
  cls_context_options_init(&opts);
  opts.params = "ATTN_QDH=65";
  char err[4096] = "";
  ctx = NULL;
  assert_int_not_equal(cls_context_create(&opts, &ctx, err, sizeof err), CLS_OK);
  assert_null(ctx);
  assert_non_null(strstr(err, "ATTN_QDH"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_against_reference), cmocka_unit_test(test_large_scores),
      cmocka_unit_test(test_bitwise),           cmocka_unit_test(test_reference_gradients),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
