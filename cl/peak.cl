/*
 * cl/peak.cl - what the device can do at best, for `clscale bench` to
 * report every op as a fraction of it.
 */

/* Global-memory bandwidth: read and write n floats, as float4 where the
 * size allows. A plain copy is what drivers and STREAM call bandwidth. */
__kernel void peak_copy(__global const float4 *restrict src, __global float4 *restrict dst, uint n4) {
  uint i = get_global_id(0);
  if (i < n4) dst[i] = src[i];
}

/* The same copy as a few long contiguous runs of float16, one per
 * work-item. CPU runtimes differ in which shape they copy fastest: PoCL
 * reaches the same bandwidth with either, while Intel's CPU runtime, which
 * vectorises across work-items, turns one float4 per work-item into
 * strided accesses and pays a task per work-group: measured 10 against
 * 16-18 GB/s on 64 MiB, and 9 against 30 GB/s on 64 KiB (2026-12-06,
 * docs/portability.md). The peak is the better of the two, so that it is
 * the device's ceiling and not one runtime's weakness. */
__kernel void peak_copy_runs(__global const float16 *restrict src, __global float16 *restrict dst, uint n16,
                             uint per_item) {
  uint begin = get_global_id(0) * per_item;
  uint end = min(begin + per_item, n16);
  for (uint i = begin; i < end; i++) dst[i] = src[i];
}

/* Arithmetic peak: 8 independent chains of multiply-adds on vectors of
 * PEAK_VW floats held in registers, so that FMA latency is hidden. CPU
 * devices need the full SIMD width in one work-item (PoCL does not widen
 * float4 chains to AVX-512 itself: float16 measures 3x float4 there); GPUs
 * want narrow vectors. fma(), not mad(): PoCL lowers mad() to a multiply
 * and an add, which halves the measured peak. Each iteration is
 * 8 * PEAK_VW FMAs = 16 * PEAK_VW FLOPs. The result is stored so the
 * compiler cannot drop the work. */
#ifndef PEAK_VW
#define PEAK_VW 4
#endif
#define VCAT(a, b) a##b
#define VTYPE(n) VCAT(float, n)
typedef VTYPE(PEAK_VW) peak_vec;

__kernel void peak_fma(__global float *out, uint iterations, float a, float b) {
  peak_vec x0 = (peak_vec)(get_global_id(0) * 1e-7f);
  peak_vec x1 = x0 + 0.1f, x2 = x0 + 0.2f, x3 = x0 + 0.3f;
  peak_vec x4 = x0 + 0.4f, x5 = x0 + 0.5f, x6 = x0 + 0.6f, x7 = x0 + 0.7f;
  peak_vec va = (peak_vec)(a), vb = (peak_vec)(b);
  for (uint i = 0; i < iterations; i++) {
    x0 = fma(x0, va, vb);
    x1 = fma(x1, va, vb);
    x2 = fma(x2, va, vb);
    x3 = fma(x3, va, vb);
    x4 = fma(x4, va, vb);
    x5 = fma(x5, va, vb);
    x6 = fma(x6, va, vb);
    x7 = fma(x7, va, vb);
  }
  peak_vec s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
  /* Sum the lanes through a union-free path valid for any width. */
  float acc = 0.0f;
  __private float *lanes = (__private float *)&s;
  for (int j = 0; j < PEAK_VW; j++) acc += lanes[j];
  out[get_global_id(0)] = acc;
}
