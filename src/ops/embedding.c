/*
 * src/ops/embedding.c — token + position embedding forward and backward
 * (kernels in cl/embedding.cl), and the host-side token check.
 *
 * Errors: as listed at the top of include/clscale/ops_train.h, all checked
 * before anything is enqueued; vocab > 2^24 is CLS_ERR_INVALID_SIZE (ids
 * would not be exact floats).
 */
#include <math.h>
#include <stdint.h>

#include "ops/ops_state.h"
#include "ops/train_ref.h"

#define MAX_VOCAB ((size_t)1 << 24)
#define MAX_N     2147483647.0

/* The shape arguments shared by both directions. */
static cls_status check_shape(cls_context *ctx, const char *fn, size_t batch, size_t T, size_t vocab, size_t dim) {
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "batch", batch)) || (s = cls__train_check_size(ctx, fn, "T", T)) ||
      (s = cls__train_check_size(ctx, fn, "vocab", vocab)) || (s = cls__train_check_size(ctx, fn, "dim", dim)))
    return s;
  if (vocab > MAX_VOCAB)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: vocab is %zu; token ids are stored as floats, exact only below 2^24 = 16777216", fn,
                     vocab);
  if ((double)batch * (double)T * (double)dim > MAX_N || (double)vocab * (double)dim > MAX_N ||
      (double)batch * (double)T + (double)vocab + 1 > MAX_N)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: batch %zu x T %zu (or vocab %zu) x dim %zu exceeds 2^31-1 floats; split the batch", fn,
                     batch, T, vocab, dim);
  return CLS_OK;
}

/* A (cols, rows) launch: ROW_CVEC columns per work-item (as the kernels
 * read it), groups of ROW_CLOCAL items along the columns whatever the
 * width (the kernels bounds-check the extra items): PoCL compiles a kernel
 * once per group size, so models of every width share one compile in its
 * kernel cache (issue 13). */
static cls_status launch_2d(cls_context *ctx, const char *op, cl_kernel k, size_t cols, size_t rows, size_t models,
                            double flops, double bytes) {
  size_t kmax;
  cls_status s = cls__kernel_max_group(ctx, k, &kmax);
  if (s != CLS_OK) return s;
  long cvec = cls__param(ctx, "ROW_CVEC", 1);
  cols = (cols + (size_t)(cvec < 1 ? 1 : cvec) - 1) / (size_t)(cvec < 1 ? 1 : cvec);
  long want = cls__param(ctx, "ROW_CLOCAL", 64);
  size_t l = want < 1 ? 1 : (size_t)want;
  if (l > kmax) l = kmax;
  size_t global[3] = {cls__round_up(cols, l), rows, models};
  size_t local[3] = {l, 1, 1};
  return cls__launch(ctx, op, k, 3, global, local, flops, bytes);
}

/* The models' layout (models >= 1): a table stride of at least each
 * table's size, and every model's ids, rows and tables within 2^31. */
static cls_status check_models(cls_context *ctx, const char *fn, size_t models, size_t bt, size_t dim,
                               size_t tables, size_t pstride) {
  if (models == 1) return CLS_OK;
  if (!models || models > 4096)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models; use 1 to 4096", fn, models);
  if (pstride < tables)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: parameter stride %zu is below a model's table of %zu floats: the models' tables would "
                     "overlap",
                     fn, pstride, tables);
  if ((double)models * (double)bt * (double)dim > MAX_N || (double)(models - 1) * (double)pstride > MAX_N)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: %zu models of %zu x %zu floats exceed 2^31-1; use fewer models", fn, models, bt, dim);
  return CLS_OK;
}

cls_status cls_embedding_forward(cls_context *ctx, size_t batch, size_t T, size_t vocab, size_t dim,
                                 cls_ref tokens, cls_ref wte, cls_ref wpe, cls_ref out) {
  return cls_embedding_forward_models(ctx, 1, batch, T, vocab, dim, tokens, wte, wpe, 0, out);
}

cls_status cls_embedding_forward_models(cls_context *ctx, size_t models, size_t batch, size_t T, size_t vocab,
                                        size_t dim, cls_ref tokens, cls_ref wte, cls_ref wpe, size_t param_stride,
                                        cls_ref out) {
  static const char fn[] = "cls_embedding_forward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_shape(ctx, fn, batch, T, vocab, dim)) != CLS_OK) return s;
  int has_wpe = cls__train_present(wpe);
  const size_t bt = batch * T, nw = vocab * dim, np = T * dim;
  if ((s = check_models(ctx, fn, models, bt, dim, nw > np || !has_wpe ? nw : np, param_stride)) != CLS_OK)
    return s;
  /* Spans over all models: ids and rows one model after the other, the
   * tables param_stride apart. */
  const size_t K = models, ps = K > 1 ? param_stride : 0, ids = K * bt, n = ids * dim;
  const size_t sw = (K - 1) * ps + nw, sp = (K - 1) * ps + np;
  if ((s = cls__train_check(ctx, fn, "tokens", tokens, ids)) || (s = cls__train_check(ctx, fn, "wte", wte, sw)) ||
      (has_wpe && (s = cls__train_check(ctx, fn, "wpe", wpe, sp))) ||
      (s = cls__train_check(ctx, fn, "out", out, n)) ||
      (s = cls__check_alias(ctx, fn, "out", out, n, "tokens", tokens, ids, 0)) ||
      (s = cls__check_alias(ctx, fn, "out", out, n, "wte", wte, sw, 0)) ||
      (s = cls__check_alias(ctx, fn, "out", out, n, "wpe", wpe, sp, 0)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "embedding", "embed_fwd", &k)) != CLS_OK) return s;
  cls_ref pe = has_wpe ? wpe : wte; /* a valid buffer argument the flag keeps unread */
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, tokens.buf)) || (s = cls__arg_uint(ctx, k, a++, tokens.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, wte.buf)) || (s = cls__arg_uint(ctx, k, a++, wte.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, pe.buf)) || (s = cls__arg_uint(ctx, k, a++, pe.offset)) ||
      (s = cls__arg_int(ctx, k, a++, has_wpe)) || (s = cls__arg_mem(ctx, k, a++, out.buf)) ||
      (s = cls__arg_uint(ctx, k, a++, out.offset)) || (s = cls__arg_uint(ctx, k, a++, bt)) ||
      (s = cls__arg_uint(ctx, k, a++, T)) || (s = cls__arg_uint(ctx, k, a++, vocab)) ||
      (s = cls__arg_uint(ctx, k, a++, dim)) || (s = cls__arg_uint(ctx, k, a++, ps)))
    return s;
  /* Bytes: a table row read and an output row written per position, plus
   * the position row (T distinct rows, mostly cached) and the ids. */
  double nd = (double)n;
  double bytes = ((has_wpe ? 3.0 : 2.0) * nd + (double)ids) * sizeof(float);
  return launch_2d(ctx, "embedding_fwd", k, dim, bt, K, has_wpe ? nd : 0.0, bytes);
}

cls_status cls_embedding_backward(cls_context *ctx, size_t batch, size_t T, size_t vocab, size_t dim,
                                  cls_ref tokens, cls_ref dout, cls_ref dwte, cls_ref dwpe, int accumulate) {
  return cls_embedding_backward_models(ctx, 1, batch, T, vocab, dim, tokens, dout, dwte, dwpe, 0, accumulate);
}

cls_status cls_embedding_backward_models(cls_context *ctx, size_t models, size_t batch, size_t T, size_t vocab,
                                         size_t dim, cls_ref tokens, cls_ref dout, cls_ref dwte, cls_ref dwpe,
                                         size_t param_stride, int accumulate) {
  static const char fn[] = "cls_embedding_backward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_shape(ctx, fn, batch, T, vocab, dim)) != CLS_OK) return s;
  int has_wpe = cls__train_present(dwpe);
  const size_t bt = batch * T, nw = vocab * dim, np = T * dim;
  if ((s = check_models(ctx, fn, models, bt, dim, nw > np || !has_wpe ? nw : np, param_stride)) != CLS_OK)
    return s;
  const size_t K = models, ps = K > 1 ? param_stride : 0, ids = K * bt, n = ids * dim;
  const size_t sw = (K - 1) * ps + nw, sp = (K - 1) * ps + np;
  if ((s = cls__train_check(ctx, fn, "tokens", tokens, ids)) || (s = cls__train_check(ctx, fn, "dout", dout, n)) ||
      (s = cls__train_check(ctx, fn, "dwte", dwte, sw)) ||
      (has_wpe && (s = cls__train_check(ctx, fn, "dwpe", dwpe, sp))) ||
      (s = cls__train_check_flag(ctx, fn, "accumulate", accumulate)) ||
      (s = cls__check_alias(ctx, fn, "dwte", dwte, sw, "tokens", tokens, ids, 0)) ||
      (s = cls__check_alias(ctx, fn, "dwte", dwte, sw, "dout", dout, n, 0)) ||
      (s = cls__check_alias_parts(ctx, fn, "dwte", dwte, nw, "dwpe", dwpe, np, K, ps)) ||
      (s = cls__check_alias(ctx, fn, "dwpe", dwpe, sp, "tokens", tokens, ids, 0)) ||
      (s = cls__check_alias(ctx, fn, "dwpe", dwpe, sp, "dout", dout, n, 0)))
    return s;

  cl_kernel kc, kw, kp = NULL;
  if ((s = cls__kernel(ctx, "embedding", "embed_csr", &kc)) ||
      (s = cls__kernel(ctx, "embedding", "embed_dwte", &kw)) ||
      (has_wpe && (s = cls__kernel(ctx, "embedding", "embed_dwpe", &kp))))
    return s;
  /* CSR scratch (uints in float-sized slots), each model's own: bucket
   * offsets and the positions in bucket order. On failure the allocator
   * has said why. */
  cls_buffer *off = NULL, *list = NULL;
  if ((s = cls__ops_temp(ctx, 0, K * (vocab + 1), &off)) != CLS_OK) return s;
  if ((s = cls__ops_temp(ctx, 1, ids, &list)) != CLS_OK) return s;
  double btd = (double)ids, vd = (double)K * (double)vocab;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kc, 0, tokens.buf)) || (s = cls__arg_uint(ctx, kc, 1, tokens.offset)) ||
      (s = cls__arg_uint(ctx, kc, 2, bt)) || (s = cls__arg_uint(ctx, kc, 3, vocab)) ||
      (s = cls__arg_mem(ctx, kc, 4, off)) || (s = cls__arg_mem(ctx, kc, 5, list)) ||
      (s = cls__arg_uint(ctx, kc, 6, K)))
    return s;
  /* The sort (a work-item per model) reads the ids twice and writes the
   * list and the offsets. */
  size_t one = 1;
  if ((s = cls__launch(ctx, "embedding_bwd", kc, 1, &K, &one, 0.0, (3.0 * btd + 3.0 * vd) * sizeof(float))))
    return s;
  if ((s = cls__arg_mem(ctx, kw, a++, dout.buf)) || (s = cls__arg_uint(ctx, kw, a++, dout.offset)) ||
      (s = cls__arg_mem(ctx, kw, a++, off)) || (s = cls__arg_mem(ctx, kw, a++, list)) ||
      (s = cls__arg_mem(ctx, kw, a++, dwte.buf)) || (s = cls__arg_uint(ctx, kw, a++, dwte.offset)) ||
      (s = cls__arg_uint(ctx, kw, a++, vocab)) || (s = cls__arg_uint(ctx, kw, a++, dim)) ||
      (s = cls__arg_int(ctx, kw, a++, accumulate)) || (s = cls__arg_uint(ctx, kw, a++, bt)) ||
      (s = cls__arg_uint(ctx, kw, a++, ps)))
    return s;
  double wbytes = ((double)n + (1.0 + accumulate) * (double)(K * nw) + btd + 2.0 * vd) * sizeof(float);
  if ((s = launch_2d(ctx, "embedding_bwd", kw, dim, vocab, K, (double)n, wbytes))) return s;
  if (!has_wpe) return CLS_OK;
  a = 0;
  if ((s = cls__arg_mem(ctx, kp, a++, dout.buf)) || (s = cls__arg_uint(ctx, kp, a++, dout.offset)) ||
      (s = cls__arg_mem(ctx, kp, a++, dwpe.buf)) || (s = cls__arg_uint(ctx, kp, a++, dwpe.offset)) ||
      (s = cls__arg_uint(ctx, kp, a++, batch)) || (s = cls__arg_uint(ctx, kp, a++, T)) ||
      (s = cls__arg_uint(ctx, kp, a++, dim)) || (s = cls__arg_int(ctx, kp, a++, accumulate)) ||
      (s = cls__arg_uint(ctx, kp, a++, ps)))
    return s;
  double pbytes = ((double)n + (1.0 + accumulate) * (double)(K * np)) * sizeof(float);
  return launch_2d(ctx, "embedding_bwd", kp, dim, T, K, (double)n, pbytes);
}

cls_status cls_tokens_check(cls_context *ctx, const float *tokens, size_t n, size_t vocab, size_t *bad_index) {
  static const char fn[] = "cls_tokens_check";
  CLS_CHECK_CTX(ctx);
  if (!tokens) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: tokens is NULL", fn);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n)) || (s = cls__train_check_size(ctx, fn, "vocab", vocab)))
    return s;
  if (vocab > MAX_VOCAB)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: vocab is %zu; token ids are stored as floats, exact only below 2^24 = 16777216", fn,
                     vocab);
  for (size_t i = 0; i < n; i++) {
    float t = tokens[i];
    if (!(t >= 0.0f && t < (float)vocab && t == floorf(t))) {
      if (bad_index) *bad_index = i;
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "%s: token %zu is %g, not an integer id in [0, %zu); fix the data or the vocabulary size",
                       fn, i, (double)t, vocab);
    }
  }
  return CLS_OK;
}
