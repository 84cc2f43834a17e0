/*
 * src/ops/attention.c — multi-head attention (see clscale/ops_attention.h).
 *
 * Two ways. Up to ATTN_TK keys and ATTN_DH columns a head (device
 * parameters; the emulator's label tokens at small widths), the kernels of
 * cl/attention.cl: one launch forward, two backward, a query row per
 * work-item, or on CPUs (ATTN_VEC, ATTN_QDH) blocks of queries with the
 * keys or the queries as vector lanes. Other shapes take batched matmuls
 * and the softmax kernel: each head is a strided batched matmul over the
 * batch (head h is a column offset into Q, K, V), and the softmax runs
 * once over all B*H*Tq score rows; the host loops over heads, so a step
 * costs 2H+1 launches forward and 4H+1 backward (plus the matmuls'
 * packing), cheaper than a (B, H) batch index in every matmul kernel when
 * rows are long enough to fill a launch.
 */
#include <math.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "attention_internal.h"
#include "launch_internal.h"

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

/* Which kernels a shape runs on. */
enum { WAY_MATMUL, WAY_ROWS, WAY_VEC, WAY_QLANES };

/* The vector kernels hold a head's keys and values as ATTN_DH float16s a
 * work-item; beyond 64 columns that many registers spill past any use. */
#define VEC_DH_MAX 64

/* qparam: ATTN_QDH (forward) or ATTN_QDH_BWD (backward); the two ways
 * share the probs layout, so each pass may take either. */
static cls_status attn_way(cls_context *ctx, const char *fn, const cls_attn_shape *s, const char *qparam,
                           int *way) {
  const long tk_max = cls__param(ctx, "ATTN_TK", 0), dh_max = cls__param(ctx, "ATTN_DH", 0);
  const long vec = cls__param(ctx, "ATTN_VEC", 0);
  if (vec != 0 && vec != 16)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: device parameter ATTN_VEC=%ld is neither 0 (row kernels) nor 16 (one key a lane of a "
                     "float16); fix CLSCALE_PARAMS",
                     fn, vec);
  if (vec == 16 && cls__param(ctx, "ROW_VEC", 0) != 16)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: ATTN_VEC=16 takes the row kernels' float16 vectors, but ROW_VEC is %ld; set ROW_VEC=16 "
                     "or ATTN_VEC=0 in CLSCALE_PARAMS",
                     fn, cls__param(ctx, "ROW_VEC", 0));
  /* qparam picks among the float16 kernels (its range, 0 to VEC_DH_MAX,
   * is checked with the context's parameters). */
  const long qdh = cls__param(ctx, qparam, 0);
  *way = WAY_MATMUL;
  if (tk_max > 0 && s->tk <= (size_t)tk_max && dh_max > 0 && s->head_dim <= (size_t)dh_max)
    *way = vec == 16 && s->tk <= 16 && s->head_dim <= VEC_DH_MAX ? WAY_VEC : WAY_ROWS;
  if (*way == WAY_VEC && s->head_dim <= (size_t)qdh) *way = WAY_QLANES;
  return CLS_OK;
}

/* Sets an operand's four arguments (buffer, offset, stride, ld). */
static cls_status arg_operand(cls_context *ctx, cl_kernel k, cl_uint *a, cls_attn_operand op) {
  cls_status s;
  if ((s = cls__arg_mem(ctx, k, (*a)++, op.ref.buf)) || (s = cls__arg_uint(ctx, k, (*a)++, op.ref.offset)) ||
      (s = cls__arg_uint(ctx, k, (*a)++, op.stride)) || (s = cls__arg_uint(ctx, k, (*a)++, op.ld)))
    return s;
  return CLS_OK;
}

static cls_status arg_shape(cls_context *ctx, cl_kernel k, cl_uint *a, const cls_attn_shape *s, size_t items) {
  cls_status st;
  if ((st = cls__arg_uint(ctx, k, (*a)++, s->heads)) || (st = cls__arg_uint(ctx, k, (*a)++, s->tq)) ||
      (st = cls__arg_uint(ctx, k, (*a)++, s->tk)) || (st = cls__arg_uint(ctx, k, (*a)++, s->head_dim)) ||
      (st = cls__arg_uint(ctx, k, (*a)++, items)))
    return st;
  return CLS_OK;
}

/* The vector kernels' launch: ATTN_QB queries a work-item (a device
 * parameter, so the kernel's define and this count agree), in groups of
 * VEC_LOCAL so that the emulator's (batch, head) blocks spread over
 * cores: 16 spectra x 4 heads x 128 queries give 64 groups. */
#define VEC_LOCAL 16

/* The queries-as-lanes kernels' queries a work-item: the lanes of a
 * float16 (QL in cl/attention.cl). */
#define QLANES 16

/* Each way's kernels: forward, backward of the queries, backward of the
 * keys and values. */
static const char *const way_kernels[][3] = {
    [WAY_ROWS] = {"attn_short_fwd", "attn_short_bwd_q", "attn_short_bwd_kv"},
    [WAY_VEC] = {"attn_vec_fwd", "attn_vec_bwd_q", "attn_vec_bwd_kv"},
    [WAY_QLANES] = {"attn_ql_fwd", "attn_ql_bwd_q", "attn_ql_bwd_kv"},
};

/* Work-items of a query-row pass: one per query row (the row kernels), or
 * per ATTN_QB (float16 kernels) or QLANES (queries as lanes) queries of
 * one (batch, head). */
static size_t query_items(cls_context *ctx, int way, const cls_attn_shape *s) {
  const size_t qb = way == WAY_VEC ? (size_t)cls__param(ctx, "ATTN_QB", 8) : way == WAY_QLANES ? QLANES : 1;
  return s->batch * s->heads * ((s->tq + qb - 1) / qb);
}

static cls_status launch_vec(cls_context *ctx, const char *op, cl_kernel k, size_t items, double flops,
                             double bytes) {
  size_t local = VEC_LOCAL, global = cls__round_up(items, local);
  return cls__launch(ctx, op, k, 1, &global, &local, flops, bytes);
}

static cls_status short_forward(cls_context *ctx, int way, const cls_attn_shape *s, cls_attn_operand q,
                                cls_attn_operand k, cls_attn_operand v, cls_ref probs, cls_attn_operand out) {
  const size_t rows = s->batch * s->heads * s->tq, dh = s->head_dim;
  const size_t items = query_items(ctx, way, s);
  cl_kernel kr;
  cls_status st = cls__kernel(ctx, "attention", way_kernels[way][0], &kr);
  cl_uint a = 0;
  if (st || (st = arg_operand(ctx, kr, &a, q)) || (st = arg_operand(ctx, kr, &a, k)) ||
      (st = arg_operand(ctx, kr, &a, v)) || (st = cls__arg_mem(ctx, kr, a++, probs.buf)) ||
      (st = cls__arg_uint(ctx, kr, a++, probs.offset)) || (st = arg_operand(ctx, kr, &a, out)) ||
      (st = arg_shape(ctx, kr, &a, s, items)) || (st = cls__arg_float(ctx, kr, a++, s->scale)) ||
      (st = cls__arg_int(ctx, kr, a++, s->causal)))
    return st;
  /* FLOPs: the two products' (2 tk dh each per row), as the matmul way
   * counts them (its softmax is counted apart; here it is not counted), so
   * a model's FLOPs per step are the same either way. */
  const double tk = (double)s->tk, n = (double)rows, flops = n * 4.0 * tk * dh,
               bytes = n * sizeof(float) * (2.0 * dh + 2.0 * tk * dh + tk);
  if (way != WAY_ROWS) return launch_vec(ctx, "attention_fwd", kr, items, flops, bytes);
  return cls__launch_map(ctx, "attention_fwd", kr, rows, flops, bytes);
}

/* The row and float16 ways' second backward launch: dk and dv (+)= sums
 * over queries of the saved P and the dS in scratch ((B, H, tq, tk)). */
static cls_status kv_pass(cls_context *ctx, int way, const cls_attn_shape *s, cls_attn_operand q, cls_ref probs,
                          cls_attn_operand dout, cls_ref scratch, cls_attn_operand dk, cls_attn_operand dv,
                          int accumulate) {
  const int rows = way == WAY_ROWS;
  const size_t dh = s->head_dim;
  /* a work-item per (b, h, key, column), or per (b, h, column) */
  const size_t items = rows ? s->batch * s->heads * s->tk * dh : s->batch * s->heads * dh;
  cl_kernel kr;
  cls_status st = cls__kernel(ctx, "attention", way_kernels[way][2], &kr);
  cl_uint a = 0;
  if (st || (st = arg_operand(ctx, kr, &a, q)) || (st = cls__arg_mem(ctx, kr, a++, probs.buf)) ||
      (st = cls__arg_uint(ctx, kr, a++, probs.offset)) || (st = arg_operand(ctx, kr, &a, dout)) ||
      (st = cls__arg_mem(ctx, kr, a++, scratch.buf)) || (st = cls__arg_uint(ctx, kr, a++, scratch.offset)) ||
      (st = arg_operand(ctx, kr, &a, dk)) || (st = arg_operand(ctx, kr, &a, dv)) ||
      (st = arg_shape(ctx, kr, &a, s, items)) || (st = cls__arg_int(ctx, kr, a++, s->causal)) ||
      (st = cls__arg_int(ctx, kr, a++, accumulate)))
    return st;
  const double m = (double)(s->batch * s->heads * s->tk * dh), tq = (double)s->tq; /* dV and dK entries */
  if (rows) return cls__launch_map(ctx, "attention_bwd", kr, items, m * 4.0 * tq, m * sizeof(float) * 4.0 * tq);
  return launch_vec(ctx, "attention_bwd", kr, items, m * 4.0 * tq, m * sizeof(float) * 4.0 * tq);
}

static cls_status short_backward(cls_context *ctx, int way, const cls_attn_shape *s, cls_attn_operand q,
                                 cls_attn_operand k, cls_attn_operand v, cls_ref probs, cls_attn_operand dout,
                                 cls_ref scratch, cls_attn_operand dq, cls_attn_operand dk, cls_attn_operand dv,
                                 int accumulate) {
  const int vec = way != WAY_ROWS;
  const size_t rows = s->batch * s->heads * s->tq, dh = s->head_dim;
  /* vec: a work-item per ATTN_QB queries */
  const size_t items_q = query_items(ctx, way, s);
  cl_kernel kr;
  cls_status st = cls__kernel(ctx, "attention", way_kernels[way][1], &kr);
  cl_uint a = 0;
  if (st || (st = arg_operand(ctx, kr, &a, k)) || (st = arg_operand(ctx, kr, &a, v)) ||
      (st = cls__arg_mem(ctx, kr, a++, probs.buf)) || (st = cls__arg_uint(ctx, kr, a++, probs.offset)) ||
      (st = arg_operand(ctx, kr, &a, dout)) || (st = cls__arg_mem(ctx, kr, a++, scratch.buf)) ||
      (st = cls__arg_uint(ctx, kr, a++, scratch.offset)) || (st = arg_operand(ctx, kr, &a, dq)) ||
      (st = arg_shape(ctx, kr, &a, s, items_q)) || (st = cls__arg_float(ctx, kr, a++, s->scale)) ||
      (st = cls__arg_int(ctx, kr, a++, s->causal)) || (st = cls__arg_int(ctx, kr, a++, accumulate)))
    return st;
  const double tk = (double)s->tk, n = (double)rows;
  const double flops_q = n * 4.0 * tk * dh; /* dP and dQ, as above */
  const double bytes_q = n * sizeof(float) * (2.0 * dh + 2.0 * tk * dh + 2.0 * tk);
  st = vec ? launch_vec(ctx, "attention_bwd", kr, items_q, flops_q, bytes_q)
           : cls__launch_map(ctx, "attention_bwd", kr, rows, flops_q, bytes_q);
  if (st != CLS_OK) return st;
  return kv_pass(ctx, way, s, q, probs, dout, scratch, dk, dv, accumulate);
}

/* The queries-as-lanes backward: attn_ql_bwd_q, a work-item per QLANES
 * queries, gives dq and each query block's share of dk and dv, into
 * scratch where a (batch, head)'s tq tk floats hold its blocks' 2 dh tk
 * each; attn_ql_bwd_kv sums the shares (a pass over the blocks' 2 dh tk
 * floats instead of over all B H tq tk probabilities, read dh times).
 * Where they do not fit (2 dh blocks > tq: few queries), dS goes into
 * scratch and the float16 way's attn_vec_bwd_kv sums over queries. */
static cls_status ql_backward(cls_context *ctx, const cls_attn_shape *s, cls_attn_operand q, cls_attn_operand k,
                              cls_attn_operand v, cls_ref probs, cls_attn_operand dout, cls_ref scratch,
                              cls_attn_operand dq, cls_attn_operand dk, cls_attn_operand dv, int accumulate) {
  const size_t dh = s->head_dim, blocks = (s->tq + QLANES - 1) / QLANES;
  const int parts = 2 * dh * blocks <= s->tq;
  const size_t items_q = query_items(ctx, WAY_QLANES, s), items = s->batch * s->heads * dh;
  cl_kernel kr;
  cls_status st = cls__kernel(ctx, "attention", way_kernels[WAY_QLANES][1], &kr);
  cl_uint a = 0;
  if (st || (st = arg_operand(ctx, kr, &a, q)) || (st = arg_operand(ctx, kr, &a, k)) ||
      (st = arg_operand(ctx, kr, &a, v)) || (st = cls__arg_mem(ctx, kr, a++, probs.buf)) ||
      (st = cls__arg_uint(ctx, kr, a++, probs.offset)) || (st = arg_operand(ctx, kr, &a, dout)) ||
      (st = cls__arg_mem(ctx, kr, a++, scratch.buf)) || (st = cls__arg_uint(ctx, kr, a++, scratch.offset)) ||
      (st = arg_operand(ctx, kr, &a, dq)) || (st = arg_shape(ctx, kr, &a, s, items_q)) ||
      (st = cls__arg_float(ctx, kr, a++, s->scale)) || (st = cls__arg_int(ctx, kr, a++, parts)) ||
      (st = cls__arg_int(ctx, kr, a++, accumulate)))
    return st;
  /* FLOPs as the other ways count them: dP and dQ here, dV and dK in the
   * second launch (whose shares this one computes when parts). */
  const double tk = (double)s->tk, tq = (double)s->tq, n = (double)(s->batch * s->heads) * tq;
  const double m = (double)(s->batch * s->heads * s->tk * dh); /* dV and dK entries */
  const double flops_q = n * 4.0 * tk * dh + (parts ? m * 4.0 * tq : 0.0);
  const double bytes_q = n * sizeof(float) * (3.0 * dh + 2.0 * tk * dh + 2.0 * tk);
  if ((st = launch_vec(ctx, "attention_bwd", kr, items_q, flops_q, bytes_q)) != CLS_OK) return st;
  if (!parts) return kv_pass(ctx, WAY_VEC, s, q, probs, dout, scratch, dk, dv, accumulate);
  if ((st = cls__kernel(ctx, "attention", way_kernels[WAY_QLANES][2], &kr)) != CLS_OK) return st;
  a = 0;
  if ((st = cls__arg_mem(ctx, kr, a++, scratch.buf)) || (st = cls__arg_uint(ctx, kr, a++, scratch.offset)) ||
      (st = arg_operand(ctx, kr, &a, dk)) || (st = arg_operand(ctx, kr, &a, dv)) ||
      (st = arg_shape(ctx, kr, &a, s, items)) || (st = cls__arg_int(ctx, kr, a++, accumulate)))
    return st;
  /* its additions are not counted, as the softmax's are not */
  return launch_vec(ctx, "attention_bwd", kr, items, 0.0, m * sizeof(float) * 2.0 * blocks);
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
  int way;
  if ((st = attn_way(ctx, fn, s, "ATTN_QDH", &way)) != CLS_OK) return st;
  if (way != WAY_MATMUL) return short_forward(ctx, way, s, q, k, v, probs, out);

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
  int way;
  if ((st = attn_way(ctx, fn, s, "ATTN_QDH_BWD", &way)) != CLS_OK) return st;
  if (way == WAY_QLANES) return ql_backward(ctx, s, q, k, v, probs, dout, scratch, dq, dk, dv, accumulate);
  if (way != WAY_MATMUL) return short_backward(ctx, way, s, q, k, v, probs, dout, scratch, dq, dk, dv, accumulate);
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
