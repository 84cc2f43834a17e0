/*
 * cl/attention.cl - attention over short key sequences in one kernel
 * (src/ops/attention.c launches it when tk <= ATTN_TK).
 *
 * Built from matmuls and the softmax op, attention costs 2H + 1 launches
 * forward and 4H + 1 backward (with the matmuls' packing, about three
 * times that); for the few keys of the emulator's label tokens or a short
 * context each launch does little work, so the launches are the cost.
 * Here a work-item owns one (batch, head, query) row: its scores live in
 * a private array of ATTN_TK floats, so the whole forward is one launch
 * and the backward two (the query row's gradients, then the keys' and
 * values', which sum over queries: a second pass over the saved rows
 * instead of atomics, so every sum has one fixed order).
 *
 * Operands as cls_attention_forward takes them: element (b, t, column)
 * of X at X[xo + b * xs + t * xl + column], head h's columns from
 * h * dh. probs and the backward's scratch are (B, H, tq, tk). Rows are
 * ordered with the query fastest, so neighbouring work-items read the
 * same keys and values.
 */

#ifndef ATTN_TK
#define ATTN_TK 64
#endif

#define ROW_OF(X, xo, xs, xl, b, t, h) ((X) + (xo) + (b) * (xs) + (t) * (xl) + (h) * dh)

/* probs row = softmax(scale * q_i K^T) with the causal mask, and the
 * output row = probs row V. Masked entries of probs are written 0. */
__kernel void attn_short_fwd(__global const float *q, uint qo, uint qs, uint ql, __global const float *k, uint ko,
                             uint ks, uint kl, __global const float *v, uint vo, uint vs, uint vl,
                             __global float *probs, uint po, __global float *out, uint oo, uint os, uint ol,
                             uint heads, uint tq, uint tk, uint dh, uint rows, float scale, int causal) {
  const uint r = get_global_id(0);
  if (r >= rows) return;
  const uint i = r % tq, bh = r / tq, h = bh % heads, b = bh / heads;
  const uint n = causal ? min(i + 1, tk) : tk;
  __global const float *qi = ROW_OF(q, qo, qs, ql, b, i, h);
  float s[ATTN_TK > 0 ? ATTN_TK : 1];
  float mx = -INFINITY;
  for (uint j = 0; j < n; j++) {
    __global const float *kj = ROW_OF(k, ko, ks, kl, b, j, h);
    float acc = 0.0f;
    for (uint c = 0; c < dh; c++) acc = mad(qi[c], kj[c], acc);
    s[j] = scale * acc;
    mx = fmax(mx, s[j]);
  }
  float sum = 0.0f;
  for (uint j = 0; j < n; j++) {
    s[j] = exp(s[j] - mx);
    sum += s[j];
  }
  const float inv = 1.0f / sum;
  __global float *pr = probs + po + r * tk;
  for (uint j = 0; j < n; j++) {
    s[j] *= inv;
    pr[j] = s[j];
  }
  for (uint j = n; j < tk; j++) pr[j] = 0.0f;
  __global float *oi = ROW_OF(out, oo, os, ol, b, i, h);
  for (uint c = 0; c < dh; c++) {
    float acc = 0.0f;
    for (uint j = 0; j < n; j++) acc = mad(s[j], ROW_OF(v, vo, vs, vl, b, j, h)[c], acc);
    oi[c] = acc;
  }
}

/* Per query row: dP_j = dout_i . v_j, dS_j = scale P_j (dP_j - sum_k P_k
 * dP_k) into scratch (masked entries 0), and dq_i (+)= dS K. */
__kernel void attn_short_bwd_q(__global const float *k, uint ko, uint ks, uint kl, __global const float *v, uint vo,
                               uint vs, uint vl, __global const float *probs, uint po, __global const float *dout,
                               uint dto, uint dts, uint dtl, __global float *ds, uint so, __global float *dq,
                               uint qo, uint qs, uint ql, uint heads, uint tq, uint tk, uint dh, uint rows,
                               float scale, int causal, int accumulate) {
  const uint r = get_global_id(0);
  if (r >= rows) return;
  const uint i = r % tq, bh = r / tq, h = bh % heads, b = bh / heads;
  const uint n = causal ? min(i + 1, tk) : tk;
  __global const float *di = ROW_OF(dout, dto, dts, dtl, b, i, h);
  __global const float *pr = probs + po + r * tk;
  float d[ATTN_TK > 0 ? ATTN_TK : 1];
  float dot = 0.0f;
  for (uint j = 0; j < n; j++) {
    __global const float *vj = ROW_OF(v, vo, vs, vl, b, j, h);
    float acc = 0.0f;
    for (uint c = 0; c < dh; c++) acc = mad(di[c], vj[c], acc);
    d[j] = acc;
    dot = mad(pr[j], acc, dot);
  }
  __global float *sr = ds + so + r * tk;
  for (uint j = 0; j < n; j++) {
    d[j] = scale * pr[j] * (d[j] - dot);
    sr[j] = d[j];
  }
  for (uint j = n; j < tk; j++) sr[j] = 0.0f;
  __global float *qi = ROW_OF(dq, qo, qs, ql, b, i, h);
  for (uint c = 0; c < dh; c++) {
    float acc = 0.0f;
    for (uint j = 0; j < n; j++) acc = mad(d[j], ROW_OF(k, ko, ks, kl, b, j, h)[c], acc);
    qi[c] = accumulate ? qi[c] + acc : acc;
  }
}

/* Per (batch, head, key j, column c): dv (+)= sum_i P_ij dout_i[c] and
 * dk (+)= sum_i dS_ij q_i[c], over the queries that see key j. Columns
 * fastest: neighbouring items read the same P and dS entries and
 * consecutive columns. */
__kernel void attn_short_bwd_kv(__global const float *q, uint qo, uint qs, uint ql, __global const float *probs,
                                uint po, __global const float *dout, uint dto, uint dts, uint dtl,
                                __global const float *ds, uint so, __global float *dk, uint ko, uint ks, uint kl,
                                __global float *dv, uint vo, uint vs, uint vl, uint heads, uint tq, uint tk, uint dh,
                                uint items, int causal, int accumulate) {
  const uint id = get_global_id(0);
  if (id >= items) return;
  const uint c = id % dh, rest = id / dh, j = rest % tk, bh = rest / tk, h = bh % heads, b = bh / heads;
  const uint row0 = bh * tq; /* the (b, h) block's first query row */
  float acc_v = 0.0f, acc_k = 0.0f;
  for (uint i = causal ? j : 0; i < tq; i++) {
    const uint at = (row0 + i) * tk + j;
    acc_v = mad(probs[po + at], ROW_OF(dout, dto, dts, dtl, b, i, h)[c], acc_v);
    acc_k = mad(ds[so + at], ROW_OF(q, qo, qs, ql, b, i, h)[c], acc_k);
  }
  __global float *kj = ROW_OF(dk, ko, ks, kl, b, j, h) + c;
  __global float *vj = ROW_OF(dv, vo, vs, vl, b, j, h) + c;
  *kj = accumulate ? *kj + acc_k : acc_k;
  *vj = accumulate ? *vj + acc_v : acc_v;
}

/*
 * CPU variant (ATTN_VEC=16 with ROW_VEC=16; src/ops/attention.c picks it
 * for tk <= 16): the row kernels above are scalar loops over keys and
 * columns that PoCL does not vectorise, so on a CPU they lost to the
 * matmul way despite saving ~100 launches a step. Here the keys are the
 * lanes of one float16: a work-item takes ATTN_QB query rows of one
 * (batch, head), gathers that head's K and V once as dh vectors (lane j =
 * key j's column c), and each query's scores, softmax and gradients are
 * dh vector FMAs and a few horizontal sums in a fixed order. Lanes past
 * tk hold zeros in K and V and -inf in the scores, so they come out as
 * probability 0. The exponential is rowvec.h's (PoCL's exp() bitwise, in
 * fewer operations).
 */
#ifndef ATTN_DH
#define ATTN_DH 8
#endif
#ifndef ATTN_QB
#define ATTN_QB 8
#endif

#if defined(ATTN_VEC) && ATTN_VEC == 16 && defined(ROW_VEC) && ROW_VEC == 16
#include "rowvec.h"

/* A row of n <= 16 floats as a vector, zeros past n; never reads past
 * the row (rows are packed tk apart, so a whole vload16 could leave the
 * buffer). */
inline floatv attn_load_row(__global const float *p, uint n) {
  if (n == 16) return VLOAD(0, p);
  float t[16];
  for (uint j = 0; j < 16; j++) t[j] = j < n ? p[j] : 0.0f;
  return VLOAD(0, t);
}

inline void attn_store_row(floatv v, __global float *p, uint n) {
  if (n == 16) {
    VSTORE(v, 0, p);
    return;
  }
  float t[16];
  VSTORE(v, 0, t);
  for (uint j = 0; j < n; j++) p[j] = t[j];
}

/* Column c of head h of X's rows 0..n-1 of batch element b, one row a lane. */
inline floatv attn_gather(__global const float *x, uint xo, uint xs, uint xl, uint b, uint h, uint dh, uint c,
                          uint n) {
  float t[16];
  for (uint j = 0; j < 16; j++) t[j] = j < n ? ROW_OF(x, xo, xs, xl, b, j, h)[c] : 0.0f;
  return VLOAD(0, t);
}

/* Work-item r's block: its (batch, head) bh = (b, h), its queries
 * [i0, i1), and that head's keys and values gathered as dh vectors kt, vt
 * (the kernels' arguments k, v and their layouts by name). */
#define ATTN_VEC_BLOCK(r)                                                                                         \
  const uint blocks = (tq + ATTN_QB - 1) / ATTN_QB, blk = (r) % blocks, bh = (r) / blocks, h = bh % heads,        \
             b = bh / heads;                                                                                      \
  floatv kt[ATTN_DH], vt[ATTN_DH];                                                                                \
  for (uint c = 0; c < dh; c++) {                                                                                 \
    kt[c] = attn_gather(k, ko, ks, kl, b, h, dh, c, tk);                                                          \
    vt[c] = attn_gather(v, vo, vs, vl, b, h, dh, c, tk);                                                          \
  }                                                                                                               \
  const uint i0 = blk * ATTN_QB, i1 = min(tq, i0 + ATTN_QB)

__kernel void attn_vec_fwd(__global const float *q, uint qo, uint qs, uint ql, __global const float *k, uint ko,
                           uint ks, uint kl, __global const float *v, uint vo, uint vs, uint vl,
                           __global float *probs, uint po, __global float *out, uint oo, uint os, uint ol,
                           uint heads, uint tq, uint tk, uint dh, uint items, float scale, int causal) {
  const uint r = get_global_id(0);
  if (r >= items) return;
  ATTN_VEC_BLOCK(r);
  for (uint i = i0; i < i1; i++) {
    __global const float *qi = ROW_OF(q, qo, qs, ql, b, i, h);
    floatv s = (floatv)(0.0f);
    for (uint c = 0; c < dh; c++) s = fma((floatv)(qi[c]), kt[c], s);
    /* The keys this query sees keep their scores; the others get z = 0
     * for the exponential (in its fast range) and are zeroed after. */
    const intv seen = LANE_IDS < (int)(causal ? min(i + 1, tk) : tk);
    s *= scale;
    const floatv z = select((floatv)(0.0f), s - hmax(select((floatv)(-INFINITY), s, seen)), seen);
    const floatv e = select((floatv)(0.0f), exp_rows(z), seen);
    const floatv p = e * (1.0f / hsum(e));
    attn_store_row(p, probs + po + (bh * tq + i) * tk, tk);
    __global float *oi = ROW_OF(out, oo, os, ol, b, i, h);
    for (uint c = 0; c < dh; c++) oi[c] = hsum(p * vt[c]);
  }
}

/* dP = dout_i V^T, dS = scale P (dP - P.dP) into scratch, dq_i (+)= dS K. */
__kernel void attn_vec_bwd_q(__global const float *k, uint ko, uint ks, uint kl, __global const float *v, uint vo,
                             uint vs, uint vl, __global const float *probs, uint po, __global const float *dout,
                             uint dto, uint dts, uint dtl, __global float *ds, uint so, __global float *dq, uint qo,
                             uint qs, uint ql, uint heads, uint tq, uint tk, uint dh, uint items, float scale,
                             int causal, int accumulate) {
  (void)causal; /* the row kernels' arguments; masked keys have P = 0 */
  const uint r = get_global_id(0);
  if (r >= items) return;
  ATTN_VEC_BLOCK(r);
  for (uint i = i0; i < i1; i++) {
    __global const float *di = ROW_OF(dout, dto, dts, dtl, b, i, h);
    floatv d = (floatv)(0.0f);
    for (uint c = 0; c < dh; c++) d = fma((floatv)(di[c]), vt[c], d);
    const uint row = (bh * tq + i) * tk;
    const floatv p = attn_load_row(probs + po + row, tk);
    const floatv g = scale * p * (d - hsum(p * d));
    attn_store_row(g, ds + so + row, tk);
    __global float *qi = ROW_OF(dq, qo, qs, ql, b, i, h);
    for (uint c = 0; c < dh; c++) {
      const float acc = hsum(g * kt[c]);
      qi[c] = accumulate ? qi[c] + acc : acc;
    }
  }
}

/* Per (batch, head, column c), all keys at once: dv[., c] (+)= sum_i P_i
 * dout_i[c], dk[., c] (+)= sum_i dS_i q_i[c], queries in order (a masked
 * entry adds an exact 0). */
__kernel void attn_vec_bwd_kv(__global const float *q, uint qo, uint qs, uint ql, __global const float *probs,
                              uint po, __global const float *dout, uint dto, uint dts, uint dtl,
                              __global const float *ds, uint so, __global float *dk, uint ko, uint ks, uint kl,
                              __global float *dv, uint vo, uint vs, uint vl, uint heads, uint tq, uint tk, uint dh,
                              uint items, int causal, int accumulate) {
  (void)causal;
  const uint id = get_global_id(0);
  if (id >= items) return;
  const uint c = id % dh, bh = id / dh, h = bh % heads, b = bh / heads;
  floatv acc_v = (floatv)(0.0f), acc_k = (floatv)(0.0f);
  for (uint i = 0; i < tq; i++) {
    const uint row = (bh * tq + i) * tk;
    acc_v = fma(attn_load_row(probs + po + row, tk), (floatv)(ROW_OF(dout, dto, dts, dtl, b, i, h)[c]), acc_v);
    acc_k = fma(attn_load_row(ds + so + row, tk), (floatv)(ROW_OF(q, qo, qs, ql, b, i, h)[c]), acc_k);
  }
  float tv[16], tkk[16];
  VSTORE(acc_v, 0, tv);
  VSTORE(acc_k, 0, tkk);
  for (uint j = 0; j < tk; j++) {
    __global float *kj = ROW_OF(dk, ko, ks, kl, b, j, h) + c;
    __global float *vj = ROW_OF(dv, vo, vs, vl, b, j, h) + c;
    *kj = accumulate ? *kj + tkk[j] : tkk[j];
    *vj = accumulate ? *vj + tv[j] : tv[j];
  }
}

#endif
