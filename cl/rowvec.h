/*
 * cl/rowvec.h - what the row kernels (softmax, norms, losses, reductions)
 * share: vectors of ROW_VEC floats (the type, its loads and stores, the
 * aligned row store, the horizontal max and sum) and the work-group
 * reductions (max, sum, sum of float2) of the one-group-per-row kernels.
 * Included with #include "rowvec.h"; the library's loader inlines it
 * (OpenCL has no include path for sources given as strings), and clang
 * finds it next to the including file.
 */
#ifndef CLSCALE_CL_ROWVEC_H
#define CLSCALE_CL_ROWVEC_H

#ifndef ROW_VEC
#define ROW_VEC 8
#endif

#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)
typedef CAT(float, ROW_VEC) floatv;
#define VLOAD  CAT(vload, ROW_VEC)
#define VSTORE CAT(vstore, ROW_VEC)

/* Row stores go through an aligned vector pointer pa when the row start
 * allows (al): vstoreN only knows 4-byte alignment, and CPU compilers split
 * it into several narrower stores. al is the same for the whole row. */
#define STORE_V(v, j, al, pa, p)                                                                                  \
  do {                                                                                                            \
    if (al)                                                                                                       \
      (pa)[(j) / ROW_VEC] = (v);                                                                                  \
    else                                                                                                          \
      VSTORE((v), 0, (p) + (j));                                                                                  \
  } while (0)

/* Horizontal max and sum of a vector, by halving (ROW_VEC is 2, 4, 8 or 16):
 * a fixed order, so results are reproducible. */
float hmax(floatv v) {
#if ROW_VEC == 16
  float8 a = fmax(v.lo, v.hi);
  float4 b = fmax(a.lo, a.hi);
#elif ROW_VEC == 8
  float4 b = fmax(v.lo, v.hi);
#elif ROW_VEC == 4
  float4 b = v;
#endif
#if ROW_VEC >= 4
  float2 c = fmax(b.lo, b.hi);
#else
  float2 c = v;
#endif
  return fmax(c.x, c.y);
}

float hsum(floatv v) {
#if ROW_VEC == 16
  float8 a = v.lo + v.hi;
  float4 b = a.lo + a.hi;
#elif ROW_VEC == 8
  float4 b = v.lo + v.hi;
#elif ROW_VEC == 4
  float4 b = v;
#endif
#if ROW_VEC >= 4
  float2 c = b.lo + b.hi;
#else
  float2 c = v;
#endif
  return c.x + c.y;
}

/* ------------------------------------------------ work-group reductions */

/* Tree reductions over the items of the work-group (its size a power of
 * two, at most the length of red), the result returned to every item. The
 * halving order is fixed, so results are bitwise reproducible. Every item
 * must call them, in uniform control flow: they hold barriers. The last
 * barrier lets the caller reuse red at once. The barriers order local
 * memory only (CLK_LOCAL_MEM_FENCE). One macro writes all three, so they
 * cannot drift: the same tree and barriers, only the type and how two
 * partials combine (fmax, or one addition as `+=` did). */
#define WG_REDUCE(name, T, COMBINE)                                                                               \
  T name(T v, __local T *red) {                                                                                   \
    uint l = get_local_id(0);                                                                                     \
    red[l] = v;                                                                                                   \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                                 \
    for (uint h = get_local_size(0) / 2; h > 0; h >>= 1) {                                                        \
      if (l < h) red[l] = COMBINE(red[l], red[l + h]);                                                            \
      barrier(CLK_LOCAL_MEM_FENCE);                                                                               \
    }                                                                                                             \
    T out = red[0];                                                                                               \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                                 \
    return out;                                                                                                   \
  }
#define WG_ADD(a, b) ((a) + (b))

WG_REDUCE(wg_max, float, fmax)
WG_REDUCE(wg_sum, float, WG_ADD)
/* Two sums in one tree (half the barriers of two wg_sum calls). */
WG_REDUCE(wg_sum2, float2, WG_ADD)

#undef WG_ADD
#undef WG_REDUCE

#endif
