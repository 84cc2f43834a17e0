/*
 * cl/matmul.cl - clscale's own matrix multiply, C = alpha*op(A)*op(B) + beta*C.
 *
 * The host (src/ops/matmul_own.c) copies op(A) and op(B) into packed
 * panels (mm_pack_panel on CPUs, mm_pack on GPUs) where that pays, then one
 * compute kernel multiplies them:
 *
 *   packed op(A): panels of PA rows of op(A); panel p holds, for each kk in
 *                 [0, Kp), the PA values op(A)[p*PA + r][kk] side by side;
 *   packed op(B): panels of PB columns of op(B), likewise [kk][PB].
 *
 * Packing does the transposition (so all four N/T combinations share one
 * compute kernel and one compile), pads with zeros up to whole panels and
 * to Kp (so loads need no bounds checks; only the store to C is checked),
 * and makes every load of the inner loop contiguous.
 *
 * Two compute kernels, chosen per device by MM_LOCAL (src/device/params_matmul.c):
 *  - mm_regs (MM_LOCAL=0, CPUs): no local memory, no barriers. Each
 *    work-item computes an MM_MR x (MM_NV*MM_VW) tile of C in registers with
 *    explicit vectors: per kk, MM_NV vector loads of B and MM_MR broadcasts
 *    of A feed MM_MR*MM_NV vector FMAs (the outer-product micro-kernel of
 *    BLAS libraries). PoCL runs the work-items of a group as a loop;
 *    explicit vectors give it AVX code without relying on its
 *    cross-work-item vectoriser, and the work-items of one group (along m)
 *    share a B panel, which stays in cache. A row-major A, and a row-major
 *    B, are read in place (packing costs as much as the multiply when the
 *    other side is small); a long k is split by the host into chunks of
 *    MM_KC, so that a tile's slices of A and B stay in cache: the chunks
 *    run side by side in one launch into partial C's that mm_ksum adds in
 *    chunk order (MM_KSPLIT=1), or as launches adding into C. The tile loops are unrolled by pragma: PoCL keeps
 *    a private array that is indexed in a loop in memory, one copy per
 *    work-item, and its accumulators would then be loaded and stored at
 *    every step (measured: 5x slower). fma(), not mad(): PoCL turns mad()
 *    into a multiply and an add.
 *  - mm_local (MM_LOCAL=1, GPUs): MM_TM x MM_TN tiles per work-group staged
 *    through local memory MM_TK deep, MM_WM x MM_WN values per work-item,
 *    work-items strided over the tile so that loads and stores coalesce.
 *    Both operands packed.
 *
 * beta == 0 never reads C (so NaN in C does not propagate). Every index is
 * 32-bit: the host refuses shapes whose (padded) spans reach 2^31 floats.
 */

#ifndef MM_VW
#define MM_VW 8
#endif
#ifndef MM_MR
#define MM_MR 4
#endif
#ifndef MM_NV
#define MM_NV 2
#endif
#ifndef MM_VW2
#define MM_VW2 MM_VW
#endif
#ifndef MM_MR2
#define MM_MR2 MM_MR
#endif
#ifndef MM_NV2
#define MM_NV2 MM_NV
#endif
#ifndef MM_NARROW
#define MM_NARROW 0
#endif
#ifndef MM_TM
#define MM_TM 64
#endif
#ifndef MM_TN
#define MM_TN 64
#endif
#ifndef MM_TK
#define MM_TK 16
#endif
#ifndef MM_WM
#define MM_WM 4
#endif
#ifndef MM_WN
#define MM_WN 4
#endif

/* The register tile of mm_regs. MM_MR x MM_NV vectors of MM_VW are sized
 * for 32 registers of 512 bits (AVX-512); CPUs with narrower or fewer
 * vector registers (x86 without AVX-512: 16 x 256 bits; ARM NEON) would
 * spill them, so there the kernel is built with the narrow tile MM_MR2 x
 * MM_NV2 x MM_VW2 instead (MM_NARROW=1 forces it). The compilers of CPU
 * runtimes predefine these target macros; GPU compilers define none of
 * them and get the wide tile (mm_regs is not used there). The host asks
 * the built kernel which tile it got (mm_geometry), so the two always
 * agree. */
#if MM_NARROW || (defined(__x86_64__) && !defined(__AVX512F__)) || defined(__aarch64__) || defined(__arm__)
#define MM_RMR MM_MR2
#define MM_RNV MM_NV2
#define MM_RVW MM_VW2
#else
#define MM_RMR MM_MR
#define MM_RNV MM_NV
#define MM_RVW MM_VW
#endif

/* MM_VCLAMP(p, j0, last, ld): the vector p[min(j0 + l, last) * ld] over lanes l,
 * built from scalar loads. (Not through a private array written by
 * scalars and read as vectors: with one, Oclgrind 21.10 aborted at exit
 * in every run of test_matmul_auto, as with the register transpose of
 * mm_pack_panel below.) */
#define MM_C(p, j0, last, ld, l)     (p)[min((j0) + (l), (last)) * (ld)]
#define MM_VCLAMP2(p, j0, last, ld)  MM_C(p, j0, last, ld, 0), MM_C(p, j0, last, ld, 1)
#define MM_VCLAMP4(p, j0, last, ld)  MM_VCLAMP2(p, j0, last, ld), MM_VCLAMP2(p, (j0) + 2, last, ld)
#define MM_VCLAMP8(p, j0, last, ld)  MM_VCLAMP4(p, j0, last, ld), MM_VCLAMP4(p, (j0) + 4, last, ld)
#define MM_VCLAMP16(p, j0, last, ld) MM_VCLAMP8(p, j0, last, ld), MM_VCLAMP8(p, (j0) + 8, last, ld)
#if MM_RVW == 16
#define MM_VT                      float16
#define MM_VLOAD                   vload16
#define MM_VSTORE                  vstore16
#define MM_VCLAMP(p, j0, last, ld) ((float16)(MM_VCLAMP16(p, j0, last, ld)))
#elif MM_RVW == 8
#define MM_VT                      float8
#define MM_VLOAD                   vload8
#define MM_VSTORE                  vstore8
#define MM_VCLAMP(p, j0, last, ld) ((float8)(MM_VCLAMP8(p, j0, last, ld)))
#elif MM_RVW == 4
#define MM_VT                      float4
#define MM_VLOAD                   vload4
#define MM_VSTORE                  vstore4
#define MM_VCLAMP(p, j0, last, ld) ((float4)(MM_VCLAMP4(p, j0, last, ld)))
#elif MM_RVW == 2
#define MM_VT                      float2
#define MM_VLOAD                   vload2
#define MM_VSTORE                  vstore2
#define MM_VCLAMP(p, j0, last, ld) ((float2)(MM_VCLAMP2(p, j0, last, ld)))
#else
#error "MM_VW and MM_VW2 must be 2, 4, 8 or 16"
#endif

#define MM_RNR (MM_RNV * MM_RVW)

/* Tells the host the tile mm_regs was built with: rows, columns. */
__kernel void mm_geometry(__global float *out) {
  if (get_global_id(0) == 0) {
    out[0] = (float)MM_RMR;
    out[1] = (float)MM_RNR;
  }
}

/* Packing. The logical matrix X is R x K with
 *   X[r][kk] = src[off + b*stride + (rmajor ? r*ld + kk : kk*ld + r)],
 * which is op(A) (R = m) or op(B) transposed (R = n). Output, per batch
 * entry b (dst_stride floats apart, from dst_off): panels of P rows, each
 * Kp x P, zero beyond R and K. */
#define MM_X(r, kk) src[base + ((rmajor) ? (r)*ld + (kk) : (kk)*ld + (r))]

/* GPU packing: one element per work-item; dim 0 = r within the panel
 * (coalesced writes, and coalesced reads when !rmajor), dim 1 = kk,
 * dim 2 = panel + panels*b. */
__kernel void mm_pack(__global const float *restrict src, uint off, uint ld, uint stride, uint rmajor, uint R,
                      uint K, uint P, uint Kp, uint panels, uint dst_stride, __global float *restrict dst,
                      uint dst_off) {
  uint ri = get_global_id(0), kk = get_global_id(1), pb = get_global_id(2);
  if (ri >= P || kk >= Kp) return;
  uint b = pb / panels, p = pb - b * panels;
  uint r = p * P + ri, base = off + b * stride;
  dst[dst_off + b * dst_stride + p * P * Kp + kk * P + ri] = (r < R && kk < K) ? MM_X(r, kk) : 0.0f;
}

/* CPU packing: one work-item packs a whole panel (dim 0 = panel, dim 1 =
 * batch entry), so that a runtime that runs work-groups one by one has few
 * of them, in blocks of 16 kk so that the side read or written with a
 * stride stays within a few cache lines.
 *
 * Vectors where the block allows: when X's rows are contiguous in kk
 * (rmajor: a transposed B, a row-major A) a whole 16 x 16 block is 16
 * vector stores, each of one kk's values from the 16 rows; otherwise
 * each kk is one contiguous run of the panel's rows, copied 16 and 4 floats
 * at a time. The rest (a panel's last rows, a last short chunk of kk, the
 * zero padding) goes element by element. Element by element throughout,
 * the GPT's attention scores Q K^T (64 x 64 x 32, 32 batch entries)
 * packed K^T in 27 us against 58 us for the multiply (16-18 us with vectors)
 * and a 1024 x 1024 B took 0.9 ms (0.55 ms). (Transposing the block in
 * registers, from 16 row vectors, is as fast, but Oclgrind 21.10 then
 * corrupts its heap at exit in most runs of test_matmul_auto.) */
#define MM_PACK_CHUNK 16
/* Transposes the 16 x 16 block s[i*ld + kk] (i, kk < 16) into d[kk*P + i]:
 * per kk, one vector store of the 16 rows' values (read from L1 after the
 * first kk brings their cache lines in). */
static void mm_pack_block_t(__global const float *restrict s, uint ld, __global float *restrict d, uint P) {
#pragma unroll
  for (uint kk = 0; kk < 16; kk++) {
    __global const float *c = s + kk;
    vstore16((float16)(c[0], c[ld], c[2 * ld], c[3 * ld], c[4 * ld], c[5 * ld], c[6 * ld], c[7 * ld], c[8 * ld],
                       c[9 * ld], c[10 * ld], c[11 * ld], c[12 * ld], c[13 * ld], c[14 * ld], c[15 * ld]),
             0, d + kk * P);
  }
}

__kernel void mm_pack_panel(__global const float *restrict src, uint off, uint ld, uint stride, uint rmajor,
                            uint R, uint K, uint P, uint Kp, uint panels, uint dst_stride,
                            __global float *restrict dst, uint dst_off) {
  uint p = get_global_id(0), b = get_global_id(1);
  if (p >= panels) return;
  uint base = off + b * stride, r0 = p * P;
  __global float *d = dst + dst_off + b * dst_stride + p * P * Kp;
  /* Rows of this panel inside X: the host launches ceil(R / P) panels, so
   * r0 < R. (No "r0 < R ? R - r0 : 0": LLVM makes that llvm.usub.sat,
   * which Oclgrind cannot run.) */
  uint rn = min(P, R - r0);
  uint rf = rn & ~15u; /* rows in whole blocks of 16 */
  for (uint k0 = 0; k0 < Kp; k0 += MM_PACK_CHUNK) {
    uint kn = min((uint)MM_PACK_CHUNK, Kp - k0), kin = k0 < K ? min(kn, K - k0) : 0;
    if (rmajor) {
      uint r1 = kin == MM_PACK_CHUNK ? rf : 0; /* rows done in blocks in this chunk */
      for (uint ri = 0; ri < r1; ri += 16)
        mm_pack_block_t(src + base + (r0 + ri) * ld + k0, ld, d + k0 * P + ri, P);
      for (uint ri = r1; ri < rn; ri++) {
        for (uint kk = 0; kk < kin; kk++) d[(k0 + kk) * P + ri] = src[base + (r0 + ri) * ld + k0 + kk];
        for (uint kk = kin; kk < kn; kk++) d[(k0 + kk) * P + ri] = 0.0f;
      }
    } else {
      for (uint kk = 0; kk < kn; kk++) {
        uint rv = kk < kin ? rn : 0;
        __global const float *s = src + base + min(k0 + kk, K - 1) * ld + r0; /* read only below kin */
        __global float *dk = d + (k0 + kk) * P;
        uint ri = 0;
        for (; ri + 16 <= rv; ri += 16) vstore16(vload16(0, s + ri), 0, dk + ri);
        for (; ri + 4 <= rv; ri += 4) vstore4(vload4(0, s + ri), 0, dk + ri);
        for (; ri < rv; ri++) dk[ri] = s[ri];
        for (ri = rv; ri < P; ri++) dk[ri] = 0.0f;
      }
    }
    if (rmajor)
      for (uint kk = 0; kk < kn; kk++)
        for (uint ri = rn; ri < P; ri++) d[(k0 + kk) * P + ri] = 0.0f;
  }
}

/* Writes alpha*acc (+ beta*C) for one row segment of nv valid columns,
 * then, with has_bias, adds brow[j] to column j: a second rounding, as
 * cls_bias_add makes it after the product (the same bits). */
#define MM_STORE_ROW(crow, vals, nvalid, alpha, beta, has_bias, brow)                                             \
  do {                                                                                                            \
    for (uint j_ = 0; j_ < (nvalid); j_++) {                                                                      \
      float t_ = (beta) == 0.0f ? (alpha) * (vals)[j_] : (alpha) * (vals)[j_] + (beta) * (crow)[j_];              \
      if (has_bias) t_ = t_ + (brow)[j_];                                                                         \
      (crow)[j_] = t_;                                                                                            \
    }                                                                                                             \
  } while (0)

/* One step kk of mm_regs's tile: op(B)'s row as MM_RNV vectors (BLOAD,
 * an expression of j), times each of the MM_RMR values of A's column
 * (AVAL, an expression of i), into acc; then a and bp move one step on.
 * The loops over MM_RMR and MM_RNV must be unrolled so that acc lives in
 * registers: a runtime that keeps private arrays in memory (PoCL does,
 * per work-item) would otherwise load and store every accumulator. */
#define MM_STEP(BLOAD, AVAL)                                                                                      \
  do {                                                                                                            \
    MM_VT bv[MM_RNV];                                                                                             \
    _Pragma("unroll") for (uint j = 0; j < MM_RNV; j++) bv[j] = (BLOAD);                                          \
    _Pragma("unroll") for (int i = 0; i < MM_RMR; i++) {                                                          \
      MM_VT av = (MM_VT)(AVAL);                                                                                   \
      _Pragma("unroll") for (int j = 0; j < MM_RNV; j++) acc[i][j] = fma(av, bv[j], acc[i][j]);                   \
    }                                                                                                             \
    a += a_ks;                                                                                                    \
    bp += b_ks;                                                                                                   \
  } while (0)

/* Register-blocked CPU kernel; see the file comment. With lower set, only
 * C's entries with column <= row are wanted (src/ops/matmul.h). Work-item (x, y, z) =
 * (column panels, row panel, batch entry). B comes packed (element (kk,
 * col0 + j) at B + b_off + b*b_bstride + col0*b_col + kk*b_ks + j with
 * b_col = K, b_ks = MM_RNR) or in place: not transposed (b_in_place = 1,
 * b_col = 1, b_ks = ldb; steps kk >= b_kfast load B safely, see below),
 * or transposed (b_in_place = 2, b_col = ldb, b_ks = 1, b_kfast = 0:
 * every step gathers its columns, for small products where that costs
 * less than a packing launch).
 * A comes packed or straight from the caller's matrix: element
 * (row0 + i, kk) of op(A) is at A + a_off + b*a_bstride + row0*a_row +
 * i*a_rs + kk*a_ks, which describes a packed panel (a_row = K, a_rs = 1,
 * a_ks = MM_RMR), a row-major A (lda, lda, 1) and a transposed A (1, 1,
 * lda). Reading A in place saves packing it, which costs about as much as
 * the multiply when n is small. Rows past M (only in place: panels are
 * padded) re-read row M-1; their results are never stored. Strides of 0
 * reuse one matrix for the whole batch. Panels past the end (from rounding
 * the grid up to the work-group size) return at once.
 * Split k: the z dimension runs over batch entries times `slices`; entry
 * b's slice s sums kk in [s*k_slice, min(K, (s+1)*k_slice)) into its own
 * partial C at c_off + b*c_stride + s*c_sstride (the host launches alpha
 * = 1, beta = 0 there and adds the partials with mm_ksum). slices = 1 is
 * the whole k straight into C, kk from 0 to K in order.
 * With has_bias, column j of entry b's C gets bias[bias_off + (b /
 * bias_per) * bias_bstride + j] added after the product is rounded (the
 * linear layers' bias, one launch fewer and no second pass over C; the
 * host never sets it on a slice of a split k, whose sum adds it). */
__kernel void mm_regs(__global const float *restrict A, uint a_off, uint a_row, uint a_rs, uint a_ks,
                      uint a_bstride, __global const float *restrict B, uint b_off, uint b_col, uint b_ks,
                      uint b_bstride, uint b_in_place, uint b_kfast, __global float *restrict C, uint c_off,
                      uint ldc, uint c_stride, uint M, uint N, uint K, float alpha, float beta, uint npw,
                      uint lower, uint k_slice, uint slices, uint c_sstride, __global const float *restrict bias,
                      uint bias_off, uint bias_bstride, uint bias_per, uint has_bias) {
  uint tm = get_global_id(1), b = get_global_id(2) / slices, s = get_global_id(2) - b * slices;
  uint row0 = tm * MM_RMR;
  /* This work-item's slice of k: [k0, k1). */
  uint k0 = s * k_slice, k1 = min(K, k0 + k_slice);
  if (row0 >= M) return;
  uint rows = min((uint)MM_RMR, M - row0);
  /* npw column panels per work-item, one after the other: the work-item's
   * rows of A are then read from cache after the first panel. */
  for (uint t = 0; t < npw; t++) {
    uint col0 = (get_global_id(0) * npw + t) * MM_RNR;
    /* lower: tiles wholly above the diagonal are not wanted, nor are the
     * ones after them in this row. */
    if (col0 >= N || (lower && col0 > row0 + rows - 1)) return;
    /* In place, the last panel shifts left to end at column N when N >=
     * MM_RNR and stores only its new columns, so no load leaves the matrix.
     * (Its first column is chosen, not computed as col0 minus a clamped
     * difference: LLVM turns "a > b ? a - b : 0" into llvm.usub.sat, which
     * Oclgrind cannot run.) A B narrower than the panel (N < MM_RNR) cannot
     * shift: its one panel reads MM_RNR floats from each row kk, running
     * on into the row's gap and the next rows (lanes past N, never
     * stored); the host sets b_kfast to the rows whose loads end inside
     * the matrix, and the rows after them load column by column. */
    uint bcol0 = b_in_place == 1 && col0 + MM_RNR > N && N >= MM_RNR ? N - MM_RNR : col0;
    uint kfast = min(b_kfast, k1);
    __global const float *a = A + a_off + b * a_bstride + row0 * a_row + k0 * a_ks;
    __global const float *bp = B + b_off + b * b_bstride + bcol0 * b_col + k0 * b_ks;

    /* Unrolled, as in MM_STEP, so that acc lives in registers. */
    MM_VT acc[MM_RMR][MM_RNV];
#pragma unroll
    for (int i = 0; i < MM_RMR; i++)
#pragma unroll
      for (int j = 0; j < MM_RNV; j++) acc[i][j] = (MM_VT)(0.0f);

    if (a_rs == 1 && rows == MM_RMR) {
      /* Packed or transposed A, whole tile: the rows of a step are adjacent,
       * at offsets the compiler knows. */
      for (uint kk = k0; kk < kfast; kk++) MM_STEP(MM_VLOAD(0, bp + j * MM_RVW), a[i]);
    } else {
      /* Row-major A, or the last rows: offsets computed once. */
      uint off[MM_RMR];
#pragma unroll
      for (int i = 0; i < MM_RMR; i++) off[i] = min((uint)i, rows - 1) * a_rs;
      for (uint kk = k0; kk < kfast; kk++) MM_STEP(MM_VLOAD(0, bp + j * MM_RVW), a[off[i]]);
    }
    /* The last rows of a narrow B in place, or every row of a transposed
     * one: column j < N from the row, the lanes past N a copy of column
     * N-1 (never stored). */
    uint blast = N - 1 - bcol0;
    uint off[MM_RMR];
#pragma unroll
    for (int i = 0; i < MM_RMR; i++) off[i] = min((uint)i, rows - 1) * a_rs;
    for (uint kk = max(kfast, k0); kk < k1; kk++) MM_STEP(MM_VCLAMP(bp, j * MM_RVW, blast, b_col), a[off[i]]);

    __global float *c = C + c_off + b * c_stride + s * c_sstride + row0 * ldc + col0;
    __global const float *brow = bias + bias_off + (b / bias_per) * bias_bstride + col0;
    /* The tile's vectors that lie wholly among the columns to store,
     * [col0, N), are stored whole: all of them inside C, and at the right
     * edge those from the first one at or after col0 (in place, the
     * shifted panel's new columns) to the last one that ends by N. The
     * columns left on either side go one by one from a spilled row. */
    uint shift = col0 - bcol0;
    uint vlo = (shift + MM_RVW - 1) / MM_RVW, vhi = min((uint)MM_RNV, (N - bcol0) / MM_RVW);
    if (vhi < vlo) vhi = vlo;
    for (uint i = 0; i < rows && vhi > vlo; i++) {
      __global float *crow = c + i * ldc - shift;
      __global const float *bv = brow - shift;
#pragma unroll
      for (uint j = 0; j < MM_RNV; j++) {
        if (j < vlo || j >= vhi) continue;
        MM_VT v = (MM_VT)(alpha)*acc[i][j];
        if (beta != 0.0f) v = mad((MM_VT)(beta), MM_VLOAD(0, crow + j * MM_RVW), v);
        if (has_bias) v = v + MM_VLOAD(0, bv + j * MM_RVW);
        MM_VSTORE(v, 0, crow + j * MM_RVW);
      }
    }
    /* The rest: tile columns [shift, vlo * MM_RVW) and [vhi * MM_RVW, tend). */
    uint tend = min((uint)MM_RNR, N - bcol0), tail0 = vhi * MM_RVW;
    uint head = min(vlo * MM_RVW, tend) - shift, tail = tend - min(tail0, tend);
    for (uint i = 0; i < rows && head + tail > 0; i++) {
      float vals[MM_RNR];
#pragma unroll
      for (int j = 0; j < MM_RNV; j++) MM_VSTORE(acc[i][j], 0, vals + j * MM_RVW);
      MM_STORE_ROW(c + i * ldc, vals + shift, head, alpha, beta, has_bias, brow);
      MM_STORE_ROW(c + i * ldc + tail0 - shift, vals + tail0, tail, alpha, beta, has_bias, brow + tail0 - shift);
    }
  }
}

/* The second half of a split k (mm_regs with slices > 1): C = alpha *
 * (P_0 + P_1 + ... + P_{S-1}) + beta * C, rows [i0, i0 + rpi) of C per
 * work-item (dim 0 = block of rows, dim 1 = batch entry; a few large
 * blocks, since a CPU runtime pays per work-group), the partials P_s (M x
 * N, rows N apart) of entry b starting at P + p_off + b*p_stride + s*M*N;
 * the bias as in mm_regs.
 * The sum runs in slice order, added into P_0 (a contiguous run of
 * floats per slice, which the compiler vectorises), so an entry's result
 * depends only on its partials: the same whatever the batch or block. */
__kernel void mm_ksum(__global float *restrict P, uint p_off, uint p_stride, uint slices,
                      __global float *restrict C, uint c_off, uint ldc, uint c_stride, uint M, uint N, uint rpi,
                      float alpha, float beta, __global const float *restrict bias, uint bias_off,
                      uint bias_bstride, uint bias_per, uint has_bias) {
  uint i0 = get_global_id(0) * rpi, b = get_global_id(1);
  if (i0 >= M) return;
  uint i1 = min(M, i0 + rpi);
  __global float *p = P + p_off + b * p_stride;
  for (uint s = 1; s < slices; s++) {
    __global const float *q = p + s * M * N;
    for (uint e = i0 * N; e < i1 * N; e++) p[e] += q[e];
  }
  __global const float *brow = bias + bias_off + (b / bias_per) * bias_bstride;
  for (uint i = i0; i < i1; i++)
    MM_STORE_ROW(C + c_off + b * c_stride + i * ldc, p + i * N, N, alpha, beta, has_bias, brow);
}

/* Local-memory tiled GPU kernel; see the file comment. Work-group
 * (MM_TN/MM_WN, MM_TM/MM_WM); group (x, y, z) = (column panel, row panel,
 * batch entry). Panels are MM_TM (A) and MM_TN (B) wide; Kp is a multiple
 * of MM_TK, so tile loads need no bounds checks. */
#define MM_LX (MM_TN / MM_WN)
#define MM_LY (MM_TM / MM_WM)
__kernel __attribute__((reqd_work_group_size(MM_LX, MM_LY, 1))) void
mm_local(__global const float *restrict Ap, uint a_bstride, __global const float *restrict Bp, uint b_off,
         uint b_bstride, __global float *restrict C, uint c_off, uint ldc, uint c_stride, uint M, uint N, uint Kp,
         float alpha, float beta, uint lower) {
  __local float As[MM_TK * MM_TM];
  __local float Bs[MM_TK * MM_TN];
  uint lx = get_local_id(0), ly = get_local_id(1);
  uint tid = ly * MM_LX + lx;
  uint row0 = get_group_id(1) * MM_TM, col0 = get_group_id(0) * MM_TN, b = get_group_id(2);
  /* lower: a tile wholly above the diagonal is not wanted (the whole group
   * returns, before any barrier). */
  if (lower && col0 > row0 + MM_TM - 1) return;
  __global const float *a = Ap + b * a_bstride + row0 * Kp;
  __global const float *bp = Bp + b_off + b * b_bstride + col0 * Kp;

  float acc[MM_WM][MM_WN];
  for (int i = 0; i < MM_WM; i++)
    for (int j = 0; j < MM_WN; j++) acc[i][j] = 0.0f;

  for (uint k0 = 0; k0 < Kp; k0 += MM_TK) {
    /* A tile of a packed panel is MM_TK*MM_TM contiguous floats. */
    for (uint t = tid; t < MM_TK * MM_TM; t += MM_LX * MM_LY) As[t] = a[k0 * MM_TM + t];
    for (uint t = tid; t < MM_TK * MM_TN; t += MM_LX * MM_LY) Bs[t] = bp[k0 * MM_TN + t];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < MM_TK; kk++) {
      float av[MM_WM], bv[MM_WN];
      for (int i = 0; i < MM_WM; i++) av[i] = As[kk * MM_TM + ly + i * MM_LY];
      for (int j = 0; j < MM_WN; j++) bv[j] = Bs[kk * MM_TN + lx + j * MM_LX];
      for (int i = 0; i < MM_WM; i++)
        for (int j = 0; j < MM_WN; j++) acc[i][j] = mad(av[i], bv[j], acc[i][j]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

  for (int i = 0; i < MM_WM; i++) {
    uint r = row0 + ly + i * MM_LY;
    if (r >= M) continue;
    __global float *crow = C + c_off + b * c_stride + r * ldc;
    for (int j = 0; j < MM_WN; j++) {
      uint col = col0 + lx + j * MM_LX;
      if (col >= N) continue;
      float v = alpha * acc[i][j];
      if (beta != 0.0f) v = mad(beta, crow[col], v);
      crow[col] = v;
    }
  }
}

/* C = beta*C over an m x n (x batch) view without reading C when beta == 0;
 * used before CLBlast calls when beta == 0, since CLBlast computes
 * beta*C and would turn NaN in C into NaN in the result. */
__kernel void mm_scale(__global float *C, uint c_off, uint ldc, uint c_stride, uint M, uint N, float beta) {
  uint j = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
  if (i >= M || j >= N) return;
  __global float *c = C + c_off + b * c_stride + i * ldc + j;
  *c = beta == 0.0f ? 0.0f : beta * *c;
}
