/*
 * cl/norm.cl - LayerNorm and RMSNorm over the rows of a contiguous matrix,
 * forward and backward (src/ops/norm.c launches them).
 *
 * Kernels come in two shapes, chosen per device by ROW_VARIANT (see
 * cl/softmax.cl for why):
 *  - variant 0 (CPUs): norm_fwd_row, one row per work-item with explicit
 *    ROW_VEC-wide vectors (rows of 1 to 4 vectors ROW_PACK per work-item,
 *    in registers); norm_bwd_part, the whole backward pass in one
 *    kernel, one work-item per part of the rows, which writes dx and sums
 *    its rows' dgamma/dbeta contributions;
 *  - variant 1 (GPUs): norm_fwd_wg and norm_bwd_wg, one work-group per row
 *    with a local-memory tree reduction; dgamma/dbeta from a column pass,
 *    norm_param_grad, whose work-items (c, p) sum ROW_CVEC adjacent
 *    columns over part p of the rows (coalesced reads across work-items).
 * With more than one part, norm_param_finish adds the parts up. No float
 * atomics, and every sum runs over at most a part's rows (ROW_PART), which
 * bounds the rounding error.
 *
 * Backward: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) per row, with
 * g = gamma * dy and xhat = (x - mean) * rstd (RMSNorm: mean = 0 and no
 * mean(g) term); dgamma = sum over rows of dy * xhat, dbeta = sum of dy.
 *
 * The variance is never E[x^2] - E[x]^2, which cancels catastrophically in
 * float. The work-group kernels take it in two passes (mean first, then
 * the mean of squared deviations). The CPU kernels (variant 0) take the
 * sums of d = x - x[0] and of d^2 in one pass and subtract, which is
 * accurate unless the row's first element lies far from its mean; such
 * rows take the second pass (var_sum says when). The row is re-read from
 * cache, not from memory.
 *
 * Optional operands (beta, mean, rstd) come with a flag; their buffer
 * argument is then any valid buffer and is not touched. No pointer is
 * restrict: y may be x, and dx may be dy or x.
 */

#ifndef ROW_CVEC
#define ROW_CVEC 1
#endif
#ifndef ROW_WG
#define ROW_WG 64
#endif
#ifndef ROW_PACK
#define ROW_PACK 0
#endif

#include "rowvec.h"

/* a * b + c in two roundings, as PoCL computes mad(): the forward kernels'
 * products and sums, in the row loop and the register packs alike. mad()
 * lets a compiler fuse or not, and Intel's CPU runtime fused it in one and
 * not the other (packs then differed from rows in the last bit); with
 * contraction off, every runtime rounds twice. */
floatv mul_addv(floatv a, floatv b, floatv c) {
#pragma OPENCL FP_CONTRACT OFF
  return a * b + c;
}

float mul_add(float a, float b, float c) {
#pragma OPENCL FP_CONTRACT OFF
  return a * b + c;
}

/* Models side by side (the train layer's models.h): the rows of a launch
 * are those of rows / mrows models of mrows rows each, one after the
 * other; model k's gamma, beta and residual bias (and dgamma, dbeta) sit
 * pstride floats after model k-1's, its mean and rstd sstride after. A
 * single model is mrows = rows (k = 0, strides unused). Every row is
 * computed exactly as a one-model launch computes it, and the parameter
 * gradients are summed over each model's own parts (below), so each
 * model's results are bitwise those of a launch of its own.
 *
 * MODEL_OF(r): the model of row r (mk), the offset of its parameters (po)
 * and of row r's statistics (so). */
#define MODEL_OF(r)                                                                                               \
  uint mk = (r) / mrows;                                                                                          \
  uint po = mk * pstride, so = mk * sstride + (r)-mk * mrows

/* PART_OF(p): part p of the parameter-gradient sums. Each model's rows are
 * cut into parts as a one-model launch cuts them (part_rows each, the last
 * one shorter); p counts the parts of all models in turn. Sets the model
 * (pk), the part's rows [r0, r1), the statistics' offset (sb0, added to a
 * row index) and where the part's sums go (dpo: model pk's parts start
 * dstride floats after model pk-1's). */
#define PART_OF(p)                                                                                                \
  uint ppm = (mrows + part_rows - 1) / part_rows;                                                                 \
  uint pk = (p) / ppm, pq = (p)-pk * ppm;                                                                         \
  uint r0 = pk * mrows + pq * part_rows;                                                                          \
  uint r1 = min(pk * mrows + mrows, r0 + part_rows);                                                              \
  uint sb0 = pk * sstride - pk * mrows;                                                                           \
  uint dpo = pk * dstride + pq * cols

/* rms = 1 selects RMSNorm (no mean, no shift). It is uniform over the
 * launch; in the work-group kernels every reduction (and so every barrier)
 * runs regardless of it, since conditional barriers trip some compilers.
 *
 * The mean is taken relative to the row's first element (mean = x0 + m,
 * m = mean(x - x0)): x - x0 is exact for nearby values, so a large common
 * offset (x ~ 1000 +- 1) costs no accuracy in x - mean. */

/* The fused residual of cls_residual_*norm_forward: x[j] = (a[j] + y[j]) +
 * bias[j] for j = l, l + step, ... (a row per item: l = 0, step = 1; a
 * group per row: the item's own columns, the ones it reads afterwards, so
 * no barrier is needed). (a + y) + bias is the order of the unfused
 * path (a matmul adding y to a copy of a, then the bias). */
static void res_row(__global float *x, __global const float *a, __global const float *y, __global const float *b,
                    uint l, uint step, uint cols) {
  for (uint j = l; j < cols; j += step) x[j] = (a[j] + y[j]) + b[j];
}

/* ------------------------------------------------ variant 0: row per item */

/* The forward operands, shared by the row function, the register packs
 * and the kernel. Saves mean (has_mean) and rstd (has_rstd) when asked. */
#define NORM_FWD_PARAMS                                                                                           \
  __global float *x, uint xo, __global const float *gamma, uint go, __global const float *beta, uint bo,          \
      int has_beta, __global float *y, uint yo, __global float *mean, uint mo, int has_mean,                      \
      __global float *rstd, uint ro, int has_rstd, uint rows, uint cols, float eps, int rms,                      \
      __global const float *ra, uint rao, __global const float *ry, uint ryo, __global const float *rb, uint rbo, \
      int has_res, uint mrows, uint pstride, uint sstride
#define NORM_FWD_ARGS                                                                                             \
  x, xo, gamma, go, beta, bo, has_beta, y, yo, mean, mo, has_mean, rstd, ro, has_rstd, rows, cols, eps, rms, ra,  \
      rao, ry, ryo, rb, rbo, has_res, mrows, pstride, sstride

/* The sum of squared deviations (x - x0) - m over a row of cols: four
 * running sums over the whole groups of four vectors, the rest in the
 * first, then the columns one by one. LayerNorm's second pass where the
 * one-pass sum is not accurate enough (var_sum), and RMSNorm's only pass
 * (x0 = m = 0). */
float sq_dev(__global const float *xr, uint cols, float x0, float m) {
  floatv vq = (floatv)(0.0f), vq1 = vq, vq2 = vq, vq3 = vq;
  uint j;
  for (j = 0; j + 4 * ROW_VEC <= cols; j += 4 * ROW_VEC) {
    floatv d = (VLOAD(0, xr + j) - x0) - m, d1 = (VLOAD(0, xr + j + ROW_VEC) - x0) - m;
    floatv d2 = (VLOAD(0, xr + j + 2 * ROW_VEC) - x0) - m, d3 = (VLOAD(0, xr + j + 3 * ROW_VEC) - x0) - m;
    vq = mul_addv(d, d, vq);
    vq1 = mul_addv(d1, d1, vq1);
    vq2 = mul_addv(d2, d2, vq2);
    vq3 = mul_addv(d3, d3, vq3);
  }
  for (; j + ROW_VEC <= cols; j += ROW_VEC) {
    floatv d = (VLOAD(0, xr + j) - x0) - m;
    vq = mul_addv(d, d, vq);
  }
  float q = hsum((vq + vq1) + (vq2 + vq3));
  for (; j < cols; j++) {
    float d = (xr[j] - x0) - m;
    q = mul_add(d, d, q);
  }
  return q;
}

/* LayerNorm's sum of squared deviations from the one-pass sums of d = x -
 * x0 (s) and of d^2 (q), m = s / n: v = q - s m (one rounding, fma). The
 * cancellation amplifies the sums' rounding errors by A = q / v = 1 +
 * m^2 / var (m is the mean's distance from the row's first element x0):
 * v's error is at most about 3 A times the sums' own bound, against about
 * once for the two-pass sum. A <= 4 (v >= q / 4) keeps that within an
 * order of magnitude of the two-pass bound; a row with a larger A (its
 * first element more than sqrt(3) standard deviations from its mean,
 * about 8% of Gaussian rows; a constant offset does not count, x0 removes
 * it), or with a NaN or infinite sum, takes the second pass over the row
 * (sq_dev), as before. v's own error lets only rows with A below 8
 * through while the sums' relative rounding stays below 1/24 (each
 * lane's running sum holds cols / (4 ROW_VEC) terms: rows of fewer than 2^24
 * columns). The tests' 2e-5 tolerance (forward_first_outlier) holds
 * up to A = 64 and fails without the fallback. One pass instead of two:
 * LayerNorm forward rows of 64 to 1024 1.1-1.3x faster on the 2-core
 * AVX-512 CPU (PoCL with one thread, the best of 15 rounds interleaved,
 * 2026-12-07, load 8-9 from other jobs). */
float var_sum(float s, float m, float q, __global const float *xr, uint cols, float x0) {
  float v = fma(-s, m, q);
  return v >= 0.25f * q ? v : sq_dev(xr, cols, x0, m);
}

/* Short rows in registers: ROW_PACK rows of NV whole vectors each (cols =
 * NV * ROW_VEC, NV <= 4) per work-item, as cl/softmax.cl does for softmax.
 * A short row is a chain of dependent steps (the sum and its horizontal
 * reduction, the mean, the squared deviations and their reduction, a
 * square root) that leaves most of the core idle; with several rows in
 * flight, written step by step for all of them together, the core works
 * on one row while another's reductions wait, and the row is read from
 * memory once instead of three times. Measured on the 2-core AVX-512 CPU
 * (PoCL 3.1, 65536 x 64, 2026-12-07, machine load 3-6 from other jobs, so
 * to be re-measured): interleaved in one process, median over 40 rounds
 * of each launch's time against the copy's beside it, LayerNorm forward
 * 0.54 of the copy for a row per work-item against 0.64-0.70 packed,
 * RMSNorm 0.77 against 0.86-0.90.
 *
 * Every row goes through the operations of norm_fwd_row's row loop in
 * their order: its vectors summed into the same four chains (vector i
 * into chain i when the row is four vectors, the loop's unrolled part;
 * all into the first otherwise, its remainder), the same halving
 * reductions and the same expressions, so that results are bitwise those
 * of a row at a time, which tests check (a model's rows must not depend on
 * where the packs fall). The residual is summed and stored as the row
 * loop stores it, and used from registers. All loads of a pack come before
 * its stores to y, so y may be x. */
#if ROW_PACK > 0
/* ROW_PACK floats of a private array to p, as one vector where there is one. */
#if ROW_PACK == 2 || ROW_PACK == 4 || ROW_PACK == 8
#define PACK_STORE(a, p) CAT(vstore, ROW_PACK)(CAT(vload, ROW_PACK)(0, a), 0, p)
#else
#define PACK_STORE(a, p)                                                                                          \
  for (int q_ = 0; q_ < ROW_PACK; q_++) (p)[q_] = (a)[q_]
#endif
#define NORM_PACK(NV, RMS)                                                                                        \
  void norm_pack##NV##_##RMS(NORM_FWD_PARAMS, uint r0) {                                                          \
    uint mk = r0 / mrows; /* the pack's model (the caller checked it has but one) */                              \
    uint po = mk * pstride, so = mk * sstride + r0 - mk * mrows;                                                  \
    __global float *xr = x + xo + r0 * cols;                                                                      \
    uint start = yo + r0 * cols;                                                                                  \
    int al = start % ROW_VEC == 0; /* cols is whole vectors: the same for every row */                            \
    __global floatv *ya = (__global floatv *)(y + (start - start % ROW_VEC));                                     \
    __global float *yr = y + start;                                                                               \
    floatv v[ROW_PACK][NV], gv[NV], bv[NV];                                                                       \
    float x0[ROW_PACK], m[ROW_PACK], rs[ROW_PACK];                                                                \
    float inv_n = 1.0f / (float)cols;                                                                             \
    if (has_res) {                                                                                                \
      __global const float *ar = ra + rao + r0 * cols, *yr2 = ry + ryo + r0 * cols, *br = rb + rbo + po;          \
      _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                      \
        _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                          \
          uint j = (uint)(p * cols + i * ROW_VEC);                                                                \
          v[p][i] = (VLOAD(0, ar + j) + VLOAD(0, yr2 + j)) + VLOAD(0, br + i * ROW_VEC);                          \
          VSTORE(v[p][i], 0, xr + j);                                                                             \
        }                                                                                                         \
      }                                                                                                           \
    } else {                                                                                                      \
      _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                      \
        _Pragma("unroll") for (int i = 0; i < NV; i++) v[p][i] = VLOAD(0, xr + p * cols + i * ROW_VEC);           \
      }                                                                                                           \
    }                                                                                                             \
    /* gamma and beta once for the pack, before any store to y (which the                                         \
     * host keeps apart from them). */                                                                            \
    _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                              \
      gv[i] = VLOAD(0, gamma + go + po + i * ROW_VEC);                                                            \
      bv[i] = has_beta ? VLOAD(0, beta + bo + po + i * ROW_VEC) : (floatv)(0.0f);                                 \
    }                                                                                                             \
    /* One pass for both sums, as the row loop (var_sum). */                                                      \
    float sp[ROW_PACK], qp[ROW_PACK];                                                                             \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      x0[p] = RMS ? 0.0f : v[p][0].s0;                                                                            \
      floatv vs[4] = {(floatv)(0.0f), (floatv)(0.0f), (floatv)(0.0f), (floatv)(0.0f)};                            \
      floatv vq[4] = {(floatv)(0.0f), (floatv)(0.0f), (floatv)(0.0f), (floatv)(0.0f)};                            \
      _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                            \
        floatv d = v[p][i] - x0[p];                                                                               \
        if (!RMS) vs[NV == 4 ? i : 0] += d;                                                                       \
        vq[NV == 4 ? i : 0] = mul_addv(d, d, vq[NV == 4 ? i : 0]);                                                \
      }                                                                                                           \
      sp[p] = hsum((vs[0] + vs[1]) + (vs[2] + vs[3]));                                                            \
      qp[p] = hsum((vq[0] + vq[1]) + (vq[2] + vq[3]));                                                            \
      m[p] = RMS ? 0.0f : sp[p] * inv_n;                                                                          \
    }                                                                                                             \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      float q = RMS ? qp[p] : var_sum(sp[p], m[p], qp[p], xr + p * cols, cols, x0[p]);                            \
      rs[p] = rsqrt(q * inv_n + eps);                                                                             \
    }                                                                                                             \
    /* The statistics before the rows, in one store each (the pack's rows                                         \
     * are one model's: its statistics are adjacent). A scalar store per                                          \
     * row after the rows' stores stalled the next pack's loads: packs                                            \
     * measured 0.2-0.4 of the copy that way, and ROW_PACK=2 or another                                           \
     * work-group size moved the stall around (the same conditions). */                                           \
    float mu[ROW_PACK];                                                                                           \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) mu[p] = x0[p] + m[p];                                    \
    if (has_mean) PACK_STORE(mu, mean + mo + so);                                                                 \
    if (has_rstd) PACK_STORE(rs, rstd + ro + so);                                                                 \
    _Pragma("unroll") for (int p = 0; p < ROW_PACK; p++) {                                                        \
      _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                            \
        uint j = (uint)(i * ROW_VEC);                                                                             \
        floatv out = has_beta ? mul_addv(((v[p][i] - x0[p]) - m[p]) * rs[p], gv[i], bv[i])                        \
                              : ((v[p][i] - x0[p]) - m[p]) * rs[p] * gv[i];                                       \
        STORE_V(out, j + p * cols, al, ya, yr);                                                                   \
      }                                                                                                           \
    }                                                                                                             \
  }
NORM_PACK(1, 0)
NORM_PACK(2, 0)
NORM_PACK(3, 0)
NORM_PACK(4, 0)
NORM_PACK(1, 1)
NORM_PACK(2, 1)
NORM_PACK(3, 1)
NORM_PACK(4, 1)
#endif

/* Rows [r_begin, r_end) one at a time: the loop norm_fwd_row runs,
 * written out where it is used (as a function of its own, called per
 * row, it measured slower); the pack kernels run it for rows that do not
 * make a whole pack. */
#define NORM_ROWS(r_begin, r_end)                                                                                 \
  for (uint r = r_begin; r < r_end; r++) {                                                                        \
    MODEL_OF(r);                                                                                                  \
    uint start = yo + r * cols;                                                                                   \
    __global const float *xr = x + xo + r * cols;                                                                 \
    if (has_res) { /* the residual first: x = (a + y) + bias (res_row), in vectors, then its norm */              \
      __global float *xw = x + xo + r * cols;                                                                     \
      __global const float *ar = ra + rao + r * cols, *yr2 = ry + ryo + r * cols, *br = rb + rbo + po;            \
      uint k = 0;                                                                                                 \
      for (; k + ROW_VEC <= cols; k += ROW_VEC)                                                                   \
        VSTORE((VLOAD(0, ar + k) + VLOAD(0, yr2 + k)) + VLOAD(0, br + k), 0, xw + k);                             \
      for (; k < cols; k++) xw[k] = (ar[k] + yr2[k]) + br[k];                                                     \
    }                                                                                                             \
    __global float *yr = y + start;                                                                               \
    int al = start % ROW_VEC == 0;                                                                                \
    __global floatv *ya = (__global floatv *)(y + (start - start % ROW_VEC));                                     \
    __global const float *g = gamma + go + po;                                                                    \
    __global const float *b = beta + bo + po;                                                                     \
    float inv_n = 1.0f / (float)cols;                                                                             \
    uint j;                                                                                                       \
                                                                                                                  \
    float x0 = rms ? 0.0f : xr[0], m = 0.0f; /* x - mean = (x - x0) - m */                                        \
    float q;                                                                                                      \
    if (rms) {                                                                                                    \
      q = sq_dev(xr, cols, 0.0f, 0.0f);                                                                           \
    } else {                                                                                                      \
      /* One pass: the sums of d = x - x0 and of d^2, four running sums                                           \
       * each (one would chain every vector behind the latency of the one                                         \
       * before); then var_sum (below). */                                                                        \
      floatv vs = (floatv)(0.0f), vs1 = vs, vs2 = vs, vs3 = vs, vq = vs, vq1 = vs, vq2 = vs, vq3 = vs;            \
      for (j = 0; j + 4 * ROW_VEC <= cols; j += 4 * ROW_VEC) {                                                    \
        floatv d = VLOAD(0, xr + j) - x0, d1 = VLOAD(0, xr + j + ROW_VEC) - x0;                                   \
        floatv d2 = VLOAD(0, xr + j + 2 * ROW_VEC) - x0, d3 = VLOAD(0, xr + j + 3 * ROW_VEC) - x0;                \
        vs += d;                                                                                                  \
        vs1 += d1;                                                                                                \
        vs2 += d2;                                                                                                \
        vs3 += d3;                                                                                                \
        vq = mul_addv(d, d, vq);                                                                                  \
        vq1 = mul_addv(d1, d1, vq1);                                                                              \
        vq2 = mul_addv(d2, d2, vq2);                                                                              \
        vq3 = mul_addv(d3, d3, vq3);                                                                              \
      }                                                                                                           \
      for (; j + ROW_VEC <= cols; j += ROW_VEC) {                                                                 \
        floatv d = VLOAD(0, xr + j) - x0;                                                                         \
        vs += d;                                                                                                  \
        vq = mul_addv(d, d, vq);                                                                                  \
      }                                                                                                           \
      float s = hsum((vs + vs1) + (vs2 + vs3));                                                                   \
      q = hsum((vq + vq1) + (vq2 + vq3));                                                                         \
      for (; j < cols; j++) {                                                                                     \
        float d = xr[j] - x0;                                                                                     \
        s += d;                                                                                                   \
        q = mul_add(d, d, q);                                                                                     \
      }                                                                                                           \
      m = s * inv_n;                                                                                              \
      q = var_sum(s, m, q, xr, cols, x0);                                                                         \
    }                                                                                                             \
    float rs = rsqrt(q * inv_n + eps);                                                                            \
                                                                                                                  \
    if (has_beta) {                                                                                               \
      for (j = 0; j + ROW_VEC <= cols; j += ROW_VEC)                                                              \
        STORE_V(mul_addv(((VLOAD(0, xr + j) - x0) - m) * rs, VLOAD(0, g + j), VLOAD(0, b + j)), j, al, ya, yr);   \
      for (; j < cols; j++) yr[j] = mul_add(((xr[j] - x0) - m) * rs, g[j], b[j]);                                 \
    } else {                                                                                                      \
      for (j = 0; j + ROW_VEC <= cols; j += ROW_VEC)                                                              \
        STORE_V(((VLOAD(0, xr + j) - x0) - m) * rs * VLOAD(0, g + j), j, al, ya, yr);                             \
      for (; j < cols; j++) yr[j] = ((xr[j] - x0) - m) * rs * g[j];                                               \
    }                                                                                                             \
    if (has_mean) mean[mo + so] = x0 + m;                                                                         \
    if (has_rstd) rstd[ro + so] = rs;                                                                             \
  }

/* mode 0: work-item w takes row w. (mode 2, rows of 1 to 4 whole vectors
 * in packs, is the norm_fwd_packNV_RMS kernels below; the argument stays
 * for the host's one argument list.) */
__kernel void norm_fwd_row(NORM_FWD_PARAMS, int mode) {
  (void)mode;
  uint w = get_global_id(0), r_begin = w, r_end = min(w + 1, rows);
  NORM_ROWS(r_begin, r_end);
}

/* Rows of 1 to 4 whole vectors (ROW_PACK > 0; the host decides): rows
 * ROW_PACK * w on, in registers, or one by one where they do not make a
 * whole pack of one model (the last, incomplete pack, and packs across the
 * boundary between two models side by side). One kernel per vector count
 * and norm, so that PoCL, which generates and compiles a kernel's code at
 * its first launch, compiles only the variant a run uses (the eight in
 * one kernel took about 0.7 s of a 5.3 s cold start of the GPT,
 * 2026-12-07, which uses none of them). */
#if ROW_PACK > 0
#define NORM_PACK_KERNEL(NV, RMS)                                                                                 \
  __kernel void norm_fwd_pack##NV##_##RMS(NORM_FWD_PARAMS, int mode) {                                            \
    (void)mode;                                                                                                   \
    uint r_begin = get_global_id(0) * ROW_PACK, r_end = min(rows, r_begin + ROW_PACK);                            \
    if (r_end - r_begin == ROW_PACK && r_begin / mrows == (r_end - 1) / mrows) {                                  \
      norm_pack##NV##_##RMS(NORM_FWD_ARGS, r_begin);                                                              \
      return;                                                                                                     \
    }                                                                                                             \
    NORM_ROWS(r_begin, r_end);                                                                                    \
  }
NORM_PACK_KERNEL(1, 0)
NORM_PACK_KERNEL(2, 0)
NORM_PACK_KERNEL(3, 0)
NORM_PACK_KERNEL(4, 0)
NORM_PACK_KERNEL(1, 1)
NORM_PACK_KERNEL(2, 1)
NORM_PACK_KERNEL(3, 1)
NORM_PACK_KERNEL(4, 1)
#endif

/* ---------------------------------------------- variant 1: row per group */

/* As norm_fwd_row; the row is the group id, so the early return is
 * uniform over the group.
 *
 * y may be x. Item l reads and writes only the columns l, l + wg, ...,
 * except the shift x0 = x[0], which every item needs: item 0 reads it and
 * hands it on through local memory. Were every item to read x[0] itself,
 * item 0's store of y[0] would race with those reads: the barriers in
 * wg_sum order local memory only, so nothing orders a global read of one
 * item before another's global write (Oclgrind reports it; PoCL happens to
 * run the items in an order that hides it). */
__kernel void norm_fwd_wg(__global float *x, uint xo, __global const float *gamma, uint go,
                          __global const float *beta, uint bo, int has_beta, __global float *y, uint yo,
                          __global float *mean, uint mo, int has_mean, __global float *rstd, uint ro, int has_rstd,
                          uint rows, uint cols, float eps, int rms, __global const float *ra, uint rao,
                          __global const float *ry, uint ryo, __global const float *rb, uint rbo, int has_res,
                          uint mrows, uint pstride, uint sstride) {
  __local float red[ROW_WG];
  /* An array, not a scalar: clang's uninitialised-use check does not know
   * that a __local scalar written by one item is read after a barrier. */
  __local float shift[1];
  uint r = get_group_id(0);
  if (r >= rows) return;
  MODEL_OF(r);
  uint l = get_local_id(0), wg = get_local_size(0);
  __global const float *xr = x + xo + r * cols;
  __global float *yr = y + yo + r * cols;
  __global const float *g = gamma + go + po;
  __global const float *b = beta + bo + po;
  float inv_n = 1.0f / (float)cols;
  if (has_res) res_row(x + xo + r * cols, ra + rao + r * cols, ry + ryo + r * cols, rb + rbo + po, l, wg, cols);

  if (l == 0) shift[0] = rms ? 0.0f : xr[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  float x0 = shift[0];
  float s = 0.0f;
  if (!rms)
    for (uint j = l; j < cols; j += wg) s += xr[j] - x0;
  float m = wg_sum(s, red) * inv_n; /* 0 for RMSNorm */
  float q = 0.0f;
  for (uint j = l; j < cols; j += wg) {
    float d = (xr[j] - x0) - m;
    q = mad(d, d, q);
  }
  float rs = rsqrt(wg_sum(q, red) * inv_n + eps);

  if (has_beta) {
    for (uint j = l; j < cols; j += wg) yr[j] = mad(((xr[j] - x0) - m) * rs, g[j], b[j]);
  } else {
    for (uint j = l; j < cols; j += wg) yr[j] = ((xr[j] - x0) - m) * rs * g[j];
  }
  /* (Two flat conditions: PoCL 3.1 crashed on the nested form.) */
  if (l == 0 && has_mean) mean[mo + so] = x0 + m;
  if (l == 0 && has_rstd) rstd[ro + so] = rs;
}

/* Both row sums of the backward pass in one reduction. */
__kernel void norm_bwd_wg(__global const float *x, uint xo, __global const float *gamma, uint go,
                          __global const float *mean, uint mo, __global const float *rstd, uint ro,
                          __global const float *dy, uint dyo, __global float *dx, uint dxo, uint rows, uint cols,
                          int rms, int acc_dx, uint mrows, uint pstride, uint sstride) {
  __local float2 red[ROW_WG];
  uint r = get_group_id(0);
  if (r >= rows) return;
  MODEL_OF(r);
  uint l = get_local_id(0), wg = get_local_size(0);
  uint base = r * cols;
  __global const float *xr = x + xo + base;
  __global const float *gr = dy + dyo + base;
  __global float *dr = dx + dxo + base;
  __global const float *g = gamma + go + po;
  float mu = rms ? 0.0f : mean[mo + so];
  float rs = rstd[ro + so];
  float inv_n = 1.0f / (float)cols;

  float2 ab = (float2)(0.0f);
  for (uint j = l; j < cols; j += wg) {
    float gd = g[j] * gr[j];
    ab.x += gd;
    ab.y = mad(gd, (xr[j] - mu) * rs, ab.y);
  }
  ab = wg_sum2(ab, red) * inv_n;
  float a = rms ? 0.0f : ab.x, b = ab.y;
  /* acc_dx (a residual stream's gradient takes the branch's) as its own
   * loop: PoCL 3.1 mis-vectorised a conditional read-add in this loop
   * (stores past the row end, seen by the tests' sentinels). */
  if (acc_dx) {
    for (uint j = l; j < cols; j += wg) {
      float gd = g[j] * gr[j];
      float xh = (xr[j] - mu) * rs;
      dr[j] += rs * (gd - a - xh * b);
    }
  } else {
    for (uint j = l; j < cols; j += wg) {
      float gd = g[j] * gr[j];
      float xh = (xr[j] - mu) * rs;
      dr[j] = rs * (gd - a - xh * b);
    }
  }
}

/* ---------------------------------------------- parameter gradients */

/* Work-item (c, p): columns c*ROW_CVEC .. +ROW_CVEC-1, rows of part p
 * (part_rows each). Writes dgamma to dg[dgo + p*cols + j] and, when
 * want_dbeta, dbeta to db[dbo + p*cols + j]; accumulate adds to what is
 * there (only used with one part, writing straight into the caller's
 * dgamma/dbeta). has_mean = 0 for RMSNorm. */
__kernel void norm_param_grad(__global const float *x, uint xo, __global const float *mean, uint mo, int has_mean,
                              __global const float *rstd, uint ro, __global const float *dy, uint dyo, uint rows,
                              uint cols, uint part_rows, __global float *dg, uint dgo, __global float *db,
                              uint dbo, int want_dbeta, int accumulate, uint mrows, uint sstride, uint dstride) {
  uint c = get_global_id(0) * ROW_CVEC;
  uint p = get_global_id(1);
  if (c >= cols) return;
  PART_OF(p);
  uint o = dpo + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= cols) {
    typedef CAT(float, ROW_CVEC) floatc;
    floatc sg = (floatc)(0.0f), sb = (floatc)(0.0f);
    for (uint r = r0; r < r1; r++) {
      uint i = r * cols + c;
      floatc d = CAT(vload, ROW_CVEC)(0, dy + dyo + i);
      floatc xv = CAT(vload, ROW_CVEC)(0, x + xo + i);
      float mu = has_mean ? mean[mo + sb0 + r] : 0.0f;
      sg = mad(d, (xv - mu) * rstd[ro + sb0 + r], sg);
      sb += d;
    }
    if (accumulate) {
      sg += CAT(vload, ROW_CVEC)(0, dg + dgo + o);
      if (want_dbeta) sb += CAT(vload, ROW_CVEC)(0, db + dbo + o);
    }
    CAT(vstore, ROW_CVEC)(sg, 0, dg + dgo + o);
    if (want_dbeta) CAT(vstore, ROW_CVEC)(sb, 0, db + dbo + o);
    return;
  }
#endif
  for (uint k = c; k < min(cols, c + ROW_CVEC); k++, o++) {
    float sg = 0.0f, sb = 0.0f;
    for (uint r = r0; r < r1; r++) {
      uint i = r * cols + k;
      float d = dy[dyo + i];
      float mu = has_mean ? mean[mo + sb0 + r] : 0.0f;
      sg = mad(d, (x[xo + i] - mu) * rstd[ro + sb0 + r], sg);
      sb += d;
    }
    if (accumulate) {
      sg += dg[dgo + o];
      if (want_dbeta) sb += db[dbo + o];
    }
    dg[dgo + o] = sg;
    if (want_dbeta) db[dbo + o] = sb;
  }
}

/* The whole backward pass for CPUs (variant 0), in one kernel: work-item
 * p owns the rows of part p; for each row it finds the two row sums, then
 * writes dx while adding dy * xhat and dy into its partial dgamma/dbeta
 * rows (dg[dgo + p*cols ...], db[dbo + p*cols ...]; they stay in L1). x and
 * dy stream through once, contiguously. (Walking columns, as
 * norm_param_grad does for GPUs, strides through memory a row apart on a
 * CPU and defeats its prefetchers.) accumulate: the partial rows start
 * from what they hold (used with a single part, writing straight into the
 * caller's dgamma/dbeta), else from 0. Element j of dx is written after
 * x[j] and dy[j] were read for the last time, so dx may be x or dy. */
__kernel void norm_bwd_part(__global const float *x, uint xo, __global const float *gamma, uint go,
                            __global const float *mean, uint mo, __global const float *rstd, uint ro,
                            __global const float *dy, uint dyo, __global float *dx, uint dxo, uint rows, uint cols,
                            int rms, int acc_dx, uint part_rows, __global float *dg, uint dgo, __global float *db,
                            uint dbo, int want_dbeta, int accumulate, uint mrows, uint pstride, uint sstride,
                            uint dstride) {
  uint p = get_global_id(0);
  if (p >= (rows / mrows) * ((mrows + part_rows - 1) / part_rows)) return;
  PART_OF(p);
  __global const float *g = gamma + go + pk * pstride;
  __global float *pg = dg + dgo + dpo;
  __global float *pb = db + dbo + dpo;
  float inv_n = 1.0f / (float)cols;
  uint j;
  if (!accumulate) {
    for (j = 0; j + ROW_VEC <= cols; j += ROW_VEC) VSTORE((floatv)(0.0f), 0, pg + j);
    for (; j < cols; j++) pg[j] = 0.0f;
    if (want_dbeta) {
      for (j = 0; j + ROW_VEC <= cols; j += ROW_VEC) VSTORE((floatv)(0.0f), 0, pb + j);
      for (; j < cols; j++) pb[j] = 0.0f;
    }
  }
  for (uint r = r0; r < r1; r++) {
    uint start = dxo + r * cols;
    __global const float *xr = x + xo + r * cols;
    __global const float *gr = dy + dyo + r * cols;
    __global float *dr = dx + start;
    int al = start % ROW_VEC == 0;
    __global floatv *da = (__global floatv *)(dx + (start - start % ROW_VEC));
    float mu = rms ? 0.0f : mean[mo + sb0 + r];
    float rs = rstd[ro + sb0 + r];

    floatv va = (floatv)(0.0f), vb = va, va1 = va, vb1 = va; /* two chains each */
    for (j = 0; j + 2 * ROW_VEC <= cols; j += 2 * ROW_VEC) {
      floatv gd = VLOAD(0, g + j) * VLOAD(0, gr + j);
      floatv gd1 = VLOAD(0, g + j + ROW_VEC) * VLOAD(0, gr + j + ROW_VEC);
      va += gd;
      va1 += gd1;
      vb = mad(gd, (VLOAD(0, xr + j) - mu) * rs, vb);
      vb1 = mad(gd1, (VLOAD(0, xr + j + ROW_VEC) - mu) * rs, vb1);
    }
    for (; j + ROW_VEC <= cols; j += ROW_VEC) {
      floatv gd = VLOAD(0, g + j) * VLOAD(0, gr + j);
      va += gd;
      vb = mad(gd, (VLOAD(0, xr + j) - mu) * rs, vb);
    }
    float a = hsum(va + va1), b = hsum(vb + vb1);
    for (; j < cols; j++) {
      float gd = g[j] * gr[j];
      a += gd;
      b = mad(gd, (xr[j] - mu) * rs, b);
    }
    a = rms ? 0.0f : a * inv_n;
    b *= inv_n;

    for (j = 0; j + ROW_VEC <= cols; j += ROW_VEC) {
      floatv d = VLOAD(0, gr + j);
      floatv xh = (VLOAD(0, xr + j) - mu) * rs;
      VSTORE(mad(d, xh, VLOAD(0, pg + j)), 0, pg + j);
      if (want_dbeta) VSTORE(VLOAD(0, pb + j) + d, 0, pb + j);
      floatv v = rs * (VLOAD(0, g + j) * d - a - xh * b);
      if (acc_dx) v += VLOAD(0, dr + j); /* a residual stream's gradient takes the branch's */
      STORE_V(v, j, al, da, dr);
    }
    for (; j < cols; j++) {
      float d = gr[j];
      float xh = (xr[j] - mu) * rs;
      pg[j] = mad(d, xh, pg[j]);
      if (want_dbeta) pb[j] += d;
      float v = rs * (g[j] * d - a - xh * b);
      dr[j] = acc_dx ? dr[j] + v : v;
    }
  }
}

/* Sums the parts written by norm_param_grad (dgamma parts at part[0..],
 * dbeta parts at part[parts*cols..]) into the caller's dgamma/dbeta. */
__kernel void norm_param_finish(__global const float *part, uint parts, uint cols, __global float *dg, uint dgo,
                                __global float *db, uint dbo, int want_dbeta, int accumulate, uint models,
                                uint pstride) {
  uint j = get_global_id(0);
  uint k = get_global_id(1); /* the model: its parts, its dgamma/dbeta */
  if (j >= cols) return;
  __global const float *pg = part + k * parts * cols, *pb = part + (models + k) * parts * cols;
  float sg = 0.0f, sb = 0.0f;
  for (uint p = 0; p < parts; p++) {
    sg += pg[p * cols + j];
    if (want_dbeta) sb += pb[p * cols + j];
  }
  uint go = dgo + k * pstride + j, bo = dbo + k * pstride + j;
  if (accumulate) {
    sg += dg[go];
    if (want_dbeta) sb += db[bo];
  }
  dg[go] = sg;
  if (want_dbeta) db[bo] = sb;
}
