/*
 * cl/embedding.cl - token + position embedding, forward and backward
 * (src/ops/embedding.c launches them).
 *
 * Token ids are floats holding integers (exact below 2^24). The forward
 * pass writes NaN for an id that is not an integer in [0, V); the backward
 * pass leaves invalid ids out of its buckets.
 *
 * The backward pass for the token table is a scatter-add of rows of dout
 * onto the rows of their tokens. Instead of float atomics (not in OpenCL
 * 1.2, and their order would change the result from run to run) the
 * positions are bucketed by token in position order (embed_csr builds a
 * CSR list in scratch: off[0..V] and list[0..B*T), as uints), and
 * work-item (column, token) sums its bucket in that order (embed_dwte).
 * Every result is thus bitwise reproducible.
 *
 * Models side by side (cls_embedding_*_models): the third dimension (the
 * first of embed_csr) is the model k, whose ids and activation rows
 * follow model k-1's, whose tables lie pstride floats after model k-1's,
 * and whose CSR lists are its own; each model's work is the one-model
 * kernel's, so every model's results are what it gets alone.
 */

#ifndef ROW_CVEC
#define ROW_CVEC 1
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* Work-items handle ROW_CVEC consecutive columns (the device table's
 * columns per item of column passes: 16 on CPUs, where explicit vectors
 * beat PoCL's own packing of items by 2-3x here, 1 on GPUs, where
 * consecutive items reading consecutive floats is what coalesces). A
 * partial group of columns at the row's end goes element by element. */
#if ROW_CVEC > 1
typedef CAT(float, ROW_CVEC) floatc;
#define CLOAD CAT(vload, ROW_CVEC)
#define CSTORE CAT(vstore, ROW_CVEC)
#endif

/* Work-item (c, p, k): out[p, c..] = wte[tok[p], c..] + wpe[p % T, c..]
 * for model k. */
__kernel void embed_fwd(__global const float *tok, uint to, __global const float *wte, uint wo,
                        __global const float *wpe, uint peo, int has_wpe, __global float *out, uint oo, uint BT,
                        uint T, uint V, uint dim, uint pstride) {
  uint c = get_global_id(0) * ROW_CVEC;
  uint p = get_global_id(1), m = get_global_id(2);
  if (c >= dim || p >= BT) return;
  float tf = tok[to + m * BT + p];
  int ok = tf >= 0.0f && tf < (float)V && tf == floor(tf);
  size_t w = wo + (size_t)m * pstride + (size_t)(ok ? (uint)tf : 0) * dim + c;
  size_t e = peo + (size_t)m * pstride + (size_t)(p % T) * dim + c;
  size_t o = oo + ((size_t)m * BT + p) * dim + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= dim) {
    floatc val = ok ? CLOAD(0, wte + w) : (floatc)(NAN);
    if (has_wpe) val += CLOAD(0, wpe + e);
    CSTORE(val, 0, out + o);
    return;
  }
#endif
  for (uint k = 0; k < min((uint)ROW_CVEC, dim - c); k++) {
    float val = ok ? wte[w + k] : NAN;
    if (has_wpe) val += wpe[e + k];
    out[o + k] = val;
  }
}

/* A counting sort of the positions by id, by one work-item, in
 * O(B*T + V): off[v] = the first slot of bucket v, list = the positions in
 * bucket order, increasing within a bucket. Serial on purpose: it is a
 * few microseconds for a training batch (2048 ids), and a parallel
 * version that keeps the order deterministic needs a multi-pass radix
 * sort that is not worth it at byte-level vocabularies. Invalid ids are
 * left out. */
__kernel void embed_csr(__global const float *tok, uint to, uint BT, uint V, __global uint *off_all,
                        __global uint *list_all, uint models) {
  const uint m = get_global_id(0);
  if (m >= models) return;
  __global uint *off = off_all + (size_t)m * (V + 1), *list = list_all + (size_t)m * BT;
  to += m * BT;
  for (uint v = 0; v <= V; v++) off[v] = 0;
  for (uint p = 0; p < BT; p++) {
    float tf = tok[to + p];
    if (tf >= 0.0f && tf < (float)V && tf == floor(tf)) off[(uint)tf + 1]++;
  }
  for (uint v = 0; v < V; v++) off[v + 1] += off[v];
  /* Fill with off[v] as bucket v's cursor; afterwards off[v] holds the
   * end of bucket v, i.e. the start of v + 1, so shift back by one. */
  for (uint p = 0; p < BT; p++) {
    float tf = tok[to + p];
    if (tf >= 0.0f && tf < (float)V && tf == floor(tf)) list[off[(uint)tf]++] = p;
  }
  for (uint v = V; v > 0; v--) off[v] = off[v - 1];
  off[0] = 0;
}

/* Work-item (c, v, k): dwte[v, c..] (+)= the sum of dout[p, c..] over
 * bucket v of model k, in position order. The group's items share v, so
 * the loop is uniform across the group. */
__kernel void embed_dwte(__global const float *dout, uint doo, __global const uint *off_all,
                         __global const uint *list_all, __global float *dwte, uint wo, uint V, uint dim,
                         int accumulate, uint BT, uint pstride) {
  uint c = get_global_id(0) * ROW_CVEC;
  uint v = get_global_id(1), m = get_global_id(2);
  if (c >= dim || v >= V) return;
  __global const uint *off = off_all + (size_t)m * (V + 1), *list = list_all + (size_t)m * BT;
  dout += doo + (size_t)m * BT * dim;
  uint k0 = off[v], k1 = off[v + 1];
  size_t o = wo + (size_t)m * pstride + (size_t)v * dim + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= dim) {
    floatc s = (floatc)(0.0f);
    for (uint k = k0; k < k1; k++) s += CLOAD(0, dout + (size_t)list[k] * dim + c);
    if (accumulate) s += CLOAD(0, dwte + o);
    CSTORE(s, 0, dwte + o);
    return;
  }
#endif
  for (uint j = 0; j < min((uint)ROW_CVEC, dim - c); j++) {
    float s = 0.0f;
    for (uint k = k0; k < k1; k++) s += dout[(size_t)list[k] * dim + c + j];
    dwte[o + j] = accumulate ? dwte[o + j] + s : s;
  }
}

/* Work-item (c, t, k): dwpe[t, c..] (+)= the sum over b of dout[b*T + t,
 * c..] of model k. */
__kernel void embed_dwpe(__global const float *dout, uint doo, __global float *dwpe, uint peo, uint batch, uint T,
                         uint dim, int accumulate, uint pstride) {
  uint c = get_global_id(0) * ROW_CVEC;
  uint t = get_global_id(1), m = get_global_id(2);
  if (c >= dim || t >= T) return;
  dout += doo + (size_t)m * batch * T * dim;
  size_t o = peo + (size_t)m * pstride + (size_t)t * dim + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= dim) {
    floatc s = (floatc)(0.0f);
    for (uint b = 0; b < batch; b++) s += CLOAD(0, dout + ((size_t)b * T + t) * dim + c);
    if (accumulate) s += CLOAD(0, dwpe + o);
    CSTORE(s, 0, dwpe + o);
    return;
  }
#endif
  for (uint j = 0; j < min((uint)ROW_CVEC, dim - c); j++) {
    float s = 0.0f;
    for (uint b = 0; b < batch; b++) s += dout[((size_t)b * T + t) * dim + c + j];
    dwpe[o + j] = accumulate ? dwpe[o + j] + s : s;
  }
}
