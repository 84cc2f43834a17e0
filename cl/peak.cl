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

/* Arithmetic peak: long chains of independent multiply-adds on float4
 * values held in registers, 8 chains per work-item so that FMA latency is
 * hidden on CPUs and GPUs alike. Each iteration is 8 * 4 FMAs = 64 FLOPs.
 * The result is stored so the compiler cannot drop the work. */
__kernel void peak_fma(__global float *out, uint iterations, float a, float b) {
  float4 x0 = (float4)(get_global_id(0) * 1e-7f);
  float4 x1 = x0 + 0.1f, x2 = x0 + 0.2f, x3 = x0 + 0.3f;
  float4 x4 = x0 + 0.4f, x5 = x0 + 0.5f, x6 = x0 + 0.6f, x7 = x0 + 0.7f;
  for (uint i = 0; i < iterations; i++) {
    x0 = mad(x0, (float4)a, (float4)b);
    x1 = mad(x1, (float4)a, (float4)b);
    x2 = mad(x2, (float4)a, (float4)b);
    x3 = mad(x3, (float4)a, (float4)b);
    x4 = mad(x4, (float4)a, (float4)b);
    x5 = mad(x5, (float4)a, (float4)b);
    x6 = mad(x6, (float4)a, (float4)b);
    x7 = mad(x7, (float4)a, (float4)b);
  }
  float4 s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
  out[get_global_id(0)] = s.x + s.y + s.z + s.w;
}
