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

/* Lanes j < n of acc_k and acc_v into column c of head h of dk's and
 * dv's rows j (added to them when accumulate). */
inline void attn_store_kv_column(floatv acc_k, floatv acc_v, __global float *dk, uint ko, uint ks, uint kl,
                                 __global float *dv, uint vo, uint vs, uint vl, uint b, uint h, uint dh, uint c,
                                 uint n, int accumulate) {
  float tv[16], tkk[16];
  VSTORE(acc_v, 0, tv);
  VSTORE(acc_k, 0, tkk);
  for (uint j = 0; j < n; j++) {
    __global float *kj = ROW_OF(dk, ko, ks, kl, b, j, h) + c;
    __global float *vj = ROW_OF(dv, vo, vs, vl, b, j, h) + c;
    *kj = accumulate ? *kj + tkk[j] : tkk[j];
    *vj = accumulate ? *vj + tv[j] : tv[j];
  }
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
  attn_store_kv_column(acc_k, acc_v, dk, ko, ks, kl, dv, vo, vs, vl, b, h, dh, c, tk, accumulate);
}

/*
 * Queries as lanes (ATTN_QDH >= head_dim forward, ATTN_QDH_BWD backward,
 * with ATTN_VEC=16; attention.c picks it for tk <= 16): with the keys as lanes every query pays a
 * horizontal max, a horizontal sum and one horizontal sum per column, and
 * at the emulator's head_dim of 4 to 8 those dominate (PoCL lowers them
 * into long shuffle chains). Here a work-item takes 16 consecutive queries
 * of one (batch, head), lane l = query i0 + l: key j's scores are dh FMAs
 * with its column entries broadcast, the max and the sum over keys are
 * elementwise across the tk score vectors, and the output columns are tk
 * FMAs each: no horizontal operation at all. Every sum runs over keys in
 * order, per lane, so a query's results depend on its own row, the keys
 * and values only (not on the block or the batch). Keys past tk are
 * masked lanes, so the key loops have the fixed bound 16 (unrolled).
 * probs keeps the (B, H, tq, tk) layout of the other ways (the public
 * contract): a block's rows are transposed to and from the lanes in
 * registers. The backward sums dk and dv over a block's queries in the
 * same kernel (from the rows, lane = key) and a second small kernel sums
 * the blocks in order; both deterministic, no atomics. Lanes past tq
 * compute on zeros and store nothing.
 * On the 2-core AVX-512 CPU the forward took 0.6-0.8x the device time of
 * attn_vec_fwd in emulator training (widths 16, 32 and 48; measurements
 * in src/ops/params_rows.c, ATTN_QDH). By instruction counts (callgrind,
 * batch 32, 4 heads, 256 queries, 16 keys, head_dim 4) it does as much
 * work as attn_vec_fwd, without that kernel's chains of dependent
 * shuffles. The backward, a little less work than attn_vec_bwd_q and
 * attn_vec_bwd_kv together and faster in isolation, was not faster inside
 * training, so the CPU set leaves it off (ATTN_QDH_BWD=0).
 */
#ifndef ATTN_QDH
#define ATTN_QDH 0
#endif
#ifndef ATTN_QDH_BWD
#define ATTN_QDH_BWD 0
#endif
#if ATTN_QDH > 0 || ATTN_QDH_BWD > 0
#define QL 16 /* queries a work-item: the lanes of floatv */
/* head columns the private arrays hold: the larger of the two limits */
#define QDH_MAX (ATTN_QDH > ATTN_QDH_BWD ? ATTN_QDH : ATTN_QDH_BWD)

/* m[c] lane l = column c of the head's columns of row l (from row, rows
 * xl apart), c < dh, zeros past nl rows: through a private tile, one row
 * at a time. */
__attribute__((always_inline)) inline void attn_qgather(floatv *m, __global const float *row, uint xl, uint dh,
                                                        uint nl) {
  float t[QDH_MAX * QL];
  for (uint l = 0; l < nl; l++, row += xl)
    for (uint c = 0; c < dh; c++) t[c * QL + l] = row[c];
  for (uint l = nl; l < QL; l++)
    for (uint c = 0; c < dh; c++) t[c * QL + l] = 0.0f;
  for (uint c = 0; c < dh; c++) m[c] = VLOAD(c, t);
}

/* The inverse for rows l < nl, added to them when accumulate. */
__attribute__((always_inline)) inline void attn_qscatter(const floatv *m, __global float *row, uint xl, uint dh,
                                                         uint nl, int accumulate) {
  float t[QDH_MAX * QL];
  for (uint c = 0; c < dh; c++) VSTORE(m[c], c, t);
  for (uint l = 0; l < nl; l++, row += xl)
    for (uint c = 0; c < dh; c++) row[c] = accumulate ? row[c] + t[c * QL + l] : t[c * QL + l];
}

/* e[j] = e^z[j] for the 16 vectors: rowvec.h's exp_in_range when every
 * lane of every one is in its range (then it is exp() bitwise on PoCL),
 * else exp() (one range test for the block, not one a key). */
__attribute__((always_inline)) inline void attn_qexp(floatv *z) {
  intv ok = (intv)(-1);
  _Pragma("unroll") for (uint j = 0; j < 16; j++) ok &= exp_range_lanes(z[j]);
  if (all_lanes(ok))
    _Pragma("unroll") for (uint j = 0; j < 16; j++) z[j] = exp_in_range(z[j]);
  else
    _Pragma("unroll") for (uint j = 0; j < 16; j++) z[j] = exp(z[j]);
}

/* Work-item r's block: (batch, head) bh = (b, h), queries i0 .. i0 + nl - 1. */
#define ATTN_Q_BLOCK(r)                                                                                           \
  const uint blocks = (tq + QL - 1) / QL, blk = (r) % blocks, bh = (r) / blocks, h = bh % heads, b = bh / heads,  \
             i0 = blk * QL, nl = min((uint)QL, tq - i0);                                                          \
  __global const float *kb = ROW_OF(k, ko, ks, kl, b, 0, h), *vb = ROW_OF(v, vo, vs, vl, b, 0, h)

/* Which lanes see key j: none past tk, else all of them, or under the
 * causal mask the queries i0 + l >= j. */
#define ATTN_Q_SEEN(j) ((j) >= tk ? (intv)(0) : causal ? LANE_IDS >= (int)(j) - (int)i0 : (intv)(-1))

/* Transposes the 16 x 16 matrix of rows m[0..15] in registers: swapping
 * the off-diagonal k x k blocks of every 2k x 2k block, for k = 8, 4, 2,
 * 1 (64 two-vector shuffles instead of 256 scalar moves through memory). */
#define ATTN_T_STAGE(m, k, LO, HI)                                                                                \
  _Pragma("unroll") for (uint i = 0; i < 8; i++) {                                                                \
    const uint r = ((i & ~((k) - 1)) << 1) | (i & ((k) - 1)); /* the rows with bit k clear */                      \
    const floatv a = m[r], z = m[r + (k)];                                                                        \
    m[r] = (floatv)LO;                                                                                            \
    m[r + (k)] = (floatv)HI;                                                                                      \
  }
#define ATTN_TRANSPOSE16(m)                                                                                       \
  do {                                                                                                            \
    ATTN_T_STAGE(m, 8, (a.lo, z.lo), (a.hi, z.hi))                                                                \
    ATTN_T_STAGE(m, 4, (a.s0123, z.s0123, a.s89ab, z.s89ab), (a.s4567, z.s4567, a.scdef, z.scdef))                \
    ATTN_T_STAGE(m, 2, (a.s01, z.s01, a.s45, z.s45, a.s89, z.s89, a.scd, z.scd),                                  \
                 (a.s23, z.s23, a.s67, z.s67, a.sab, z.sab, a.sef, z.sef))                                        \
    ATTN_T_STAGE(m, 1,                                                                                            \
                 (a.s0, z.s0, a.s2, z.s2, a.s4, z.s4, a.s6, z.s6, a.s8, z.s8, a.sa, z.sa, a.sc, z.sc, a.se, z.se), \
                 (a.s1, z.s1, a.s3, z.s3, a.s5, z.s5, a.s7, z.s7, a.s9, z.s9, a.sb, z.sb, a.sd, z.sd, a.sf, z.sf)) \
  } while (0)

/* m[j] (lane l = query i0 + l, key j) into a block's rows p[l * tk + j]
 * for l < nl, j < tk: transposed in registers (m is clobbered), then
 * stored as rows. */
__attribute__((always_inline)) inline void attn_store_block(floatv *m, __global float *p, uint tk, uint nl) {
  ATTN_TRANSPOSE16(m);
  if (tk == 16 && nl == QL)
    _Pragma("unroll") for (uint l = 0; l < QL; l++) VSTORE(m[l], l, p);
  else
    for (uint l = 0; l < nl; l++) attn_store_row(m[l], p + l * tk, tk);
}

/* The inverse: m[j] lane l = p[l * tk + j], zeros past nl and tk. */
__attribute__((always_inline)) inline void attn_load_block(floatv *m, __global const float *p, uint tk, uint nl) {
  if (tk == 16 && nl == QL)
    _Pragma("unroll") for (uint l = 0; l < QL; l++) m[l] = VLOAD(l, p);
  else
    _Pragma("unroll") for (uint l = 0; l < QL; l++) m[l] = l < nl ? attn_load_row(p + l * tk, tk) : (floatv)(0.0f);
  ATTN_TRANSPOSE16(m);
}

__kernel void attn_ql_fwd(__global const float *q, uint qo, uint qs, uint ql, __global const float *k, uint ko,
                          uint ks, uint kl, __global const float *v, uint vo, uint vs, uint vl,
                          __global float *probs, uint po, __global float *out, uint oo, uint os, uint ol,
                          uint heads, uint tq, uint tk, uint dh, uint items, float scale, int causal) {
  const uint r = get_global_id(0);
  if (r >= items) return;
  ATTN_Q_BLOCK(r);
  floatv qc[QDH_MAX];
  attn_qgather(qc, ROW_OF(q, qo, qs, ql, b, i0, h), ql, dh, nl);
  /* Scores, key by key, over 16 keys (those past tk masked, so that the
   * loops have fixed bounds and s stays in registers); masked lanes are
   * left out of the max. */
  floatv s[16], mx = (floatv)(-INFINITY);
  _Pragma("unroll") for (uint j = 0; j < 16; j++) {
    floatv a = (floatv)(0.0f);
    if (j < tk)
      for (uint c = 0; c < dh; c++) a = fma(qc[c], (floatv)(kb[j * kl + c]), a);
    s[j] = a * scale;
    mx = fmax(mx, select((floatv)(-INFINITY), s[j], ATTN_Q_SEEN(j)));
  }
  /* Masked lanes take z = 0 (in the fast range) and come out as 0. */
  _Pragma("unroll") for (uint j = 0; j < 16; j++) s[j] = select((floatv)(0.0f), s[j] - mx, ATTN_Q_SEEN(j));
  attn_qexp(s);
  floatv sum = (floatv)(0.0f);
  _Pragma("unroll") for (uint j = 0; j < 16; j++) {
    s[j] = select((floatv)(0.0f), s[j], ATTN_Q_SEEN(j));
    sum += s[j];
  }
  const floatv inv = 1.0f / sum;
  _Pragma("unroll") for (uint j = 0; j < 16; j++) s[j] *= inv;
  floatv o[QDH_MAX];
  for (uint c = 0; c < dh; c++) {
    o[c] = (floatv)(0.0f);
    for (uint j = 0; j < tk; j++) o[c] = fma(s[j], (floatv)(vb[j * vl + c]), o[c]);
  }
  attn_qscatter(o, ROW_OF(out, oo, os, ol, b, i0, h), ol, dh, nl, 0);
  attn_store_block(s, probs + po + (bh * tq + i0) * tk, tk, nl);
}

/* dP_j = dout . v_j, dS_j = scale P_j (dP_j - sum_j P_j dP_j) and dq
 * (+)= sum_j dS_j k_j, lanes as in the forward. Then the keys' and
 * values' gradients, which sum over queries: with `parts`, this block's
 * share of them, over its queries in order, as rows (lane = key) of
 * scratch, which attn_ql_bwd_kv sums over the blocks in order (the
 * scratch of a (batch, head) holds its blocks' shares when 2 dh blocks <=
 * tq, see attention.c); without, dS itself into scratch ((B, H, tq, tk),
 * for attn_vec_bwd_kv). Either way every sum has one fixed order. */
__kernel void attn_ql_bwd_q(__global const float *q, uint qo, uint qs, uint ql, __global const float *k, uint ko,
                            uint ks, uint kl, __global const float *v, uint vo, uint vs, uint vl,
                            __global const float *probs, uint po, __global const float *dout, uint dto, uint dts,
                            uint dtl, __global float *ds, uint so, __global float *dq, uint dqo, uint dqs, uint dql,
                            uint heads, uint tq, uint tk, uint dh, uint items, float scale, int parts,
                            int accumulate) {
  const uint r = get_global_id(0);
  if (r >= items) return;
  ATTN_Q_BLOCK(r);
  floatv dc[QDH_MAX];
  attn_qgather(dc, ROW_OF(dout, dto, dts, dtl, b, i0, h), dtl, dh, nl);
  __global const float *pr = probs + po + (bh * tq + i0) * tk;
  floatv p[16], d[16], dot = (floatv)(0.0f);
  attn_load_block(p, pr, tk, nl);
  _Pragma("unroll") for (uint j = 0; j < 16; j++) {
    floatv a = (floatv)(0.0f);
    if (j < tk)
      for (uint c = 0; c < dh; c++) a = fma(dc[c], (floatv)(vb[j * vl + c]), a);
    d[j] = a;
    dot = fma(p[j], a, dot);
  }
  /* Masked keys have P = 0, so dS = 0: no mask needed. */
  _Pragma("unroll") for (uint j = 0; j < 16; j++) d[j] = scale * p[j] * (d[j] - dot);
  for (uint c = 0; c < dh; c++) {
    dc[c] = (floatv)(0.0f);
    for (uint j = 0; j < tk; j++) dc[c] = fma(d[j], (floatv)(kb[j * kl + c]), dc[c]);
  }
  attn_qscatter(dc, ROW_OF(dq, dqo, dqs, dql, b, i0, h), dql, dh, nl, accumulate);
  if (!parts) {
    attn_store_block(d, ds + so + (bh * tq + i0) * tk, tk, nl);
    return;
  }
  /* p[l], d[l]: query i0 + l's P and dS rows (lane = key) */
  ATTN_TRANSPOSE16(p);
  ATTN_TRANSPOSE16(d);
  __global float *part = ds + so + bh * tq * tk + blk * 2 * dh * tk;
  for (uint c = 0; c < dh; c++) {
    floatv av = (floatv)(0.0f), ak = (floatv)(0.0f);
    __global const float *dp = ROW_OF(dout, dto, dts, dtl, b, i0, h) + c, *qp = ROW_OF(q, qo, qs, ql, b, i0, h) + c;
    for (uint l = 0; l < nl; l++, dp += dtl, qp += ql) {
      av = fma(p[l], (floatv)(*dp), av);
      ak = fma(d[l], (floatv)(*qp), ak);
    }
    attn_store_row(av, part + c * tk, tk);
    attn_store_row(ak, part + (dh + c) * tk, tk);
  }
}

/* Per (batch, head, column c): dv[., c] and dk[., c] (+)= the sums of
 * attn_ql_bwd_q's shares over the blocks, in order. */
__kernel void attn_ql_bwd_kv(__global const float *ds, uint so, __global float *dk, uint ko, uint ks, uint kl,
                             __global float *dv, uint vo, uint vs, uint vl, uint heads, uint tq, uint tk, uint dh,
                             uint items, int accumulate) {
  const uint id = get_global_id(0);
  if (id >= items) return;
  const uint c = id % dh, bh = id / dh, h = bh % heads, b = bh / heads, blocks = (tq + QL - 1) / QL;
  __global const float *part = ds + so + bh * tq * tk;
  floatv acc_v = (floatv)(0.0f), acc_k = (floatv)(0.0f);
  for (uint blk = 0; blk < blocks; blk++, part += 2 * dh * tk) {
    acc_v += attn_load_row(part + c * tk, tk);
    acc_k += attn_load_row(part + (dh + c) * tk, tk);
  }
  attn_store_kv_column(acc_k, acc_v, dk, ko, ks, kl, dv, vo, vs, vl, b, h, dh, c, tk, accumulate);
}

#undef ATTN_Q_SEEN
#undef ATTN_TRANSPOSE16
#undef ATTN_T_STAGE
#undef ATTN_Q_BLOCK
#endif

#endif
