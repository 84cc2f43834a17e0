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
static cls_status launch_2d(cls_context *ctx, const char *op, cl_kernel k, size_t cols, size_t rows, double flops,
                            double bytes) {
  size_t kmax;
  cls_status s = cls__kernel_max_group(ctx, k, &kmax);
  if (s != CLS_OK) return s;
  long cvec = cls__param(ctx, "ROW_CVEC", 1);
  cols = (cols + (size_t)(cvec < 1 ? 1 : cvec) - 1) / (size_t)(cvec < 1 ? 1 : cvec);
  long want = cls__param(ctx, "ROW_CLOCAL", 64);
  size_t l = want < 1 ? 1 : (size_t)want;
  if (l > kmax) l = kmax;
  size_t global[2] = {cls__round_up(cols, l), rows};
  size_t local[2] = {l, 1};
  return cls__launch(ctx, op, k, 2, global, local, flops, bytes);
}

cls_status cls_embedding_forward(cls_context *ctx, size_t batch, size_t T, size_t vocab, size_t dim,
                                 cls_ref tokens, cls_ref wte, cls_ref wpe, cls_ref out) {
  static const char fn[] = "cls_embedding_forward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_shape(ctx, fn, batch, T, vocab, dim)) != CLS_OK) return s;
  size_t bt = batch * T, n = bt * dim;
  int has_wpe = cls__train_present(wpe);
  if ((s = cls__train_check(ctx, fn, "tokens", tokens, bt)) ||
      (s = cls__train_check(ctx, fn, "wte", wte, vocab * dim)) ||
      (has_wpe && (s = cls__train_check(ctx, fn, "wpe", wpe, T * dim))) ||
      (s = cls__train_check(ctx, fn, "out", out, n)) ||
      (s = cls__check_alias(ctx, fn, "out", out, n, "tokens", tokens, bt, 0)) ||
      (s = cls__check_alias(ctx, fn, "out", out, n, "wte", wte, vocab * dim, 0)) ||
      (s = cls__check_alias(ctx, fn, "out", out, n, "wpe", wpe, T * dim, 0)))
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
      (s = cls__arg_uint(ctx, k, a++, dim)))
    return s;
  /* Bytes: a table row read and an output row written per position, plus
   * the position row (T distinct rows, mostly cached) and the ids. */
  double nd = (double)n;
  double bytes = ((has_wpe ? 3.0 : 2.0) * nd + (double)bt) * sizeof(float);
  return launch_2d(ctx, "embedding_fwd", k, dim, bt, has_wpe ? nd : 0.0, bytes);
}

cls_status cls_embedding_backward(cls_context *ctx, size_t batch, size_t T, size_t vocab, size_t dim,
                                  cls_ref tokens, cls_ref dout, cls_ref dwte, cls_ref dwpe, int accumulate) {
  static const char fn[] = "cls_embedding_backward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_shape(ctx, fn, batch, T, vocab, dim)) != CLS_OK) return s;
  size_t bt = batch * T, n = bt * dim, nw = vocab * dim, np = T * dim;
  int has_wpe = cls__train_present(dwpe);
  if ((s = cls__train_check(ctx, fn, "tokens", tokens, bt)) || (s = cls__train_check(ctx, fn, "dout", dout, n)) ||
      (s = cls__train_check(ctx, fn, "dwte", dwte, nw)) ||
      (has_wpe && (s = cls__train_check(ctx, fn, "dwpe", dwpe, np))) ||
      (s = cls__train_check_flag(ctx, fn, "accumulate", accumulate)) ||
      (s = cls__check_alias(ctx, fn, "dwte", dwte, nw, "tokens", tokens, bt, 0)) ||
      (s = cls__check_alias(ctx, fn, "dwte", dwte, nw, "dout", dout, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "dwte", dwte, nw, "dwpe", dwpe, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "dwpe", dwpe, np, "tokens", tokens, bt, 0)) ||
      (s = cls__check_alias(ctx, fn, "dwpe", dwpe, np, "dout", dout, n, 0)))
    return s;

  cl_kernel kc, kw, kp = NULL;
  if ((s = cls__kernel(ctx, "embedding", "embed_csr", &kc)) ||
      (s = cls__kernel(ctx, "embedding", "embed_dwte", &kw)) ||
      (has_wpe && (s = cls__kernel(ctx, "embedding", "embed_dwpe", &kp))))
    return s;
  /* CSR scratch (uints in float-sized slots): bucket offsets and the
   * positions in bucket order. On failure the allocator has said why. */
  cls_buffer *off = NULL, *list = NULL;
  if ((s = cls__ops_temp(ctx, 0, vocab + 1, &off)) != CLS_OK) return s;
  if ((s = cls__ops_temp(ctx, 1, bt, &list)) != CLS_OK) return s;
  double btd = (double)bt, vd = (double)vocab;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kc, 0, tokens.buf)) || (s = cls__arg_uint(ctx, kc, 1, tokens.offset)) ||
      (s = cls__arg_uint(ctx, kc, 2, bt)) || (s = cls__arg_uint(ctx, kc, 3, vocab)) ||
      (s = cls__arg_mem(ctx, kc, 4, off)) || (s = cls__arg_mem(ctx, kc, 5, list)))
    goto done;
  /* The sort reads the ids twice and writes the list and the offsets. */
  size_t one = 1;
  if ((s = cls__launch(ctx, "embedding_bwd", kc, 1, &one, &one, 0.0, (3.0 * btd + 3.0 * vd) * sizeof(float))))
    goto done;
  if ((s = cls__arg_mem(ctx, kw, a++, dout.buf)) || (s = cls__arg_uint(ctx, kw, a++, dout.offset)) ||
      (s = cls__arg_mem(ctx, kw, a++, off)) || (s = cls__arg_mem(ctx, kw, a++, list)) ||
      (s = cls__arg_mem(ctx, kw, a++, dwte.buf)) || (s = cls__arg_uint(ctx, kw, a++, dwte.offset)) ||
      (s = cls__arg_uint(ctx, kw, a++, vocab)) || (s = cls__arg_uint(ctx, kw, a++, dim)) ||
      (s = cls__arg_int(ctx, kw, a++, accumulate)))
    goto done;
  double wbytes = ((double)n + (1.0 + accumulate) * (double)nw + btd + 2.0 * vd) * sizeof(float);
  if ((s = launch_2d(ctx, "embedding_bwd", kw, dim, vocab, (double)n, wbytes))) goto done;
  if (has_wpe) {
    a = 0;
    if ((s = cls__arg_mem(ctx, kp, a++, dout.buf)) || (s = cls__arg_uint(ctx, kp, a++, dout.offset)) ||
        (s = cls__arg_mem(ctx, kp, a++, dwpe.buf)) || (s = cls__arg_uint(ctx, kp, a++, dwpe.offset)) ||
        (s = cls__arg_uint(ctx, kp, a++, batch)) || (s = cls__arg_uint(ctx, kp, a++, T)) ||
        (s = cls__arg_uint(ctx, kp, a++, dim)) || (s = cls__arg_int(ctx, kp, a++, accumulate)))
      goto done;
    double pbytes = ((double)n + (1.0 + accumulate) * (double)np) * sizeof(float);
    s = launch_2d(ctx, "embedding_bwd", kp, dim, T, (double)n, pbytes);
  }
done:
  return s;
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
