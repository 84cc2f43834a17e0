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
 *   spd_residual_rows: the same, one work-item per entry (CPUs).
 *   chol_subst:    both substitutions for a few right-hand sides, each in
 *                  one launch of one work-group (CPUs).
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
 * W + wo (leading dimension CHOL_NB, zeros above the diagonal), and its
 * transpose into W + wto (which the panel's product then reads in place,
 * where W would have to be packed, a launch per block). piv[po + j]
 * gets L11[j][j], or the offending value when pivot j fails, in which case
 * status[so] (if still 0) becomes base + j + 1 and the block is left as it is
 * (the host refuses the factor). */
__kernel void chol_diag(__global float *F, uint fo, uint ld, uint kb, __global float *W, uint wo, uint wto,
                        __global float *piv, uint po, __global float *status, uint so, uint base) {
  __local float blk[CHOL_NB * CHOL_NB];
  __local float colj[CHOL_NB]; /* column j of L, contiguous for the update */
  uint l = get_local_id(0), lsz = get_local_size(0);
  /* Rows spread over the items: no division per entry. */
  for (uint i = l; i < kb; i += lsz)
    for (uint j = 0; j < kb; j++) blk[i * CHOL_NB + j] = j <= i ? F[fo + i * ld + j] : 0.0f;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint j = 0; j < kb; j++) {
    /* Every item reads the pivot (final since the last barrier) and takes
     * its root itself: all decide alike, so failing needs no shared flag
     * and no barrier of its own. NaN fails this test too: a NaN anywhere
     * in A ends here. */
    float d = blk[j * CHOL_NB + j];
    if (!(d > 0.0f && isfinite(d))) {
      if (l == 0) {
        piv[po + j] = d;
        if (status[so] == 0.0f) status[so] = (float)(base + j + 1);
      }
      return;
    }
    float djj = sqrt(d);
    for (uint i = j + 1 + l; i < kb; i += lsz) colj[i] = blk[i * CHOL_NB + j] /= djj;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (l == 0) blk[j * CHOL_NB + j] = djj; /* read by nobody until the next barrier */
    /* Each item updates whole rows of the trailing triangle (the items
     * write disjoint rows; column j is read only, from its contiguous copy,
     * 16 columns at a time: the update is most of the kernel's work). */
    for (uint i = j + 1 + l; i < kb; i += lsz) {
      float lij = blk[i * CHOL_NB + j];
      __local float *row = blk + i * CHOL_NB;
      uint c = j + 1;
      for (; c + 16 <= i + 1; c += 16) vstore16(fma(-lij, vload16(0, colj + c), vload16(0, row + c)), 0, row + c);
      for (; c <= i; c++) row[c] = fma(-lij, colj[c], row[c]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  for (uint i = l; i < kb; i += lsz)
    for (uint j = 0; j <= i; j++) F[fo + i * ld + j] = blk[i * CHOL_NB + j];
  for (uint j = l; j < kb; j += lsz) piv[po + j] = blk[j * CHOL_NB + j];
  /* Column c of W solves L11 w = e_c: w[i] = 0 above c, 1 / L[c][c] at c,
   * then -(sum_{t=c}^{i-1} L[i][t] w[t]) / L[i][i] below. An item takes 16
   * columns at once (one chain of multiply-adds per column would bound the
   * kernel by their latency), the columns past the last full 16 one by one.
   * Terms with t < c are products with the zeros above the diagonal, so
   * they change no sum. Each item reads back only the values it wrote. */
  uint nv = kb / 16;
  for (uint g = l; g < nv + (kb - nv * 16); g += lsz) {
    if (g < nv) {
      uint c0 = g * 16;
      int16 col = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + (int)c0;
      for (uint i = 0; i < kb; i++) {
        float16 acc = (float16)(0.0f);
        for (uint t = c0; t < i; t++)
          acc = fma((float16)(blk[i * CHOL_NB + t]), vload16(0, W + wo + t * CHOL_NB + c0), acc);
        float d = blk[i * CHOL_NB + i];
        float16 w = select(-acc / d, (float16)(1.0f / d), col == (int)i);
        w = select(w, (float16)(0.0f), col > (int)i);
        vstore16(w, 0, W + wo + i * CHOL_NB + c0);
        float wl[16];
        vstore16(w, 0, wl);
        for (uint q = 0; q < 16; q++) W[wto + (c0 + q) * CHOL_NB + i] = wl[q];
      }
    } else {
      uint c = nv * 16 + (g - nv);
      for (uint i = 0; i < c; i++) W[wo + i * CHOL_NB + c] = W[wto + c * CHOL_NB + i] = 0.0f;
      W[wo + c * CHOL_NB + c] = W[wto + c * CHOL_NB + c] = 1.0f / blk[c * CHOL_NB + c];
      for (uint i = c + 1; i < kb; i++) {
        float s = 0.0f;
        for (uint t = c; t < i; t++) s = fma(blk[i * CHOL_NB + t], W[wo + t * CHOL_NB + c], s);
        W[wo + i * CHOL_NB + c] = W[wto + c * CHOL_NB + i] = -s / blk[i * CHOL_NB + i];
      }
    }
  }
}

/* dst[i][j] = src[i][j] for i < rows, j < cols (lower != 0: only the
 * chunks that hold a j <= i, the rest of the row is left as it is); a 2-D
 * range (ceil(cols / 16), rows), an item per chunk of 16 columns of a row. */
__kernel void chol_copy(__global const float *src, uint so, uint sld, __global float *dst, uint dof, uint dld,
                        uint rows, uint cols, uint lower) {
  uint j0 = get_global_id(0) * 16, i = get_global_id(1);
  if (i >= rows || j0 >= cols || (lower && j0 > i)) return;
  __global const float *s = src + so + i * sld + j0;
  __global float *d = dst + dof + i * dld + j0;
  if (j0 + 16 <= cols) {
    vstore16(vload16(0, s), 0, d);
  } else {
    for (uint j = 0; j < cols - j0; j++) d[j] = s[j];
  }
}

/* dst[j][i] = src[i][j] for a rows x cols src; a 2-D range (cols, rows).
 * Moves the right-hand sides into the factor's border rows and back (a
 * few columns: no tiling needed). */
__kernel void chol_transpose(__global const float *src, uint so, uint sld, __global float *dst, uint dof,
                             uint dld, uint rows, uint cols) {
  uint j = get_global_id(0), i = get_global_id(1);
  if (i < rows && j < cols) dst[dof + j * dld + i] = src[so + i * sld + j];
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

/* b[0], b[bs], ..., b[15 bs] as one vector (one load when contiguous). */
static inline float16 gather16(__global const float *b, uint bs) {
  if (bs == 1) return vload16(0, b);
  return (float16)(b[0], b[bs], b[2 * bs], b[3 * bs], b[4 * bs], b[5 * bs], b[6 * bs], b[7 * bs], b[8 * bs],
                   b[9 * bs], b[10 * bs], b[11 * bs], b[12 * bs], b[13 * bs], b[14 * bs], b[15 * bs]);
}

/* The 16 lanes summed by a fixed tree. */
static inline float sum16(float16 v) {
  float8 h = v.lo + v.hi;
  float4 q = h.lo + h.hi;
  float2 d = q.lo + q.hi;
  return d.x + d.y;
}

/* The dot product sum_{t < len} a[t] b[t * bs] (a contiguous, b at stride
 * bs) on two 16-lane accumulators, so that many multiply-adds are in
 * flight per item instead of one chain; combined in a fixed order. */
static inline float dot16(__global const float *a, __global const float *b, uint bs, uint len) {
  float16 a0 = (float16)(0.0f), a1 = (float16)(0.0f);
  uint t = 0;
  for (; t + 32 <= len; t += 32) {
    a0 = fma(vload16(0, a + t), gather16(b + t * bs, bs), a0);
    a1 = fma(vload16(0, a + t + 16), gather16(b + (t + 16) * bs, bs), a1);
  }
  a0 += a1;
  if (t + 16 <= len) {
    a0 = fma(vload16(0, a + t), gather16(b + t * bs, bs), a0);
    t += 16;
  }
  float s = sum16(a0);
  for (; t < len; t++) s = fma(a[t], b[t * bs], s);
  return s;
}

/* Y (n x nrhs, ld ldy) = L^-1 Y (upper = 0) or L^-T Y (upper = 1) with the
 * factor F (ld ld) and its inverted diagonal blocks W (nb x nb each, ld nb),
 * in one work-group: a small number of right-hand sides makes the
 * substitution a matrix-vector walk over the factor, where the blocked
 * products would spend their time launching and packing. Per block k of kb
 * rows, left-looking:
 *   T = Y_k - L[k, :k] Y[:k]         (upper: Y_k - L[k+kb:, k]^T Y[k+kb:])
 *   Y_k = W_k T                      (upper: W_k^T T)
 * T (kb x nrhs) is scratch at T + to. The sums run on independent
 * accumulators (the walk is bound by the latency of a chain of
 * multiply-adds otherwise), in an order fixed by the shape. */
__kernel void chol_subst(__global const float *F, uint fo, uint ld, __global const float *W, uint wo, uint nb,
                         __global float *Y, uint yo, uint ldy, __global float *T, uint to, uint n, uint nrhs,
                         uint upper) {
  uint l = get_local_id(0), lsz = get_local_size(0);
  uint nblk = (n + nb - 1) / nb;
  for (uint bi = 0; bi < nblk; bi++) {
    uint b = upper ? nblk - 1 - bi : bi;
    uint k0 = b * nb, kb = min(nb, n - k0);
    __global const float *wk = W + wo + b * nb * nb;
    if (!upper) {
      /* One item per (row, rhs): the row of L is contiguous. */
      for (uint t = l; t < kb * nrhs; t += lsz) {
        uint i = t / nrhs, c = t % nrhs;
        T[to + t] = Y[yo + (k0 + i) * ldy + c] - dot16(F + fo + (k0 + i) * ld, Y + yo + c, ldy, k0);
      }
    } else {
      /* A block of 64 columns: one item per rhs reads each row of L below
       * the block once, 64 contiguous floats into four accumulators (one
       * pass, where four items of 16 columns would make four). */
      uint groups = kb == 64 ? 0 : (kb + 15) / 16;
      for (uint c = l; kb == 64 && c < nrhs; c += lsz) {
        float16 a0 = (float16)(0.0f), a1 = (float16)(0.0f), a2 = (float16)(0.0f), a3 = (float16)(0.0f);
        for (uint r = k0 + kb; r < n; r++) {
          __global const float *row = F + fo + r * ld + k0;
          float16 y = (float16)(Y[yo + r * ldy + c]);
          a0 = fma(vload16(0, row), y, a0);
          a1 = fma(vload16(1, row), y, a1);
          a2 = fma(vload16(2, row), y, a2);
          a3 = fma(vload16(3, row), y, a3);
        }
        float tmp[64];
        vstore16(gather16(Y + yo + k0 * ldy + c, ldy) - a0, 0, tmp);
        vstore16(gather16(Y + yo + (k0 + 16) * ldy + c, ldy) - a1, 1, tmp);
        vstore16(gather16(Y + yo + (k0 + 32) * ldy + c, ldy) - a2, 2, tmp);
        vstore16(gather16(Y + yo + (k0 + 48) * ldy + c, ldy) - a3, 3, tmp);
        for (uint q = 0; q < 64; q++) T[to + q * nrhs + c] = tmp[q];
      }
      /* Otherwise one item per (group of 16 columns, rhs), even and odd
       * rows into two accumulators. */
      for (uint t = l; t < groups * nrhs; t += lsz) {
        uint g = t / nrhs, c = t % nrhs, i0 = g * 16;
        if (i0 + 16 <= kb) {
          float16 a0 = (float16)(0.0f), a1 = (float16)(0.0f);
          uint r = k0 + kb;
          for (; r + 2 <= n; r += 2) {
            a0 = fma(vload16(0, F + fo + r * ld + k0 + i0), (float16)(Y[yo + r * ldy + c]), a0);
            a1 = fma(vload16(0, F + fo + (r + 1) * ld + k0 + i0), (float16)(Y[yo + (r + 1) * ldy + c]), a1);
          }
          if (r < n) a0 = fma(vload16(0, F + fo + r * ld + k0 + i0), (float16)(Y[yo + r * ldy + c]), a0);
          float16 y = gather16(Y + yo + (k0 + i0) * ldy + c, ldy) - (a0 + a1);
          float tmp[16];
          vstore16(y, 0, tmp);
          for (uint q = 0; q < 16; q++) T[to + (i0 + q) * nrhs + c] = tmp[q];
        } else {
          for (uint i = i0; i < kb; i++) {
            float s = 0.0f;
            for (uint r = k0 + kb; r < n; r++) s = fma(F[fo + r * ld + k0 + i], Y[yo + r * ldy + c], s);
            T[to + i * nrhs + c] = Y[yo + (k0 + i) * ldy + c] - s;
          }
        }
      }
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    /* Y_k = W_k T on two partial sums (even and odd q). */
    for (uint t = l; t < kb * nrhs; t += lsz) {
      uint i = t / nrhs, c = t % nrhs;
      float s0 = 0.0f, s1 = 0.0f;
      if (!upper) {
        uint q = 0;
        for (; q + 1 <= i; q += 2) {
          s0 = fma(wk[i * nb + q], T[to + q * nrhs + c], s0);
          s1 = fma(wk[i * nb + q + 1], T[to + (q + 1) * nrhs + c], s1);
        }
        if (q <= i) s0 = fma(wk[i * nb + q], T[to + q * nrhs + c], s0);
      } else {
        uint q = i;
        for (; q + 1 < kb; q += 2) {
          s0 = fma(wk[q * nb + i], T[to + q * nrhs + c], s0);
          s1 = fma(wk[(q + 1) * nb + i], T[to + (q + 1) * nrhs + c], s1);
        }
        if (q < kb) s0 = fma(wk[q * nb + i], T[to + q * nrhs + c], s0);
      }
      Y[yo + (k0 + i) * ldy + c] = s0 + s1;
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
  }
}

/* spd_residual with one item per entry (i, c) instead of one work-group:
 * for CPUs, where a row of A is read contiguously by one core and a
 * work-group's barriers cost more than the row. The same Dot2 sums, on
 * sixteen lanes of (sum, error) that are then folded by error-free sums in
 * a fixed order. A 1-D range of at least n * nrhs items. */
__kernel void spd_residual_rows(__global const float *A, uint ao, uint lda, __global const float *X, uint xo,
                                uint ldx, __global const float *B, uint bo, uint ldb, __global float *R, uint ro,
                                __global float *S, uint so, uint n, uint nrhs) {
  uint g = get_global_id(0);
  if (g >= n * nrhs) return;
  uint i = g / nrhs, c = g % nrhs;
  __global const float *a = A + ao + i * lda;
  float16 s = (float16)(0.0f), e = (float16)(0.0f), d = (float16)(0.0f);
  uint j = 0;
  for (; j + 16 <= n; j += 16) {
    float16 av = vload16(0, a + j);
    float16 xv = gather16(X + xo + j * ldx + c, ldx);
    float16 p = -av * xv;
    float16 pe = fma(-av, xv, -p); /* p + pe == -a x exactly */
    float16 t = s + p;
    float16 bb = t - s;
    e += ((s - (t - bb)) + (p - bb)) + pe;
    s = t;
    d = fma(fabs(av), fabs(xv), d);
  }
  float b = B[bo + i * ldb + c];
  float2 acc = (float2)(b, 0.0f);
  float den = fabs(b);
  float sl[16], el[16], dl[16];
  vstore16(s, 0, sl);
  vstore16(e, 0, el);
  vstore16(d, 0, dl);
  for (uint q = 0; q < 16; q++) {
    float2 t = two_sum(acc.x, sl[q]);
    acc = (float2)(t.x, acc.y + t.y + el[q]);
    den += dl[q];
  }
  for (; j < n; j++) {
    float av = a[j], xv = X[xo + j * ldx + c];
    float p = -av * xv;
    float pe = fma(-av, xv, -p);
    float2 t = two_sum(acc.x, p);
    acc = (float2)(t.x, acc.y + t.y + pe);
    den = fma(fabs(av), fabs(xv), den);
  }
  R[ro + i * nrhs + c] = acc.x + acc.y;
  S[so + i * nrhs + c] = den;
}
