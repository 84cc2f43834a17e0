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
