/*
 * cl/loss.cl - cross-entropy from logits (fused with its gradient) and the
 * squared error (src/ops/loss.c launches them).
 *
 * Cross-entropy has two shapes of kernel, chosen per device by ROW_VARIANT
 * like the softmax (cl/softmax.cl):
 *  - ce_row (0): one row per work-item with ROW_VEC-wide vector loops; on
 *    CPUs a row is a tight loop over memory that stays in L1.
 *  - ce_wg (1): one work-group per row, columns strided over the items
 *    (coalesced on GPUs), max and sum by trees in local memory.
 * Both take the row maximum first, so exp never overflows whatever the
 * magnitude of the (finite) logits, and store exp(x - max) into the
 * gradient while summing, so each exponential is computed once. The loss
 * is (max - x[target]) + log(sum): the difference of two nearby large
 * logits is exact, where max + log(sum) - x[target] would round at the
 * logits' magnitude (1e-3 absolute for logits near 1e4).
 *
 * The target -1 is ignored (CLS_IGNORE_TARGET): its loss is 0 and its
 * gradient row 0, so a model trained on some positions only (the answer
 * tokens of a question) passes -1 at the others and divides by the count
 * of the rest. Ignored rows skip the exponentials: in such batches they
 * are most rows. Any other target that is not an integer in [0, V) gives
 * a NaN loss and a NaN gradient row; nothing is read or written out of
 * bounds.
 *
 * dlogits may be the logits themselves: every element is read before the
 * work-item that owns it writes it, and only that item touches it.
 */

#ifndef ROW_WG
#define ROW_WG 64
#endif

#include "rowvec.h"

/* 1 when the float t is an integer id in [0, V). NaN compares false. */
int valid_id(float t, uint V) {
  return t >= 0.0f && t < (float)V && t == floor(t);
}

/* The target that asks for no loss and no gradient. */
#define IGNORE_TARGET (-1.0f)

/* ------------------------------------------------ variant 0: row per item */

__kernel void ce_row(__global const float *x, uint xo, __global const float *tg, uint to, __global float *loss,
                     uint lo, int has_loss, __global float *dl, uint dlo, int has_grad, uint rows, uint V,
                     float gs) {
  uint r = get_global_id(0);
  if (r >= rows) return;
  __global const float *xr = x + xo + (size_t)r * V;
  __global float *dr = dl + dlo + (size_t)r * V;
  float tf = tg[to + r];
  if (tf == IGNORE_TARGET) {
    if (has_loss) loss[lo + r] = 0.0f;
    if (has_grad)
      for (uint j = 0; j < V; j++) dr[j] = 0.0f;
    return;
  }
  int ok = valid_id(tf, V);
  uint t = ok ? (uint)tf : 0;
  float xt = xr[t]; /* before the gradient (perhaps in place) overwrites it */

  floatv vm = (floatv)(-INFINITY);
  uint j = 0;
  for (; j + ROW_VEC <= V; j += ROW_VEC) vm = fmax(vm, VLOAD(0, xr + j));
  float m = hmax(vm);
  for (; j < V; j++) m = fmax(m, xr[j]);

  floatv vs = (floatv)(0.0f);
  float s;
  if (has_grad) {
    for (j = 0; j + ROW_VEC <= V; j += ROW_VEC) {
      floatv e = exp(VLOAD(0, xr + j) - m);
      VSTORE(e, 0, dr + j);
      vs += e;
    }
    s = hsum(vs);
    for (; j < V; j++) {
      float e = exp(xr[j] - m);
      dr[j] = e;
      s += e;
    }
  } else {
    for (j = 0; j + ROW_VEC <= V; j += ROW_VEC) vs += exp(VLOAD(0, xr + j) - m);
    s = hsum(vs);
    for (; j < V; j++) s += exp(xr[j] - m);
  }

  if (has_loss) loss[lo + r] = ok ? (m - xt) + log(s) : NAN;
  if (has_grad) {
    float inv = ok ? gs / s : NAN;
    for (j = 0; j + ROW_VEC <= V; j += ROW_VEC) VSTORE(VLOAD(0, dr + j) * inv, 0, dr + j);
    for (; j < V; j++) dr[j] *= inv;
    if (ok) dr[t] -= gs;
  }
}

/* ---------------------------------------------- variant 1: group per row */

/* Group r takes row r; item l the columns l, l + lsz, ... The item owning
 * the target column reads it (before it overwrites it in place) and
 * writes the loss. */
__kernel void ce_wg(__global const float *x, uint xo, __global const float *tg, uint to, __global float *loss,
                    uint lo, int has_loss, __global float *dl, uint dlo, int has_grad, uint rows, uint V,
                    float gs) {
  __local float red[ROW_WG];
  uint r = get_group_id(0);
  uint l = get_local_id(0);
  uint lsz = get_local_size(0);
  __global const float *xr = x + xo + (size_t)r * V;
  __global float *dr = dl + dlo + (size_t)r * V;
  float tf = tg[to + r];
  /* The whole group reads the same target, so it leaves together, before
   * any barrier. */
  if (tf == IGNORE_TARGET) {
    if (has_loss && l == 0) loss[lo + r] = 0.0f;
    if (has_grad)
      for (uint j = l; j < V; j += lsz) dr[j] = 0.0f;
    return;
  }
  int ok = valid_id(tf, V);
  uint t = ok ? (uint)tf : 0;
  int owner = t % lsz == l;
  float xt = owner ? xr[t] : 0.0f;

  float m = -INFINITY;
  for (uint j = l; j < V; j += lsz) m = fmax(m, xr[j]);
  m = wg_max(m, red);

  float s = 0.0f;
  for (uint j = l; j < V; j += lsz) {
    float e = exp(xr[j] - m);
    if (has_grad) dr[j] = e;
    s += e;
  }
  s = wg_sum(s, red);

  if (has_loss && owner) loss[lo + r] = ok ? (m - xt) + log(s) : NAN;
  if (has_grad) {
    float inv = ok ? gs / s : NAN;
    for (uint j = l; j < V; j += lsz) dr[j] = dr[j] * inv - (ok && j == t ? gs : 0.0f);
  }
}

/* ----------------------------------------------------------------- MSE */

/* err = (p - t)^2, dp = gs2 * (p - t) with gs2 = 2 grad_scale. Either
 * output may be p or t (read first, by the same item). */
__kernel void mse(__global const float *p, uint po, __global const float *t, uint to, __global float *err, uint eo,
                  int has_err, __global float *dp, uint dpo, int has_grad, uint n, float gs2) {
  uint i = get_global_id(0);
  if (i >= n) return;
  float d = p[po + i] - t[to + i];
  if (has_err) err[eo + i] = d * d;
  if (has_grad) dp[dpo + i] = gs2 * d;
}
