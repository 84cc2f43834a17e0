/*
 * tests/test_embedding.c — token + position embedding forward and backward
 * against the double references on awkward shapes and offsets, repeated
 * tokens, accumulation, bitwise reproducibility, finite differences,
 * invalid ids, cls_tokens_check, and every bad argument. The models forms
 * (cls_embedding_*_models) bitwise against one call per model, on tables
 * interleaved as in a parameter slab.
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

/* Ids in [0, used) with used <= vocab, so that some rows never occur and
 * others repeat. */
static float *rand_tokens(size_t n, size_t used, uint64_t seed) {
  float *t = test_random_floats(n, seed, 0.0f, 1.0f);
  for (size_t i = 0; i < n; i++) {
    size_t v = (size_t)(t[i] * (float)used);
    t[i] = (float)(v < used ? v : used - 1);
  }
  return t;
}

typedef struct {
  size_t batch, T, vocab, dim;
} shape;

static const shape shapes[] = {{1, 1, 1, 1},      {2, 3, 7, 5},     {3, 7, 256, 31}, {4, 64, 256, 127},
                               {1, 127, 1000, 3}, {7, 31, 4099, 2}, {2, 5, 3, 64},   {32, 64, 256, 128}};

static void one_shape(cls_context *ctx, shape s, int with_wpe, uint64_t seed) {
  size_t bt = s.batch * s.T, n = bt * s.dim, nw = s.vocab * s.dim, np = (s.T + 2) * s.dim;
  size_t to = 1, wo = 2, po = 3, oo = 4;
  float *ht = rand_tokens(bt + to, s.vocab > 3 ? s.vocab - 1 : s.vocab, seed);
  float *hw = test_random_floats(nw + wo, seed + 1, -1, 1), *hp = test_random_floats(np + po, seed + 2, -1, 1);
  float *hg = test_random_floats(n + oo, seed + 3, -1, 1);
  cls_buffer *tok = test_upload(ctx, ht, bt + to), *wte = test_upload(ctx, hw, nw + wo);
  cls_buffer *wpe = test_upload(ctx, hp, np + po), *out = NULL, *dout = test_upload(ctx, hg, n + oo);
  TEST_OK(ctx, cls_buffer_alloc(ctx, n + oo, &out));
  double *dt = test_to_double(ht + to, bt), *dw = test_to_double(hw + wo, nw), *dp = test_to_double(hp + po, np);
  double *dg = test_to_double(hg + oo, n), *want = malloc(n * sizeof *want);
  cls_ref T = cls_ref_at(tok, to), W = cls_ref_at(wte, wo), P = with_wpe ? cls_ref_at(wpe, po) : CLS_NOREF;

  TEST_OK(ctx, cls_embedding_forward(ctx, s.batch, s.T, s.vocab, s.dim, T, W, P, cls_ref_at(out, oo)));
  cls__ref_embedding_forward(s.batch, s.T, s.vocab, s.dim, dt, dw, with_wpe ? dp : NULL, want);
  float *got = test_read_at(ctx, out, oo, n);
  test_expect_close("embedding_forward", n, got, want, 1e-6, 1.0);
  free(got);

  /* Backward into the (reused) table buffers: overwrite, then accumulate. */
  double *wdw = malloc(nw * sizeof *wdw), *wdp = malloc(np * sizeof *wdp);
  cls_ref DW = cls_ref_at(wte, wo), DP = with_wpe ? cls_ref_at(wpe, po) : CLS_NOREF;
  for (int acc = 0; acc < 2; acc++) {
    TEST_OK(ctx, cls_embedding_backward(ctx, s.batch, s.T, s.vocab, s.dim, T, cls_ref_at(dout, oo), DW, DP, acc));
    cls__ref_embedding_backward(s.batch, s.T, s.vocab, s.dim, dt, dg, wdw, with_wpe ? wdp : NULL, acc);
    double tol = 4e-7 * (double)bt; /* sums of up to batch*T terms of size 1 */
    got = test_read_at(ctx, wte, wo, nw);
    test_expect_close(acc ? "dwte accumulate" : "dwte", nw, got, wdw, tol, 1.0);
    free(got);
    if (with_wpe) {
      got = test_read_at(ctx, wpe, po, s.T * s.dim);
      test_expect_close(acc ? "dwpe accumulate" : "dwpe", s.T * s.dim, got, wdp, 4e-7 * (double)s.batch, 1.0);
      free(got);
    }
  }
  /* Beyond T rows of the position table, and before the offsets: untouched. */
  float *all = test_download(ctx, wpe);
  for (size_t i = po + s.T * s.dim; i < np + po; i++) assert_true(all[i] == hp[i]);
  assert_true(all[0] == hp[0]);
  free(all);
  /* Bitwise the same twice. */
  TEST_OK(ctx, cls_embedding_backward(ctx, s.batch, s.T, s.vocab, s.dim, T, cls_ref_at(dout, oo), DW, DP, 0));
  float *g1 = test_read_at(ctx, wte, wo, nw);
  TEST_OK(ctx, cls_embedding_backward(ctx, s.batch, s.T, s.vocab, s.dim, T, cls_ref_at(dout, oo), DW, DP, 0));
  float *g2 = test_read_at(ctx, wte, wo, nw);
  assert_memory_equal(g1, g2, nw * sizeof(float));
  free(g1), free(g2);

  free(ht), free(hw), free(hp), free(hg), free(dt), free(dw), free(dp), free(dg), free(want), free(wdw), free(wdp);
  cls_buffer_free(tok), cls_buffer_free(wte), cls_buffer_free(wpe), cls_buffer_free(out), cls_buffer_free(dout);
}

/* Small-shape mode (the Oclgrind gate): outputs of at most 20,000 floats. */
static int shape_small(shape s) {
  return s.batch * s.T * s.dim <= test_limit(SIZE_MAX, 20000);
}

static void test_shapes(void **state) {
  cls_context *ctx = *state;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    if (!shape_small(shapes[i])) continue;
    one_shape(ctx, shapes[i], 1, 10 * i);
    if (i < 4) one_shape(ctx, shapes[i], 0, 10 * i + 5);
  }
}

/* The GPU shape (one column per item), with odd groups. */
static void test_shapes_other_widths(void **state) {
  (void)state;
  const char *params[1] = {"ROW_CVEC=1,ROW_CLOCAL=3"};
  for (int p = 0; p < 1; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
      if (shape_small(shapes[i])) one_shape(ctx, shapes[i], (int)(i % 2), 7 * i + 1);
    cls_context_destroy(ctx);
  }
}

/* K models of shape s in one call against one call per model: the
 * tables of model k at k x S of one slab (wte then wpe, with a gap, as a
 * parameter table lays them out), ids and rows one model after the other.
 * Outputs, dwte and dwpe (overwritten, then accumulated) bitwise. */
static void models_shape(cls_context *ctx, shape s, size_t K, int with_wpe, uint64_t seed) {
  const size_t bt = s.batch * s.T, n = bt * s.dim, nw = s.vocab * s.dim, np = s.T * s.dim;
  const size_t pe_at = nw + 3, S = pe_at + np + 5, slab = K * S + 2; /* two floats before model 0 */
  float *ht = rand_tokens(K * bt, s.vocab, seed), *hs = test_random_floats(slab, seed + 1, -1, 1);
  float *hg = test_random_floats(K * n, seed + 2, -1, 1);
  cls_buffer *tok = test_upload(ctx, ht, K * bt), *par = test_upload(ctx, hs, slab),
             *dout = test_upload(ctx, hg, K * n);
  cls_buffer *out = NULL, *one = NULL, *g1 = test_upload(ctx, hs, slab), *gk = test_upload(ctx, hs, slab);
  TEST_OK(ctx, cls_buffer_alloc(ctx, K * n, &out));
  TEST_OK(ctx, cls_buffer_alloc(ctx, K * n, &one));
  cls_ref W = cls_ref_at(par, 2), P = with_wpe ? cls_ref_at(par, 2 + pe_at) : CLS_NOREF;
  TEST_OK(ctx, cls_embedding_forward_models(ctx, K, s.batch, s.T, s.vocab, s.dim, cls_ref_at(tok, 0), W, P, S,
                                            cls_ref_at(out, 0)));
  for (size_t k = 0; k < K; k++)
    TEST_OK(ctx, cls_embedding_forward(
                     ctx, s.batch, s.T, s.vocab, s.dim, cls_ref_at(tok, k * bt), cls_ref_at(par, 2 + k * S),
                     with_wpe ? cls_ref_at(par, 2 + k * S + pe_at) : CLS_NOREF, cls_ref_at(one, k * n)));
  float *a = test_download(ctx, out), *b = test_download(ctx, one);
  if (memcmp(a, b, K * n * sizeof(float))) fail_msg("forward: %zu models differ from one call each", K);
  free(a), free(b);
  for (int acc = 0; acc < 2; acc++) {
    TEST_OK(ctx, cls_embedding_backward_models(ctx, K, s.batch, s.T, s.vocab, s.dim, cls_ref_at(tok, 0),
                                               cls_ref_at(dout, 0), cls_ref_at(gk, 2),
                                               with_wpe ? cls_ref_at(gk, 2 + pe_at) : CLS_NOREF, S, acc));
    for (size_t k = 0; k < K; k++)
      TEST_OK(ctx, cls_embedding_backward(ctx, s.batch, s.T, s.vocab, s.dim, cls_ref_at(tok, k * bt),
                                          cls_ref_at(dout, k * n), cls_ref_at(g1, 2 + k * S),
                                          with_wpe ? cls_ref_at(g1, 2 + k * S + pe_at) : CLS_NOREF, acc));
    a = test_download(ctx, gk), b = test_download(ctx, g1);
    for (size_t i = 0; i < slab; i++)
      if (memcmp(&a[i], &b[i], sizeof(float)))
        fail_msg("backward (accumulate %d), %zu models: slab float %zu is %.9g, one call each %.9g", acc, K, i,
                 (double)a[i], (double)b[i]);
    free(a), free(b);
  }
  free(ht), free(hs), free(hg);
  cls_buffer_free(tok), cls_buffer_free(par), cls_buffer_free(dout), cls_buffer_free(out), cls_buffer_free(one);
  cls_buffer_free(g1), cls_buffer_free(gk);
}

static void test_models(void **state) {
  cls_context *ctx = *state;
  const size_t counts[] = {1, 2, 3, 5};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] - 1; i++)
    for (size_t c = 0; c < 4; c++) {
      const shape sh = shapes[i];
      const size_t floats = counts[c] * (sh.batch * sh.T + sh.vocab) * sh.dim;
      if (floats <= test_limit((size_t)1 << 30, TEST_SMALL_LIMIT))
        models_shape(ctx, sh, counts[c], (int)((i + c) % 3 != 0), 100 * i + c);
    }
}

/* Bad layouts of the models forms: a stride below a table, parts that
 * meet, too many models. */
static void test_models_bad(void **state) {
  cls_context *ctx = *state;
  cls_buffer *tok = NULL, *par = NULL, *out = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &tok));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 4096, &par));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 4096, &out));
  TEST_OK(ctx, cls_buffer_fill(ctx, tok, 0, 64, 1.0f));
  /* 2 models of batch 2 x T 3, vocab 5, dim 4: tables of 20 and 12 floats. */
  cls_ref T = cls_ref_at(tok, 0), W = cls_ref_at(par, 0), P = cls_ref_at(par, 20), O = cls_ref_at(out, 0);
  assert_int_equal(cls_embedding_forward_models(ctx, 2, 2, 3, 5, 4, T, W, P, 19, O), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "parameter stride 19"));
  assert_int_equal(cls_embedding_forward_models(ctx, 4097, 2, 3, 5, 4, T, W, P, 64, O), CLS_ERR_INVALID_SIZE);
  /* dwpe of model 0 at 20 meets dwte of model 1 at 0 + 24. */
  assert_int_equal(cls_embedding_backward_models(ctx, 2, 2, 3, 5, 4, T, O, W, P, 24, 0), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "overlaps"));
  TEST_OK(ctx, cls_embedding_backward_models(ctx, 2, 2, 3, 5, 4, T, O, W, P, 32, 0));
  cls_buffer_free(tok), cls_buffer_free(par), cls_buffer_free(out);
}

/* dwte and dwpe against central differences of L = sum(w * forward). */
static void test_finite_differences(void **state) {
  cls_context *ctx = *state;
  const size_t B = 2, T = 3, V = 4, D = 2, n = B * T * D;
  float ht[6] = {1, 3, 1, 0, 1, 3};
  float *hw = test_random_floats(V * D, 1, -1, 1), *hp = test_random_floats(T * D, 2, -1, 1),
        *hg = test_random_floats(n, 3, -1, 1);
  double *dt = test_to_double(ht, 6), *dw = test_to_double(hw, V * D), *dp = test_to_double(hp, T * D),
         *w = test_to_double(hg, n);
  double out[12], fdw[8], fdp[6];
  for (int which = 0; which < 2; which++) {
    double *tab = which ? dp : dw, *fd = which ? fdp : fdw;
    size_t len = which ? T * D : V * D;
    for (size_t i = 0; i < len; i++) {
      double h = 1e-4, l[2];
      for (int k = 0; k < 2; k++) {
        double keep = tab[i];
        tab[i] += k ? -h : h;
        cls__ref_embedding_forward(B, T, V, D, dt, dw, dp, out);
        l[k] = 0;
        for (size_t j = 0; j < n; j++) l[k] += w[j] * out[j];
        tab[i] = keep;
      }
      fd[i] = (l[0] - l[1]) / (2 * h);
    }
  }
  cls_buffer *tok = test_upload(ctx, ht, 6), *dout = test_upload(ctx, hg, n), *gw = NULL, *gp = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, V * D, &gw));
  TEST_OK(ctx, cls_buffer_alloc(ctx, T * D, &gp));
  TEST_OK(ctx, cls_embedding_backward(ctx, B, T, V, D, cls_ref_at(tok, 0), cls_ref_at(dout, 0), cls_ref_at(gw, 0),
                                      cls_ref_at(gp, 0), 0));
  float *a = test_download(ctx, gw), *b = test_download(ctx, gp);
  test_expect_close("dwte vs finite differences", V * D, a, fdw, 1e-6, 1.0);
  test_expect_close("dwpe vs finite differences", T * D, b, fdp, 1e-6, 1.0);
  /* Token 2 never occurs: its gradient row is exactly 0. */
  assert_true(a[2 * D] == 0.0f && a[2 * D + 1] == 0.0f);
  free(a), free(b), free(hw), free(hp), free(hg), free(dt), free(dw), free(dp), free(w);
  cls_buffer_free(tok), cls_buffer_free(dout), cls_buffer_free(gw), cls_buffer_free(gp);
}

/* Invalid ids: a NaN output row forward, skipped backward. */
static void test_invalid_ids(void **state) {
  cls_context *ctx = *state;
  const size_t B = 1, T = 6, V = 4, D = 3;
  float ht[6] = {-1.0f, 4.0f, 1.5f, NAN, 2.0f, 3.0f};
  float *hw = test_random_floats(V * D, 1, -1, 1), *hg = test_random_floats(T * D, 3, -1, 1);
  cls_buffer *tok = test_upload(ctx, ht, T), *wte = test_upload(ctx, hw, V * D), *out = NULL;
  cls_buffer *dout = test_upload(ctx, hg, T * D);
  TEST_OK(ctx, cls_buffer_alloc(ctx, T * D, &out));
  TEST_OK(ctx, cls_embedding_forward(ctx, B, T, V, D, cls_ref_at(tok, 0), cls_ref_at(wte, 0), CLS_NOREF,
                                     cls_ref_at(out, 0)));
  float *o = test_download(ctx, out);
  for (size_t p = 0; p < T; p++)
    for (size_t c = 0; c < D; c++)
      assert_true(p < 4 ? isnan(o[p * D + c]) : o[p * D + c] == hw[(size_t)ht[p] * D + c]);
  TEST_OK(ctx, cls_embedding_backward(ctx, B, T, V, D, cls_ref_at(tok, 0), cls_ref_at(dout, 0), cls_ref_at(wte, 0),
                                      CLS_NOREF, 0));
  double *dt = test_to_double(ht, T), *dg = test_to_double(hg, T * D), want[12];
  cls__ref_embedding_backward(B, T, V, D, dt, dg, want, NULL, 0);
  float *g = test_download(ctx, wte);
  test_expect_close("dwte with invalid ids", V * D, g, want, 1e-7, 1.0);
  assert_true(g[0] == 0.0f && g[D] == 0.0f); /* rows 0 and 1 only had invalid neighbours */

  float good[5] = {0, 1, 2, 3, 3};
  size_t bad = 99;
  assert_int_equal(cls_tokens_check(ctx, good, 5, V, &bad), CLS_OK);
  assert_int_equal(bad, 99);
  for (size_t i = 0; i < 4; i++) {
    bad = 99;
    assert_int_equal(cls_tokens_check(ctx, ht, T, V, &bad), CLS_ERR_INVALID_VALUE);
    assert_int_equal(bad, 0);
    assert_int_equal(cls_tokens_check(ctx, ht + i, T - i, V, &bad), CLS_ERR_INVALID_VALUE);
    assert_int_equal(bad, 0);
  }
  assert_int_equal(cls_tokens_check(ctx, ht + 4, 2, V, NULL), CLS_OK);
  assert_int_equal(cls_tokens_check(ctx, NULL, 2, V, NULL), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_tokens_check(ctx, good, 0, V, NULL), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_tokens_check(ctx, good, 5, 0, NULL), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_tokens_check(ctx, good, 5, ((size_t)1 << 24) + 1, NULL), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_tokens_check(ctx, good, 5, 3, &bad), CLS_ERR_INVALID_VALUE);
  assert_int_equal(bad, 3);
  assert_int_equal(cls_tokens_check(NULL, good, 5, 4, NULL), CLS_ERR_NULL_ARGUMENT);
  free(o), free(g), free(hw), free(hg), free(dt), free(dg);
  cls_buffer_free(tok), cls_buffer_free(wte), cls_buffer_free(out), cls_buffer_free(dout);
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
  float h[64] = {0};
  cls_buffer *tok = test_upload(ctx, h, 8), *w = test_upload(ctx, h, 64), *p = test_upload(ctx, h, 64);
  cls_buffer *o = test_upload(ctx, h, 64), *d = test_upload(ctx, h, 64);
  cls_context *other = test_context(NULL, NULL);
  cls_buffer *foreign = NULL;
  TEST_OK(other, cls_buffer_alloc(other, 64, &foreign));
  cls_ref TK = cls_ref_at(tok, 0), W = cls_ref_at(w, 0), P = cls_ref_at(p, 0), O = cls_ref_at(o, 0),
          D = cls_ref_at(d, 0);
  /* batch 2, T 4, vocab 8, dim 4: tokens 8, wte 32, wpe 16, out 32. */
  assert_int_equal(cls_embedding_forward(NULL, 2, 4, 8, 4, TK, W, P, O), CLS_ERR_NULL_ARGUMENT);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 0, 4, 8, 4, TK, W, P, O), CLS_ERR_INVALID_SIZE, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 0, 8, 4, TK, W, P, O), CLS_ERR_INVALID_SIZE, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 0, 4, TK, W, P, O), CLS_ERR_INVALID_SIZE, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 0, TK, W, P, O), CLS_ERR_INVALID_SIZE, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, ((size_t)1 << 24) + 1, 1, TK, W, P, O),
                 CLS_ERR_INVALID_SIZE, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, CLS_NOREF, W, P, O), CLS_ERR_NULL_ARGUMENT, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, CLS_NOREF, P, O), CLS_ERR_NULL_ARGUMENT, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, W, P, CLS_NOREF), CLS_ERR_NULL_ARGUMENT, w);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 3, 4, 8, 4, TK, W, P, O), CLS_ERR_BUFFER_TOO_SMALL, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, cls_ref_at(w, 40), P, O),
                 CLS_ERR_BUFFER_TOO_SMALL, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, W, cls_ref_at(p, 50), O),
                 CLS_ERR_BUFFER_TOO_SMALL, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, W, P, cls_ref_at(o, 33)),
                 CLS_ERR_BUFFER_TOO_SMALL, o);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, W, P, cls_ref_at(w, 30)), CLS_ERR_INVALID_VALUE,
                 w);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, W, P, cls_ref_at(p, 8)), CLS_ERR_INVALID_VALUE,
                 p);
  EXPECT_REFUSED(ctx, cls_embedding_forward(ctx, 2, 4, 8, 4, TK, W, P, cls_ref_at(foreign, 0)),
                 CLS_ERR_WRONG_CONTEXT, o);

  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, D, W, P, 2), CLS_ERR_INVALID_VALUE, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 0, 4, TK, D, W, P, 0), CLS_ERR_INVALID_SIZE, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, ((size_t)1 << 24) + 1, 1, TK, D, W, P, 0),
                 CLS_ERR_INVALID_SIZE, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, CLS_NOREF, W, P, 0), CLS_ERR_NULL_ARGUMENT, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, D, CLS_NOREF, P, 0), CLS_ERR_NULL_ARGUMENT, p);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, CLS_NOREF, D, W, P, 0), CLS_ERR_NULL_ARGUMENT, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 16, 4, TK, D, cls_ref_at(w, 1), P, 0),
                 CLS_ERR_BUFFER_TOO_SMALL, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, D, W, cls_ref_at(p, 49), 0),
                 CLS_ERR_BUFFER_TOO_SMALL, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, D, W, cls_ref_at(w, 20), 0),
                 CLS_ERR_INVALID_VALUE, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, D, cls_ref_at(d, 16), P, 0),
                 CLS_ERR_INVALID_VALUE, d);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, D, W, cls_ref_at(d, 31), 0),
                 CLS_ERR_INVALID_VALUE, d);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, cls_ref_at(w, 30), D, W, P, 0),
                 CLS_ERR_INVALID_VALUE, w);
  EXPECT_REFUSED(ctx, cls_embedding_backward(ctx, 2, 4, 8, 4, TK, cls_ref_at(foreign, 0), W, P, 0),
                 CLS_ERR_WRONG_CONTEXT, w);

  cls_buffer_free(tok), cls_buffer_free(w), cls_buffer_free(p), cls_buffer_free(o), cls_buffer_free(d);
  cls_buffer_free(foreign);
  cls_context_destroy(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_shapes_other_widths),
      cmocka_unit_test(test_finite_differences),
      cmocka_unit_test(test_invalid_ids),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_models),
      cmocka_unit_test(test_models_bad),
  };
  return cmocka_run_group_tests(tests, test_setup_context, test_teardown_context);
}
