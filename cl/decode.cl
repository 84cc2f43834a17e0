/*
 * cl/decode.cl - attention of new queries against a key/value cache, for
 * generation (src/ops/decode.c launches them).
 *
 * The cache of one layer holds K and V as (B, H, cap, head_dim): a head's
 * keys are contiguous, so the dot products of a query walk memory in
 * order. kv_store copies the keys and values of T new positions from the
 * packed (B, T, 3C) activation into it; attn_decode lets each new query at
 * position pos0 + i see the cached positions 0 .. pos0 + i (the causal
 * mask of a whole forward pass, so that generation with the cache gives the
 * logits the full pass gives).
 */

#ifndef ROW_WG
#define ROW_WG 64
#endif

#include "rowvec.h"

/* Work-item (c, p), p = b T + t: column c of the key and the value of
 * position pos0 + t of sequence b into the caches. */
__kernel void kv_store(__global const float *k, uint ko, __global const float *v, uint vo, uint ld, uint stride,
                       __global float *kc, uint kco, __global float *vc, uint vco, uint B, uint T, uint H, uint dh,
                       uint cap, uint pos0) {
  uint c = get_global_id(0), p = get_global_id(1);
  uint C = H * dh;
  if (c >= C || p >= B * T) return;
  uint b = p / T, t = p % T, h = c / dh, d = c % dh;
  uint src = b * stride + t * ld + c;
  uint dst = ((b * H + h) * cap + pos0 + t) * dh + d;
  kc[kco + dst] = k[ko + src];
  vc[vco + dst] = v[vo + src];
}

/* Group g = (b H + h) tq + i: query i of sequence b, head h (at position
 * pos0 + i), against the n = pos0 + i + 1 cached keys of that head.
 *   s_j = scale q.K_j (into the group's row of the scratch),
 *   out = sum_j softmax(s)_j V_j.
 * Work-items share the keys (j = l, l + wg, ...), then the output columns.
 * The scratch row is written and read by different items of the same
 * group: a global barrier orders them. The whole group returns together or
 * not at all, so the barriers stay in uniform control flow. */
__kernel void attn_decode(__global const float *q, uint qo, uint q_ld, uint q_stride, __global const float *kc,
                          uint kco, __global const float *vc, uint vco, __global float *sc, uint sco,
                          __global float *out, uint oo, uint o_ld, uint o_stride, uint B, uint H, uint tq, uint dh,
                          uint cap, uint pos0, float scale) {
  __local float red[ROW_WG];
  uint g = get_group_id(0);
  if (g >= B * H * tq) return;
  uint l = get_local_id(0), wg = get_local_size(0);
  uint i = g % tq, bh = g / tq, h = bh % H, b = bh / H;
  uint n = pos0 + i + 1;
  __global const float *qr = q + qo + b * q_stride + i * q_ld + h * dh;
  __global const float *K = kc + kco + bh * cap * dh;
  __global const float *V = vc + vco + bh * cap * dh;
  __global float *s = sc + sco + g * cap;
  __global float *o = out + oo + b * o_stride + i * o_ld + h * dh;

  float m = -INFINITY;
  for (uint j = l; j < n; j += wg) {
    __global const float *kj = K + j * dh;
    float acc = 0.0f;
    for (uint d = 0; d < dh; d++) acc = mad(qr[d], kj[d], acc);
    acc *= scale;
    s[j] = acc;
    m = fmax(m, acc);
  }
  m = wg_max(m, red);
  float sum = 0.0f;
  for (uint j = l; j < n; j += wg) {
    float e = exp(s[j] - m);
    s[j] = e;
    sum += e;
  }
  sum = wg_sum(sum, red);
  barrier(CLK_GLOBAL_MEM_FENCE);
  float inv = 1.0f / sum;
  /* Written as whole rounds of wg columns with a guard: PoCL 3 (CPU)
   * stored past dh when the loop started at d = l and stepped by wg. */
  for (uint d0 = 0; d0 < dh; d0 += wg) {
    uint d = d0 + l;
    if (d < dh) {
      float acc = 0.0f;
      for (uint j = 0; j < n; j++) acc = mad(s[j], V[j * dh + d], acc);
      o[d] = acc * inv;
    }
  }
}
