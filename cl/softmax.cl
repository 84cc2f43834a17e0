/*
 * cl/softmax.cl - softmax over the rows of a contiguous matrix, forward and
 * backward (src/ops/softmax.c launches them).
 *
 * Two shapes of kernel, chosen per device by ROW_VARIANT:
 *  - *_row (variant 0): one row per work-item, walked with explicit
 *    ROW_VEC-wide vectors. CPU runtimes (PoCL) run the work-items of a group
 *    one after the other on a core, so a row becomes a tight vector loop over
 *    contiguous memory that stays in L1 between passes, with no barriers.
 *  - *_wg (variant 1): one work-group per row; work-item l takes columns
 *    l, l + wg, ... (coalesced on GPUs) and the row's max and sum come from a
 *    tree reduction in local memory.
 *
 * Operands are (buffer, offset in floats); x and y, or y/dy and dx, may be
 * the same memory (in place), so no pointer is declared restrict. In place
 * is safe because every element is read before it is written by the same
 * work-item.
 *
 * Causal mask: rows come in blocks of cols; row r keeps the columns
 * j <= r % cols and writes exactly 0 to the others.
 */

#ifndef ROW_WG
#define ROW_WG 64
#endif

#include "rowvec.h"

/* ------------------------------------------------ variant 0: row per item */

#define STORE_ROW(v, j) STORE_V(v, j, al, ya, yr)

/* Whether every z = fma(x, scale, -m) of a row's whole vectors is in
 * exp_in_range's range, from their products p = x * scale (rounded, as the
 * max pass takes them): lo their minimum (-hmax(-v) of the running minima
 * v: exact), t their sum in any order, m the row's maximum (m >= every
 * p). A finite t means no p is NaN or infinite. With |p| <= 2^20, the
 * exact x * scale is within half an ulp, 2^-4, of p; so x * scale - m lies
 * in [lo - m - 2^-4, 2^-4], and lo - m >= -85 (rounded, so the exact
 * difference is above -85 - 2^-18) puts every z, its rounding, in
 * [-85.07, 0.07] inside [-86, 88]. Then exp_rows would take exp_in_range
 * for every vector of the row, and one check per row replaces one per
 * vector; results are the same, on any runtime. Otherwise (wide rows,
 * -inf masks, NaN, huge logits) the row goes vector by vector through
 * exp_rows as before. The check costs a min and an add per vector in the
 * max pass against two compares and a horizontal reduction with a branch
 * per vector in the exponential pass: softmax rows of 256 and 1024
 * 1.15-1.2x faster on the 2-core AVX-512 CPU (interleaved in one process
 * against the old kernel, the best of 15-20 rounds, 2026-12-07, load 2.4-8
 * from other jobs). */
int row_in_range(float lo, float m, float t) {
  return isfinite(t) && m <= 0x1p20f && lo >= -0x1p20f && lo - m >= -85.0f;
}

/* y = softmax(scale * x) per row. Three passes over a row that stays in
 * cache: the max, then e = exp(z - max) stored into y while summing, then
 * y *= 1/sum. Storing e saves computing every exponential twice.
 *
 * A causal row keeps n <= cols columns. Whole vectors cover [0, nfull);
 * the partial vector at nfull, when it fits inside the row, runs with its
 * masked lanes set to -inf / 0, which are exactly the zeros those columns
 * must receive. Only at the very end of a row whose length is not a
 * multiple of ROW_VEC do columns go one by one. */
void softmax_row(__global const float *x, uint xo, __global float *y, uint yo, uint r, uint cols, float scale,
                 int causal) {
  uint n = causal ? r % cols + 1 : cols;
  uint start = yo + r * cols;
  __global const float *xr = x + xo + r * cols;
  __global float *yr = y + start;
  int al = start % ROW_VEC == 0;
  __global floatv *ya = (__global floatv *)(y + (start - start % ROW_VEC));

  uint nfull = n / ROW_VEC * ROW_VEC;
  int part = nfull < n && nfull + ROW_VEC <= cols;
  intv keep = (LANE_IDS + (int)nfull) < (int)n;
  uint tail = part ? n : nfull; /* columns [tail, n) go one by one */
  uint j;

  /* Four running maxima: one would chain every vector behind the latency
   * of the one before. The whole vectors' minimum and sum beside them
   * decide the exponentials' range once for the row (row_in_range). */
  floatv vm = (floatv)(-INFINITY), vm1 = vm, vm2 = vm, vm3 = vm;
  floatv lo = (floatv)(INFINITY), lo1 = lo, t = (floatv)(0.0f), t1 = t;
  for (j = 0; j + 4 * ROW_VEC <= nfull; j += 4 * ROW_VEC) {
    floatv p = VLOAD(0, xr + j) * scale, p1 = VLOAD(0, xr + j + ROW_VEC) * scale;
    floatv p2 = VLOAD(0, xr + j + 2 * ROW_VEC) * scale, p3 = VLOAD(0, xr + j + 3 * ROW_VEC) * scale;
    vm = max(vm, p);
    vm1 = max(vm1, p1);
    vm2 = max(vm2, p2);
    vm3 = max(vm3, p3);
    lo = min(lo, min(p, p1));
    lo1 = min(lo1, min(p2, p3));
    t += p + p1;
    t1 += p2 + p3;
  }
  for (; j < nfull; j += ROW_VEC) {
    floatv p = VLOAD(0, xr + j) * scale;
    vm = max(vm, p);
    lo = min(lo, p);
    t += p;
  }
  if (part) vm = max(vm, select((floatv)(-INFINITY), VLOAD(0, xr + nfull) * scale, keep));
  vm = max(max(vm, vm1), max(vm2, vm3));
  float m = hmax(vm);
  for (j = tail; j < n; j++) m = fmax(m, xr[j] * scale);
  int fast = row_in_range(-hmax(-min(lo, lo1)), m, hsum(t + t1));

  floatv vs = (floatv)(0.0f);
  if (fast) {
    for (j = 0; j < nfull; j += ROW_VEC) {
      floatv e = exp_in_range(fma(VLOAD(0, xr + j), scale, -m));
      STORE_ROW(e, j);
      vs += e;
    }
  } else {
    for (j = 0; j < nfull; j += ROW_VEC) {
      floatv e = exp_rows(fma(VLOAD(0, xr + j), scale, -m));
      STORE_ROW(e, j);
      vs += e;
    }
  }
  if (part) {
    floatv e = select((floatv)(0.0f), exp_rows(fma(VLOAD(0, xr + nfull), scale, -m)), keep);
    STORE_ROW(e, nfull);
    vs += e;
  }
  float s = hsum(vs);
  for (j = tail; j < n; j++) {
    float e = exp(fma(xr[j], scale, -m));
    yr[j] = e;
    s += e;
  }

  float inv = 1.0f / s;
  uint nvec = part ? nfull + ROW_VEC : nfull;
  for (j = 0; j < nvec; j += ROW_VEC) STORE_ROW(VLOAD(0, yr + j) * inv, j);
  for (j = tail; j < n; j++) yr[j] *= inv;
  /* Masked columns get probability exactly 0. When the partial vector ran,
   * the rest starts on a vector boundary; otherwise (n = nfull, or the
   * row's end is near) fewer than ROW_VEC columns may remain. */
  j = part ? nvec : n;
  if (j % ROW_VEC == 0)
    for (; j + ROW_VEC <= cols; j += ROW_VEC) STORE_ROW((floatv)(0.0f), j);
  for (; j < cols; j++) yr[j] = 0.0f;
}

/* Two rows of a non-causal softmax in lockstep, for short rows: a short
 * row is a short chain of dependent steps (max, then exponentials, then
 * sum, then scaling), and two independent chains keep the core busier. */
void softmax_row_pair(__global const float *x, uint xo, __global float *y, uint yo, uint r, uint cols,
                      float scale) {
  uint start = yo + r * cols;
  __global const float *xa = x + xo + r * cols, *xb = xa + cols;
  __global float *ya = y + start, *yb = ya + cols;
  int al = start % ROW_VEC == 0 && cols % ROW_VEC == 0; /* then both rows are aligned */
  __global floatv *pa = (__global floatv *)(y + (start - start % ROW_VEC)), *pb = pa + cols / ROW_VEC;
  uint nfull = cols / ROW_VEC * ROW_VEC, j;

  floatv va = (floatv)(-INFINITY), vb = va, la = (floatv)(INFINITY), lb = la, ta = (floatv)(0.0f), tb = ta;
  for (j = 0; j < nfull; j += ROW_VEC) {
    floatv qa = VLOAD(0, xa + j) * scale, qb = VLOAD(0, xb + j) * scale;
    va = max(va, qa);
    vb = max(vb, qb);
    la = min(la, qa);
    lb = min(lb, qb);
    ta += qa;
    tb += qb;
  }
  float ma = hmax(va), mb = hmax(vb);
  for (j = nfull; j < cols; j++) {
    ma = fmax(ma, xa[j] * scale);
    mb = fmax(mb, xb[j] * scale);
  }

  va = (floatv)(0.0f);
  vb = va;
  if (row_in_range(-hmax(-la), ma, hsum(ta)) && row_in_range(-hmax(-lb), mb, hsum(tb))) {
    for (j = 0; j < nfull; j += ROW_VEC) {
      floatv ea = exp_in_range(fma(VLOAD(0, xa + j), scale, -ma)),
             eb = exp_in_range(fma(VLOAD(0, xb + j), scale, -mb));
      STORE_V(ea, j, al, pa, ya);
      STORE_V(eb, j, al, pb, yb);
      va += ea;
      vb += eb;
    }
  } else {
    for (j = 0; j < nfull; j += ROW_VEC) {
      floatv ea = exp_rows(fma(VLOAD(0, xa + j), scale, -ma)), eb = exp_rows(fma(VLOAD(0, xb + j), scale, -mb));
      STORE_V(ea, j, al, pa, ya);
      STORE_V(eb, j, al, pb, yb);
      va += ea;
      vb += eb;
    }
  }
  float sa = hsum(va), sb = hsum(vb);
  for (j = nfull; j < cols; j++) {
    float ea = exp(fma(xa[j], scale, -ma)), eb = exp(fma(xb[j], scale, -mb));
    ya[j] = ea;
    yb[j] = eb;
    sa += ea;
    sb += eb;
  }

  float ia = 1.0f / sa, ib = 1.0f / sb;
  for (j = 0; j < nfull; j += ROW_VEC) {
    STORE_V(VLOAD(0, ya + j) * ia, j, al, pa, ya);
    STORE_V(VLOAD(0, yb + j) * ib, j, al, pb, yb);
  }
  for (j = nfull; j < cols; j++) {
    ya[j] *= ia;
    yb[j] *= ib;
  }
}

/* Short rows in registers: ROW_PACK rows of NV whole vectors each (cols =
 * NV * ROW_VEC, NV <= 4) per work-item. A short row is a chain of
 * dependent steps (max, its horizontal reduction, the exponentials, their
 * sum and its reduction, a division) that leaves most of the core idle;
 * with several rows loaded at once and every step written for all of them
 * together, the core works on one row's exponentials while another's
 * reductions wait, and no row is stored and re-read between passes.
 * Measured on the 2-core AVX-512 CPU (PoCL 3.1, 65536 x 64, each kernel
 * the fastest of 100 launches interleaved with a copy of the same size,
 * 2026-12-07, machine load 9-12 from other jobs, so to be re-measured):
 * with one PoCL thread 0.53 of the copy (causal 0.78) against 0.34-0.55
 * for the pair path and 0.49-0.55 for a row per work-item; with two
 * threads 0.70-0.73 (causal 0.60) against 0.65-0.75 and 0.54-0.57, which
 * that load could not separate. The exponential is half the time: without
 * it the same kernel runs at the copy's speed.
 *
 * Every lane goes through the same operations in the same order as in
 * softmax_row (the max is exact in any order, the sum runs over the
 * vectors in order and then by halving, masked vectors add +0), so the
 * results are bitwise those of softmax_row, which tests check. A causal
 * row masks its lanes as softmax_row's partial vector does, and writes
 * exact zeros in the vectors wholly past its length. All loads of a pack
 * come before its stores, so y may be x. */
#ifndef ROW_PACK
#define ROW_PACK 0
#endif
#if ROW_PACK > 0
#define SOFTMAX_PACK(NV, C)                                                                                       \
  void softmax_pack##NV##_##C(__global const float *x, uint xo, __global float *y, uint yo, uint r0, uint cols,   \
                              float scale) {                                                                      \
    __global const float *xr = x + xo + r0 * cols;                                                                \
    uint start = yo + r0 * cols;                                                                                  \
    int al = start % ROW_VEC == 0; /* cols is whole vectors: the same for every row */                            \
    __global floatv *ya = (__global floatv *)(y + (start - start % ROW_VEC));                                     \
    __global float *yr = y + start;                                                                               \
    floatv v[ROW_PACK][NV];                                                                                       \
    float m[ROW_PACK], inv[ROW_PACK];                                                                             \
    uint n[ROW_PACK];                                                                                             \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      n[p] = C ? (r0 + p) % cols + 1 : cols;                                                                      \
      _Pragma("unroll") for (int i = 0; i < NV; i++) v[p][i] = VLOAD(0, xr + p * cols + i * ROW_VEC);             \
    }                                                                                                             \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      floatv vm = (floatv)(-INFINITY);                                                                            \
      _Pragma("unroll") for (int i = 0; i < NV; i++) vm =                                                         \
          max(vm, C ? select((floatv)(-INFINITY), v[p][i] * scale, (LANE_IDS + i * ROW_VEC) < (int)n[p])          \
                    : v[p][i] * scale);                                                                           \
      m[p] = hmax(vm);                                                                                            \
    }                                                                                                             \
    /* One range check for all of the pack's exponentials; out of range,                                          \
     * each vector chooses as exp_rows (and so a row per work-item) does,                                         \
     * so that packs stay bitwise rows on any runtime. */                                                         \
    intv in_range = (intv)(-1);                                                                                   \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                            \
        v[p][i] = fma(v[p][i], scale, -m[p]);                                                                     \
        in_range &= exp_range_lanes(v[p][i]);                                                                     \
      }                                                                                                           \
    }                                                                                                             \
    if (all_lanes(in_range)) {                                                                                    \
      _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                      \
        _Pragma("unroll") for (int i = 0; i < NV; i++) v[p][i] = exp_in_range(v[p][i]);                           \
      }                                                                                                           \
    } else {                                                                                                      \
      _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                      \
        _Pragma("unroll") for (int i = 0; i < NV; i++) v[p][i] = exp_rows(v[p][i]);                               \
      }                                                                                                           \
    }                                                                                                             \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      floatv vs = (floatv)(0.0f);                                                                                 \
      _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                            \
        if (C) v[p][i] = select((floatv)(0.0f), v[p][i], (LANE_IDS + i * ROW_VEC) < (int)n[p]);                   \
        vs += v[p][i];                                                                                            \
      }                                                                                                           \
      inv[p] = 1.0f / hsum(vs);                                                                                   \
    }                                                                                                             \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                            \
        floatv out = !C || (uint)(i * ROW_VEC) < n[p] ? v[p][i] * inv[p] : (floatv)(0.0f);                        \
        STORE_V(out, (uint)(i * ROW_VEC) + p * cols, al, ya, yr);                                                 \
      }                                                                                                           \
    }                                                                                                             \
  }
SOFTMAX_PACK(1, 0)
SOFTMAX_PACK(2, 0)
SOFTMAX_PACK(3, 0)
SOFTMAX_PACK(4, 0)
SOFTMAX_PACK(1, 1)
SOFTMAX_PACK(2, 1)
SOFTMAX_PACK(3, 1)
SOFTMAX_PACK(4, 1)
#endif

/* Rows of 1 to 4 whole vectors (ROW_PACK > 0; the host decides): work-item
 * w takes rows ROW_PACK * w on, in registers; a last, incomplete pack goes
 * row by row. One kernel per vector count and mask, so that PoCL, which
 * generates and compiles a kernel's code at its first launch, compiles
 * only the variant a run uses (the eight in one kernel took 0.6 s of a
 * 5.3 s cold start of the GPT, 2026-12-07). The arguments are
 * softmax_fwd_row's. */
#if ROW_PACK > 0
#define SOFTMAX_PACK_KERNEL(NV, C)                                                                                \
  __kernel void softmax_fwd_pack##NV##_##C(__global const float *x, uint xo, __global float *y, uint yo,          \
                                           uint rows, uint cols, float scale, int causal, int mode) {             \
    (void)causal, (void)mode;                                                                                     \
    uint r0 = get_global_id(0) * ROW_PACK;                                                                        \
    if (r0 + ROW_PACK <= rows)                                                                                    \
      softmax_pack##NV##_##C(x, xo, y, yo, r0, cols, scale);                                                      \
    else                                                                                                          \
      for (uint r = r0; r < rows; r++) softmax_row(x, xo, y, yo, r, cols, scale, C);                              \
  }
SOFTMAX_PACK_KERNEL(1, 0)
SOFTMAX_PACK_KERNEL(2, 0)
SOFTMAX_PACK_KERNEL(3, 0)
SOFTMAX_PACK_KERNEL(4, 0)
SOFTMAX_PACK_KERNEL(1, 1)
SOFTMAX_PACK_KERNEL(2, 1)
SOFTMAX_PACK_KERNEL(3, 1)
SOFTMAX_PACK_KERNEL(4, 1)
#endif

/* mode 0: work-item w takes row w. mode 1 (non-causal, short rows; the
 * host decides): rows 2w and 2w + 1, together. */
__kernel void softmax_fwd_row(__global const float *x, uint xo, __global float *y, uint yo, uint rows, uint cols,
                              float scale, int causal, int mode) {
  uint w = get_global_id(0);
  if (mode == 0) {
    if (w < rows) softmax_row(x, xo, y, yo, w, cols, scale, causal);
  } else if (2 * w + 1 < rows) {
    softmax_row_pair(x, xo, y, yo, 2 * w, cols, scale);
  } else if (2 * w < rows) {
    softmax_row(x, xo, y, yo, 2 * w, cols, scale, causal);
  }
}

/* dx = scale * y * (dy - sum(y * dy)) per row. dx may be dy (or y). */
__kernel void softmax_bwd_row(__global const float *y, uint yo, __global const float *dy, uint dyo,
                              __global float *dx, uint dxo, uint rows, uint cols, float scale) {
  uint r = get_global_id(0);
  if (r >= rows) return;
  uint start = dxo + r * cols;
  __global const float *yr = y + yo + r * cols;
  __global const float *gr = dy + dyo + r * cols;
  __global float *dr = dx + start;
  int al = start % ROW_VEC == 0;
  __global floatv *da = (__global floatv *)(dx + (start - start % ROW_VEC));

  floatv vs = (floatv)(0.0f), vs1 = vs, vs2 = vs, vs3 = vs; /* four chains, as above */
  uint j = 0;
  for (; j + 4 * ROW_VEC <= cols; j += 4 * ROW_VEC) {
    vs = mad(VLOAD(0, yr + j), VLOAD(0, gr + j), vs);
    vs1 = mad(VLOAD(0, yr + j + ROW_VEC), VLOAD(0, gr + j + ROW_VEC), vs1);
    vs2 = mad(VLOAD(0, yr + j + 2 * ROW_VEC), VLOAD(0, gr + j + 2 * ROW_VEC), vs2);
    vs3 = mad(VLOAD(0, yr + j + 3 * ROW_VEC), VLOAD(0, gr + j + 3 * ROW_VEC), vs3);
  }
  for (; j + ROW_VEC <= cols; j += ROW_VEC) vs = mad(VLOAD(0, yr + j), VLOAD(0, gr + j), vs);
  float s = hsum((vs + vs1) + (vs2 + vs3));
  for (; j < cols; j++) s += yr[j] * gr[j];

  for (j = 0; j + ROW_VEC <= cols; j += ROW_VEC)
    STORE_V(scale * VLOAD(0, yr + j) * (VLOAD(0, gr + j) - s), j, al, da, dr);
  for (; j < cols; j++) dr[j] = scale * yr[j] * (gr[j] - s);
}

/* ---------------------------------------------- variant 1: row per group */

/* The row is the group id: the whole group returns together or not at all,
 * so the barriers stay in uniform control flow. */
__kernel void softmax_fwd_wg(__global const float *x, uint xo, __global float *y, uint yo, uint rows, uint cols,
                             float scale, int causal) {
  __local float red[ROW_WG];
  uint r = get_group_id(0);
  if (r >= rows) return;
  uint l = get_local_id(0), wg = get_local_size(0);
  uint n = causal ? r % cols + 1 : cols;
  __global const float *xr = x + xo + r * cols;
  __global float *yr = y + yo + r * cols;

  float m = -INFINITY;
  for (uint j = l; j < n; j += wg) m = fmax(m, xr[j] * scale);
  m = wg_max(m, red);

  float s = 0.0f;
  for (uint j = l; j < n; j += wg) {
    float e = exp(xr[j] * scale - m);
    yr[j] = e;
    s += e;
  }
  s = wg_sum(s, red);

  float inv = 1.0f / s;
  for (uint j = l; j < n; j += wg) yr[j] *= inv; /* the same item wrote yr[j] */
  for (uint j = n + l; j < cols; j += wg) yr[j] = 0.0f;
}

__kernel void softmax_bwd_wg(__global const float *y, uint yo, __global const float *dy, uint dyo,
                             __global float *dx, uint dxo, uint rows, uint cols, float scale) {
  __local float red[ROW_WG];
  uint r = get_group_id(0);
  if (r >= rows) return;
  uint l = get_local_id(0), wg = get_local_size(0);
  uint base = r * cols;
  __global const float *yr = y + yo + base;
  __global const float *gr = dy + dyo + base;
  __global float *dr = dx + dxo + base;

  float s = 0.0f;
  for (uint j = l; j < cols; j += wg) s += yr[j] * gr[j];
  s = wg_sum(s, red);
  for (uint j = l; j < cols; j += wg) dr[j] = scale * yr[j] * (gr[j] - s);
}
