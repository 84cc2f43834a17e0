/*
 * cl/cholesky.cl - the small kernels of the blocked Cholesky solve
 * (src/ops/cholesky.c launches them; the bulk of the work, the trailing
 * updates and the block substitutions, runs through the matmul kernels):
 *   chol_diag:     factors one diagonal block of at most CHOL_NB rows in
 *                  local memory (one work-group), writes L11 back, its
 *                  inverse W = L11^-1 (so that the panel and the
 *                  substitutions become matrix products), and its pivots;
 *                  a pivot that is not positive and finite is reported in
 *                  the status word instead of being square-rooted.
 *   chol_copy:     a rows x cols strided copy (matmul cannot write in
 *                  place over its own input).
 *   spd_residual:  r = b - A x and the Oettli-Prager denominator |A||x| +
 *                  |b|, one work-group per entry, with the products and sums
 *                  compensated (error-free transformations through fma), so
 *                  the residual of a float32 solution comes out as if
 *                  computed in twice the precision: iterative refinement
 *                  needs the residual more accurate than the working
 *                  precision to improve the forward error.
 *   spd_update:    x += d.
 * Operands are (buffer, offset in floats) with row-major leading dimensions.
 * Every sum runs in an order fixed by the shape and the work-group size, so
 * results are bitwise reproducible.
 */

#ifndef CHOL_NB
#define CHOL_NB 64
#endif
#ifndef CHOL_RWG
#define CHOL_RWG 64
#endif

/* Factors the kb x kb diagonal block at F + fo (leading dimension ld) in
 * place: right-looking, one column per step, its update spread over the
 * group. Then each item inverts columns of L11 by forward substitution into
 * W + wo (leading dimension CHOL_NB, zeros above the diagonal). piv[po + j]
 * gets L11[j][j], or the offending value when pivot j fails, in which case
 * status[so] (if still 0) becomes base + j + 1 and the block is left as it is
 * (the host refuses the factor). */
__kernel void chol_diag(__global float *F, uint fo, uint ld, uint kb, __global float *W, uint wo,
                        __global float *piv, uint po, __global float *status, uint so, uint base) {
  __local float blk[CHOL_NB * CHOL_NB];
  __local int failed;
  uint l = get_local_id(0), lsz = get_local_size(0);
  for (uint t = l; t < kb * kb; t += lsz) {
    uint i = t / kb, j = t % kb;
    blk[i * CHOL_NB + j] = j <= i ? F[fo + i * ld + j] : 0.0f;
  }
  if (l == 0) failed = 0;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint j = 0; j < kb; j++) {
    if (l == 0) {
      float d = blk[j * CHOL_NB + j];
      /* NaN fails this test too: a NaN anywhere in A ends here. */
      if (d > 0.0f && isfinite(d)) {
        blk[j * CHOL_NB + j] = sqrt(d);
      } else {
        failed = 1;
        piv[po + j] = d;
        if (status[so] == 0.0f) status[so] = (float)(base + j + 1);
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (failed) return; /* every item sees the same flag after the barrier */
    float djj = blk[j * CHOL_NB + j];
    for (uint i = j + 1 + l; i < kb; i += lsz) blk[i * CHOL_NB + j] /= djj;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint m = kb - j - 1;
    for (uint t = l; t < m * m; t += lsz) {
      uint i = j + 1 + t / m, c = j + 1 + t % m;
      if (c <= i) blk[i * CHOL_NB + c] -= blk[i * CHOL_NB + j] * blk[c * CHOL_NB + j];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  for (uint t = l; t < kb * kb; t += lsz) {
    uint i = t / kb, j = t % kb;
    if (j <= i) F[fo + i * ld + j] = blk[i * CHOL_NB + j];
  }
  for (uint j = l; j < kb; j += lsz) piv[po + j] = blk[j * CHOL_NB + j];
  /* Column c of W solves L11 w = e_c: w[i] = 0 above c, 1 / L[c][c] at c,
   * then -(sum_{t=c}^{i-1} L[i][t] w[t]) / L[i][i] below. Each item reads
   * back only the values it wrote itself. */
  for (uint c = l; c < kb; c += lsz) {
    for (uint i = 0; i < c; i++) W[wo + i * CHOL_NB + c] = 0.0f;
    W[wo + c * CHOL_NB + c] = 1.0f / blk[c * CHOL_NB + c];
    for (uint i = c + 1; i < kb; i++) {
      float s = 0.0f;
      for (uint t = c; t < i; t++) s = fma(blk[i * CHOL_NB + t], W[wo + t * CHOL_NB + c], s);
      W[wo + i * CHOL_NB + c] = -s / blk[i * CHOL_NB + i];
    }
  }
}

/* dst[i][j] = src[i][j] for i < rows, j < cols; a 2-D range (cols, rows). */
__kernel void chol_copy(__global const float *src, uint so, uint sld, __global float *dst, uint dof, uint dld,
                        uint rows, uint cols) {
  uint j = get_global_id(0), i = get_global_id(1);
  if (i < rows && j < cols) dst[dof + i * dld + j] = src[so + i * sld + j];
}

/* x[i][j] += d[i][j]; a 2-D range (cols, rows). */
__kernel void spd_update(__global float *x, uint xo, uint ldx, __global const float *d, uint dof, uint ldd,
                         uint rows, uint cols) {
  uint j = get_global_id(0), i = get_global_id(1);
  if (i < rows && j < cols) x[xo + i * ldx + j] += d[dof + i * ldd + j];
}

/* The error-free sum: s + e == a + b exactly (Knuth's TwoSum, no branch). */
static inline float2 two_sum(float a, float b) {
  float s = a + b;
  float bb = s - a;
  float e = (a - (s - bb)) + (b - bb);
  return (float2)(s, e);
}

/* Work-group g = i * nrhs + c computes, for row i and right-hand side c,
 *   r[i][c] = b[i][c] - sum_j A[i][j] x[j][c]     (compensated: Dot2 of
 *             Ogita, Rump and Oishi, the products split exactly by fma)
 *   s[i][c] = |b[i][c]| + sum_j |A[i][j]| |x[j][c]|
 * Item l takes j = l, l + lsz, ... (coalesced), then the group combines its
 * (sum, error) pairs by a tree. lsz is a power of two <= CHOL_RWG. */
__kernel void spd_residual(__global const float *A, uint ao, uint lda, __global const float *X, uint xo, uint ldx,
                           __global const float *B, uint bo, uint ldb, __global float *R, uint ro,
                           __global float *S, uint so, uint n, uint nrhs) {
  __local float hi[CHOL_RWG], lo[CHOL_RWG], den[CHOL_RWG];
  uint l = get_local_id(0), lsz = get_local_size(0);
  uint g = get_group_id(0), i = g / nrhs, c = g % nrhs;
  float s = 0.0f, e = 0.0f, d = 0.0f;
  if (l == 0) {
    s = B[bo + i * ldb + c];
    d = fabs(s);
  }
  for (uint j = l; j < n; j += lsz) {
    float a = A[ao + i * lda + j], x = X[xo + j * ldx + c];
    float p = -a * x;
    float pe = fma(-a, x, -p); /* p + pe == -a x exactly */
    float2 t = two_sum(s, p);
    s = t.x;
    e += t.y + pe;
    d = fma(fabs(a), fabs(x), d);
  }
  hi[l] = s;
  lo[l] = e;
  den[l] = d;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = lsz / 2; h > 0; h /= 2) {
    if (l < h) {
      float2 t = two_sum(hi[l], hi[l + h]);
      hi[l] = t.x;
      lo[l] += lo[l + h] + t.y;
      den[l] += den[l + h];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) {
    R[ro + i * nrhs + c] = hi[0] + lo[0];
    S[so + i * nrhs + c] = den[0];
  }
}
