/*
 * src/ops/matmul.c — the public matmul calls: argument checks, the
 * per-context backend choice, and dispatch to a backend (matmul_own.c,
 * matmul_clblast.c, matmul_host.c, matmul_auto.c).
 */
#include <math.h>

#include "ops/matmul.h"
#include "ops/ops_state.h"
#include "ops/train_check.h"

/* Entries of C a product needs: all, or those with column <= row. */
static double entries(const cls__mm_args *g) {
  double m = (double)g->m, n = (double)g->n;
  if (!g->lower) return m * n;
  double full = n < m ? n : m; /* rows 0..full-1 hold i + 1 entries */
  return full * (full + 1.0) / 2.0 + (m - full) * n;
}

double cls__mm_flops(const cls__mm_args *g) {
  return 2.0 * entries(g) * (double)g->k * (double)g->batch;
}

double cls__mm_bytes(const cls__mm_args *g) {
  double nb = (double)g->batch;
  double a = (double)g->m * (double)g->k * (g->stride_a ? nb : 1.0);
  double b = (double)g->k * (double)g->n * (g->stride_b ? nb : 1.0);
  double c = entries(g) * nb * (g->beta != 0.0f ? 2.0 : 1.0);
  return 4.0 * (a + b + c);
}

cls_status cls_matmul_set_backend(cls_context *ctx, cls_backend backend) {
  CLS_CHECK_CTX(ctx);
  if ((int)backend < CLS_BACKEND_AUTO || (int)backend > CLS_BACKEND_HOST)
    return cls__fail(ctx, CLS_ERR_UNKNOWN_BACKEND,
                     "cls_matmul_set_backend: backend %d is not one of CLS_BACKEND_AUTO, _OWN, _CLBLAST, _HOST",
                     (int)backend);
  if (backend == CLS_BACKEND_HOST && !cls__mm_host_available(ctx))
    return cls__fail(ctx, CLS_ERR_BACKEND_UNAVAILABLE,
                     "cls_matmul_set_backend: the host backend needs a CPU device whose buffers live in host "
                     "memory, and %s is not one; use own, clblast or auto",
                     cls_context_device(ctx)->name);
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  st->mm_backend_set = 1;
  st->mm_backend = backend;
  return CLS_OK;
}

cls_backend cls_matmul_get_backend(const cls_context *ctx) {
  if (!ctx) return CLS_BACKEND_AUTO;
  /* cls_context_create made the state and checked the option; a context
   * without it (none is) would get auto. */
  const cls__ops_data *st = cls__ops_state(ctx);
  if (!st) return CLS_BACKEND_AUTO;
  return st->mm_backend_set ? st->mm_backend : st->mm_option;
}

/* Every check of cls_matmul_batched_on, in the order documented in ops.h. */
static cls_status validate(cls_context *ctx, const char *fn, cls_backend backend, const cls__mm_args *g) {
  if ((int)backend < CLS_BACKEND_AUTO || (int)backend > CLS_BACKEND_HOST)
    return cls__fail(ctx, CLS_ERR_UNKNOWN_BACKEND, "%s: backend %d is not auto, own, clblast or host", fn,
                     (int)backend);
  if ((g->ta != CLS_NO_TRANS && g->ta != CLS_TRANS) || (g->tb != CLS_NO_TRANS && g->tb != CLS_TRANS))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: transpose arguments are %d and %d; use CLS_NO_TRANS or CLS_TRANS", fn, (int)g->ta,
                     (int)g->tb);
  if (!g->a.buf || !g->b.buf || !g->c.buf)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: buffer of %s is NULL", fn,
                     !g->a.buf   ? "A"
                     : !g->b.buf ? "B"
                                 : "C");
  if (g->m == 0 || g->n == 0 || g->k == 0 || g->batch == 0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: m=%zu n=%zu k=%zu batch=%zu; every size must be at least 1",
                     fn, g->m, g->n, g->k, g->batch);
  if (!isfinite(g->alpha) || !isfinite(g->beta))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: alpha=%g beta=%g; both must be finite", fn, (double)g->alpha,
                     (double)g->beta);
  size_t ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
  size_t br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
  cls_status s = cls__check_matrix(ctx, fn, "A", g->a, ar, ac, g->lda, g->stride_a, g->batch);
  if (s == CLS_OK) s = cls__check_matrix(ctx, fn, "B", g->b, br, bc, g->ldb, g->stride_b, g->batch);
  if (s == CLS_OK) s = cls__check_matrix(ctx, fn, "C", g->c, g->m, g->n, g->ldc, g->stride_c, g->batch);
  if (s != CLS_OK) return s;
  /* Batch entries of C must not overlap, or results would race. */
  if (g->batch > 1 && g->stride_c < (g->m - 1) * g->ldc + g->n)
    return cls__fail(
        ctx, CLS_ERR_LEADING_DIM,
        "%s: stride_c is %zu but each %zu x %zu matrix of C (ldc %zu) spans %zu floats; batch entries "
        "of C must not overlap",
        fn, g->stride_c, g->m, g->n, g->ldc, (g->m - 1) * g->ldc + g->n);
  if (backend == CLS_BACKEND_HOST && !cls__mm_host_available(ctx))
    return cls__fail(ctx, CLS_ERR_BACKEND_UNAVAILABLE,
                     "%s: the host backend needs a CPU device whose buffers live in host memory, and %s is not "
                     "one; use own, clblast or auto",
                     fn, cls_context_device(ctx)->name);
  return CLS_OK;
}

cls_status cls__mm_bias_after(cls_context *ctx, const cls__mm_args *g) {
  if (!g->has_bias) return CLS_OK;
  size_t mn = g->m * g->n;
  if (g->bias_per == 1 && (g->batch == 1 || g->stride_c == mn))
    return cls_bias_add_models(ctx, g->batch, g->m, g->n, g->bias, g->bias_stride, g->c);
  for (size_t b = 0; b < g->batch; b++) {
    cls_status s =
        cls_bias_add(ctx, g->m, g->n, cls_ref_at(g->bias.buf, g->bias.offset + b / g->bias_per * g->bias_stride),
                     cls_ref_at(g->c.buf, g->c.offset + b * g->stride_c));
    if (s != CLS_OK) return s;
  }
  return CLS_OK;
}

cls_status cls__mm_dispatch(cls_context *ctx, cls_backend backend, const cls__mm_args *g) {
  cls_status s;
  switch (backend) {
  case CLS_BACKEND_OWN:
    return cls__mm_own(ctx, g);
  case CLS_BACKEND_CLBLAST:
    s = cls__mm_clblast(ctx, g);
    return s == CLS_OK ? cls__mm_bias_after(ctx, g) : s;
  case CLS_BACKEND_HOST:
    s = cls__mm_host(ctx, g);
    return s == CLS_OK ? cls__mm_bias_after(ctx, g) : s;
  case CLS_BACKEND_AUTO:
    return cls__mm_auto(ctx, g);
  }
  return cls__fail(ctx, CLS_ERR_INTERNAL, "matmul: unhandled backend %d", (int)backend);
}

cls_status cls_matmul_batched_on(cls_context *ctx, cls_backend backend, cls_trans ta, cls_trans tb, size_t m,
                                 size_t n, size_t k, float alpha, cls_ref a, size_t lda, size_t stride_a,
                                 cls_ref b, size_t ldb, size_t stride_b, float beta, cls_ref c, size_t ldc,
                                 size_t stride_c, size_t batch) {
  CLS_CHECK_CTX(ctx);
  cls__mm_args g = {ta,  tb,  m,        n,        k,        batch, alpha, beta, a,         b, c, lda,
                    ldb, ldc, stride_a, stride_b, stride_c, 0,     0,     0,    {NULL, 0}, 0, 0};
  return cls__mm_run(ctx, backend, &g);
}

cls_status cls__mm_run(cls_context *ctx, cls_backend backend, cls__mm_args *g) {
  /* A single product has no strides; zero them so that backends and the
   * byte counts see one matrix. */
  if (g->batch == 1) g->stride_a = g->stride_b = g->stride_c = 0;
  cls_status s = validate(ctx, "cls_matmul", backend, g);
  if (s != CLS_OK) return s;
  return cls__mm_dispatch(ctx, backend, g);
}

/* cls_matmul_models and cls_matmul_models_bias (bias NULL: none). */
static cls_status models_run(cls_context *ctx, const char *fn, cls_trans ta, cls_trans tb, size_t m, size_t n,
                             size_t k, float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                             size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c, size_t batch,
                             size_t models, const cls_ref *bias, size_t bias_stride) {
  CLS_CHECK_CTX(ctx);
  if (!models || batch % models)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: batch %zu is not a whole number of products for each of %zu models", fn, batch, models);
  cls__mm_args g = {ta,  tb,  m,        n,        k,        batch, alpha,          beta, a,         b, c, lda,
                    ldb, ldc, stride_a, stride_b, stride_c, 0,     batch / models, 0,    {NULL, 0}, 0, 0};
  if (bias) {
    if (ldc != n)
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "%s: ldc %zu is not n %zu: the bias is added to C's rows of n floats; use "
                       "cls_matmul_models and cls_bias_add on a C with other row strides",
                       fn, ldc, n);
    if (models > 1 && bias_stride < n)
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "%s: bias_stride %zu is under n %zu: the models' biases overlap", fn, bias_stride, n);
    size_t nb = (models - 1) * bias_stride + n;
    cls_status s = cls__train_check(ctx, fn, "bias", *bias, nb);
    if (s == CLS_OK)
      s = cls__check_alias(ctx, fn, "c", c, batch > 1 ? (batch - 1) * stride_c + m * n : m * n, "bias", *bias, nb,
                           0);
    if (s != CLS_OK) return s;
    g.has_bias = 1;
    g.bias = *bias;
    g.bias_stride = models > 1 ? bias_stride : 0;
    g.bias_per = batch / models;
  }
  return cls__mm_run(ctx, cls_matmul_get_backend(ctx), &g);
}

cls_status cls_matmul_models(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                             float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                             size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c, size_t batch,
                             size_t models) {
  return models_run(ctx, "cls_matmul_models", ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c,
                    ldc, stride_c, batch, models, NULL, 0);
}

cls_status cls_matmul_models_bias(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                                  float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                                  size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c,
                                  size_t batch, size_t models, cls_ref bias, size_t bias_stride) {
  return models_run(ctx, "cls_matmul_models_bias", ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b,
                    beta, c, ldc, stride_c, batch, models, &bias, bias_stride);
}

cls_status cls_matmul_batched(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                              float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                              size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c, size_t batch) {
  CLS_CHECK_CTX(ctx);
  return cls_matmul_batched_on(ctx, cls_matmul_get_backend(ctx), ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb,
                               stride_b, beta, c, ldc, stride_c, batch);
}

cls_status cls_matmul(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k, float alpha,
                      cls_ref a, size_t lda, cls_ref b, size_t ldb, float beta, cls_ref c, size_t ldc) {
  CLS_CHECK_CTX(ctx);
  return cls_matmul_batched_on(ctx, cls_matmul_get_backend(ctx), ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0,
                               beta, c, ldc, 0, 1);
}
