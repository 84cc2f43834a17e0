/*
 * cl/rowvec.h - what the row kernels (softmax, norms, losses, reductions)
 * share: vectors of ROW_VEC floats (the type, its loads and stores, the
 * aligned row store, the horizontal max and sum, the exponential) and the
 * work-group reductions (max, sum, sum of float2) of the
 * one-group-per-row kernels. attention.cl's CPU kernels use the vectors
 * too.
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

/* ------------------------------------------------ the exponential */

typedef CAT(int, ROW_VEC) intv;
#if ROW_VEC == 16
#define LANE_IDS ((intv)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#elif ROW_VEC == 8
#define LANE_IDS ((intv)(0, 1, 2, 3, 4, 5, 6, 7))
#elif ROW_VEC == 4
#define LANE_IDS ((intv)(0, 1, 2, 3))
#else
#define LANE_IDS ((intv)(0, 1))
#endif

/* e^z for z in [-86, 88], bitwise what PoCL 3.1's exp() returns there
 * (checked over every float of the range on the 2-core AVX-512 CPU), in
 * fewer operations. That exp is SLEEF's expf: z = q ln2 + s with q the
 * nearest integer to z / ln2 (ln2 in two parts, so that s is exact), e^s
 * from a polynomial, then times 2^q in two multiplications with 2^(q/2)
 * (one alone would leave the float range at the ends) and cases for
 * z < -104 (0) and z > 100 (inf). In [-86, 88] 2^q is a float and e^s *
 * 2^q is a normal float, so adding q to the exponent bits is the same
 * exact scaling, and neither case applies: 7 of its 24 operations go.
 * Shared by softmax.cl and attention.cl.
 * The exponential is half of the softmax's time (measured on that CPU,
 * 65536 x 64, 2026-12-07, load 5-6 from other jobs, interleaved in one
 * process: the packs at 0.55-0.56 of a copy with this against 0.47-0.49
 * with exp(); rows of 256 the same either way). Out of range, and where
 * z is NaN, the callers take exp() (exp_rows), so the result is always
 * exp()'s on PoCL; on other runtimes it is this SLEEF-accurate
 * exponential (1 ulp) in range and theirs outside, the same in every
 * variant-0 softmax kernel here (the work-group variant keeps exp()). */
floatv exp_in_range(floatv z) {
  /* q = z / ln2 rounded to the nearest integer, as SLEEF rounds it (its
   * product first, then to even): adding 1.5 * 2^23 rounds to an integer
   * and leaves q in the low mantissa bits (PoCL's rint() and conversions
   * take several operations each). Two statements: one would contract
   * into an fma, which rounds once. */
  floatv t = z * 0x1.715476p+0f;
  t += 0x1.8p23f;
  floatv qf = t - 0x1.8p23f;
  floatv s = fma(qf, (floatv)(-0x1.62e4p-1f), z);
  s = fma(qf, (floatv)(-0x1.7f7d1cp-20f), s);
  floatv u = fma((floatv)(0x1.a057b4p-13f), s, (floatv)(0x1.6d2d92p-10f));
  u = fma(u, s, (floatv)(0x1.11114cp-7f));
  u = fma(u, s, (floatv)(0x1.5554f4p-5f));
  u = fma(u, s, (floatv)(0x1.555556p-3f));
  u = fma(u, s, (floatv)(0.5f));
  u = 1.0f + fma(u, s * s, s);
  return CAT(as_float, ROW_VEC)(CAT(as_int, ROW_VEC)(u) + (CAT(as_int, ROW_VEC)(t) << 23)); /* u * 2^q */
}

/* -1 in the lanes of z in exp_in_range's range, else 0 (NaN is not). */
intv exp_range_lanes(floatv z) {
  return (z >= -86.0f) & (z <= 88.0f);
}

/* Whether every lane of a exp_range_lanes result is -1, by halving (PoCL
 * 3.1's all() tests the lanes one by one, with a branch each). */
int all_lanes(intv k) {
#if ROW_VEC == 16
  int8 a = k.lo & k.hi;
  int4 b = a.lo & a.hi;
#elif ROW_VEC == 8
  int4 b = k.lo & k.hi;
#elif ROW_VEC == 4
  int4 b = k;
#endif
#if ROW_VEC >= 4
  int2 c = b.lo & b.hi;
#else
  int2 c = k;
#endif
  return (c.x & c.y) == -1;
}

/* e^z of a vector: exp_in_range where it applies, else exp(). */
floatv exp_rows(floatv z) {
  return all_lanes(exp_range_lanes(z)) ? exp_in_range(z) : exp(z);
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
