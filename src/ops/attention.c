/*
 * src/ops/attention.c — multi-head attention from batched matmuls and the
 * softmax kernel (see clscale/ops_attention.h).
 *
 * No attention-specific kernel: each head is a strided batched matmul over
 * the batch (head h is a column offset into Q, K, V), and the softmax runs
 * once over all B*H*Tq score rows. The host loops over heads, so a step
 * costs 2H+1 launches forward and 4H+1 backward; with the handful of heads
 * of the models here, that is cheaper than a (B, H) batch index in every
 * matmul kernel.
 */
#include <math.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "attention_internal.h"

size_t cls_attention_probs_count(const cls_attn_shape *s) {
  if (!s) return 0;
  return s->batch * s->heads * s->tq * s->tk;
}

static cls_ref shift(cls_ref r, size_t by) {
  return cls_ref_at(r.buf, r.offset + by);
}

cls_status cls__attn_check_operand(cls_context *ctx, const char *fn, const char *name, cls_attn_operand op,
                                   size_t t, size_t c, size_t batch, int is_output) {
  if (op.ld < c)
    return cls__fail(ctx, CLS_ERR_LEADING_DIM, "%s: %s.ld is %zu but a position holds C = %zu floats", fn, name,
                     op.ld, c);
  if (is_output && batch > 1 && op.stride < (t - 1) * op.ld + c)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: %s.stride %zu makes batch elements overlap (at least %zu is needed for an output)", fn,
                     name, op.stride, (t - 1) * op.ld + c);
  return cls__check_matrix(ctx, fn, name, op.ref, t, c, op.ld, op.stride, batch);
}

static cls_status check_shape(cls_context *ctx, const char *fn, const cls_attn_shape *s) {
  if (!s) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: shape is NULL", fn);
  if (!s->batch || !s->tq || !s->tk || !s->heads || !s->head_dim)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: every dimension must be at least 1 (batch %zu, tq %zu, tk %zu, heads %zu, head_dim %zu)",
                     fn, s->batch, s->tq, s->tk, s->heads, s->head_dim);
  if (!isfinite(s->scale) || s->scale == 0.0f)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: scale must be finite and nonzero (1/sqrt(head_dim) or 1/head_dim)", fn);
  if (s->causal && s->tq != s->tk)
    return cls__fail(ctx, CLS_ERR_SHAPE_MISMATCH, "%s: a causal mask needs tq == tk (got %zu and %zu)", fn, s->tq,
                     s->tk);
  double probs = (double)s->batch * s->heads * s->tq * s->tk, width = (double)s->heads * s->head_dim;
  if (probs > 2147483647.0 || width > 2147483647.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: B*H*Tq*Tk = %.0f is beyond the 2^31-1 floats an operand may hold", fn, probs);
  return CLS_OK;
}

cls_status cls_attention_forward(cls_context *ctx, const cls_attn_shape *s, cls_attn_operand q, cls_attn_operand k,
                                 cls_attn_operand v, cls_ref probs, cls_attn_operand out) {
  static const char fn[] = "cls_attention_forward";
  CLS_CHECK_CTX(ctx);
  cls_status st = check_shape(ctx, fn, s);
  if (st != CLS_OK) return st;
  const size_t C = s->heads * s->head_dim, B = s->batch, H = s->heads, dh = s->head_dim;
  const size_t block = s->tq * s->tk; /* one (b, h) score matrix */
  if ((st = cls__attn_check_operand(ctx, fn, "q", q, s->tq, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "k", k, s->tk, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "v", v, s->tk, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "out", out, s->tq, C, B, 1)) != CLS_OK ||
      (st = cls__check_ref(ctx, fn, "probs", probs, cls_attention_probs_count(s))) != CLS_OK)
    return st;

  /* Scores S[b, h] = Q_bh K_bh^T, unscaled: the softmax applies the scale. */
  for (size_t h = 0; h < H && st == CLS_OK; h++)
    st = cls_matmul_batched(ctx, CLS_NO_TRANS, CLS_TRANS, s->tq, s->tk, dh, 1.0f, shift(q.ref, h * dh), q.ld,
                            q.stride, shift(k.ref, h * dh), k.ld, k.stride, 0.0f, shift(probs, h * block), s->tk,
                            H * block, B);
  if (st == CLS_OK) st = cls_softmax_forward(ctx, B * H * s->tq, s->tk, s->scale, s->causal, probs, probs);
  /* out[b, :, head h] = P_bh V_bh */
  for (size_t h = 0; h < H && st == CLS_OK; h++)
    st = cls_matmul_batched(ctx, CLS_NO_TRANS, CLS_NO_TRANS, s->tq, dh, s->tk, 1.0f, shift(probs, h * block),
                            s->tk, H * block, shift(v.ref, h * dh), v.ld, v.stride, 0.0f, shift(out.ref, h * dh),
                            out.ld, out.stride, B);
  return st;
}

cls_status cls_attention_backward(cls_context *ctx, const cls_attn_shape *s, cls_attn_operand q,
                                  cls_attn_operand k, cls_attn_operand v, cls_ref probs, cls_attn_operand dout,
                                  cls_ref scratch, cls_attn_operand dq, cls_attn_operand dk, cls_attn_operand dv,
                                  int accumulate) {
  static const char fn[] = "cls_attention_backward";
  CLS_CHECK_CTX(ctx);
  cls_status st = check_shape(ctx, fn, s);
  if (st != CLS_OK) return st;
  if (accumulate != 0 && accumulate != 1)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: accumulate must be 0 or 1, not %d", fn, accumulate);
  const size_t C = s->heads * s->head_dim, B = s->batch, H = s->heads, dh = s->head_dim;
  const size_t block = s->tq * s->tk, n_probs = cls_attention_probs_count(s);
  if ((st = cls__attn_check_operand(ctx, fn, "q", q, s->tq, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "k", k, s->tk, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "v", v, s->tk, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "dout", dout, s->tq, C, B, 0)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "dq", dq, s->tq, C, B, 1)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "dk", dk, s->tk, C, B, 1)) != CLS_OK ||
      (st = cls__attn_check_operand(ctx, fn, "dv", dv, s->tk, C, B, 1)) != CLS_OK ||
      (st = cls__check_ref(ctx, fn, "probs", probs, n_probs)) != CLS_OK ||
      (st = cls__check_ref(ctx, fn, "scratch", scratch, n_probs)) != CLS_OK)
    return st;
  if (scratch.buf == probs.buf && scratch.offset < probs.offset + n_probs &&
      probs.offset < scratch.offset + n_probs)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: scratch overlaps probs; give it its own %zu floats", fn,
                     n_probs);
  const float beta = accumulate ? 1.0f : 0.0f;

  for (size_t h = 0; h < H && st == CLS_OK; h++) {
    /* dP_bh = dout_bh V_bh^T */
    st = cls_matmul_batched(ctx, CLS_NO_TRANS, CLS_TRANS, s->tq, s->tk, dh, 1.0f, shift(dout.ref, h * dh), dout.ld,
                            dout.stride, shift(v.ref, h * dh), v.ld, v.stride, 0.0f, shift(scratch, h * block),
                            s->tk, H * block, B);
    /* dV_bh (+)= P_bh^T dout_bh */
    if (st == CLS_OK)
      st = cls_matmul_batched(ctx, CLS_TRANS, CLS_NO_TRANS, s->tk, dh, s->tq, 1.0f, shift(probs, h * block), s->tk,
                              H * block, shift(dout.ref, h * dh), dout.ld, dout.stride, beta,
                              shift(dv.ref, h * dh), dv.ld, dv.stride, B);
  }
  /* dS = scale * P * (dP - rowsum(P * dP)), in place; masked entries get 0. */
  if (st == CLS_OK) st = cls_softmax_backward(ctx, B * H * s->tq, s->tk, s->scale, probs, scratch, scratch);
  for (size_t h = 0; h < H && st == CLS_OK; h++) {
    /* dQ_bh (+)= dS_bh K_bh */
    st = cls_matmul_batched(ctx, CLS_NO_TRANS, CLS_NO_TRANS, s->tq, dh, s->tk, 1.0f, shift(scratch, h * block),
                            s->tk, H * block, shift(k.ref, h * dh), k.ld, k.stride, beta, shift(dq.ref, h * dh),
                            dq.ld, dq.stride, B);
    /* dK_bh (+)= dS_bh^T Q_bh */
    if (st == CLS_OK)
      st = cls_matmul_batched(ctx, CLS_TRANS, CLS_NO_TRANS, s->tk, dh, s->tq, 1.0f, shift(scratch, h * block),
                              s->tk, H * block, shift(q.ref, h * dh), q.ld, q.stride, beta, shift(dk.ref, h * dh),
                              dk.ld, dk.stride, B);
  }
  return st;
}
