/*
 * cl/reduce.cl - deterministic sums and sums of squares of many floats
 * (src/ops/reduce.c launches them), in two passes:
 *   reduce_part:   work-group g sums the chunk of RED_ITEMS * lsz * ROW_VEC
 *                  floats starting at g times that; item l takes the
 *                  vectors l, l + lsz, l + 2 lsz, ... of the chunk
 *                  (consecutive items read consecutive memory: coalesced on
 *                  GPUs, one cache line per vector on CPUs), then the group
 *                  adds its items' sums by a tree in local memory.
 *   reduce_finish: one work-group adds the partial sums the same way.
 * The order of every addition depends only on n, lsz and RED_ITEMS, never
 * on timing, so results are bitwise reproducible; each float takes part in
 * about RED_ITEMS + log2(ROW_VEC) + log2(lsz) + parts/lsz + log2(lsz)
 * additions, not n. lsz is a power of two no larger than RED_WG (the host
 * guarantees it); ROW_VEC is the device table's row-loop vector width.
 */

#ifndef RED_WG
#define RED_WG 64
#endif
#ifndef RED_ITEMS
#define RED_ITEMS 64
#endif

#include "rowvec.h"

/* part[po + g] = sum over group g's chunk of x (sq = 1: of x^2). Item l
 * reads ROW_VEC-wide vectors l, l + lsz, ... of the chunk (so consecutive
 * items still read consecutive memory) and keeps ROW_VEC running sums, one
 * per lane, which also shortens each serial chain ROW_VEC-fold. */
/* Models side by side (cls_reduce_models): the launch's groups are gpm
 * groups for each model in turn, model k's n floats at xo + k * xstride;
 * group g of model k sums its chunk exactly as group g of a launch of its
 * own (gpm = the groups of one launch, xstride unused: k = 0). */
__kernel void reduce_part(__global const float *x, uint xo, uint n, int sq, __global float *part, uint po,
                          uint gpm, uint xstride) {
  __local float acc[RED_WG];
  uint l = get_local_id(0);
  uint lsz = get_local_size(0);
  uint gm = get_group_id(0);
  uint k = gm / gpm, g = gm - k * gpm;
  __global const float *xs = x + xo + (size_t)k * xstride;
  size_t base = ((size_t)g * RED_ITEMS * lsz + l) * ROW_VEC;
  size_t stride = (size_t)lsz * ROW_VEC;
  floatv s = (floatv)(0.0f);
  for (uint k = 0; k < RED_ITEMS; k++) {
    size_t i = base + (size_t)k * stride;
    if (i >= n) break; /* the rest of this item's vectors lie beyond n too */
    floatv v;
    if (i + ROW_VEC <= n) {
      v = VLOAD(0, xs + i);
    } else {
      float t[ROW_VEC];
      for (uint j = 0; j < ROW_VEC; j++) t[j] = i + j < n ? xs[i + j] : 0.0f;
      v = VLOAD(0, t);
    }
    s = sq ? mad(v, v, s) : s + v;
  }
  float sum = wg_sum(hsum(s), acc);
  if (l == 0) part[po + gm] = sum;
}

/* out[oo + k] = scale * the sum of part[k * nparts .. +nparts): work-group
 * k, one per model (one in all for a single sum). */
__kernel void reduce_finish(__global const float *part, uint nparts, __global float *out, uint oo, float scale) {
  __local float acc[RED_WG];
  uint l = get_local_id(0);
  uint lsz = get_local_size(0);
  uint k = get_group_id(0);
  __global const float *pk = part + (size_t)k * nparts;
  float s = 0.0f;
  for (uint i = l; i < nparts; i += lsz) s += pk[i];
  s = wg_sum(s, acc);
  if (l == 0) out[oo + k] = scale * s;
}
