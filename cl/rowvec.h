/*
 * cl/rowvec.h - vectors of ROW_VEC floats for the row kernels (softmax,
 * norms, losses, reductions): the type, its loads and stores, and the
 * horizontal max and sum. Included with #include "rowvec.h"; the library's
 * loader inlines it (OpenCL has no include path for sources given as
 * strings), and clang finds it next to the including file.
 */
#ifndef CLSCALE_CL_ROWVEC_H
#define CLSCALE_CL_ROWVEC_H

#ifndef ROW_VEC
#define ROW_VEC 8
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
typedef CAT(float, ROW_VEC) floatv;
#define VLOAD CAT(vload, ROW_VEC)
#define VSTORE CAT(vstore, ROW_VEC)

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

#endif
