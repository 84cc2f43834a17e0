/*
 * src/device/peak.c — the device's measured copy bandwidth and FMA peak.
 *
 * Vendor datasheet peaks are unreachable and unknown for CPU devices, so
 * clscale measures its own ceiling with the simplest kernels that reach it
 * (cl/peak.cl) and reports every op as a fraction of that.
 */
#include <stdlib.h>

#include "context_internal.h"
#include "core/clock.h"

/* Median wall time of reps launches of k (after one warm-up), each waited
 * for, so that queueing overhead is included the way an op would see it. */
static cls_status time_kernel(cls_context *ctx, const char *op, cl_kernel k, size_t global, int reps, double flops,
                              double bytes, double *median) {
  double *t = calloc((size_t)reps, sizeof *t);
  if (!t) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_peak_measure: out of host memory");
  cls_status s = CLS_OK;
  for (int r = -1; r < reps && s == CLS_OK; r++) {
    double t0 = cls_now();
    s = cls__launch(ctx, op, k, 1, &global, NULL, flops, bytes);
    if (s == CLS_OK) s = cls_finish(ctx);
    if (r >= 0) t[r] = cls_now() - t0;
  }
  if (s == CLS_OK) {
    *median = cls_median(t, (size_t)reps);
  }
  free(t);
  return s;
}

cls_status cls_peak_copy(cls_context *ctx, size_t count, int reps, double *gbps) {
  CLS_CHECK_CTX(ctx);
  if (!gbps) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_peak_copy: gbps is NULL");
  if (reps < 1) return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "cls_peak_copy: reps is %d; use 1 or more", reps);
  if (count < 4)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_peak_copy: count %zu; copy at least 4 floats", count);
  size_t n = count & ~(size_t)3; /* whole float4s */
  cls_buffer *src = NULL, *dst = NULL;
  cl_kernel copy = NULL;
  cls_status s = cls_buffer_alloc(ctx, n, &src);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, n, &dst);
  if (s == CLS_OK) s = cls_buffer_fill(ctx, src, 0, n, 1.0f);
  if (s == CLS_OK) s = cls__kernel(ctx, "peak", "peak_copy", &copy);
  if (s == CLS_OK) s = cls__arg_mem(ctx, copy, 0, src);
  if (s == CLS_OK) s = cls__arg_mem(ctx, copy, 1, dst);
  if (s == CLS_OK) s = cls__arg_uint(ctx, copy, 2, n / 4);
  double t = 0, bytes = 2.0 * (double)n * sizeof(float);
  if (s == CLS_OK) s = time_kernel(ctx, "peak_copy", copy, n / 4, reps, 0, bytes, &t);
  cls_buffer_free(src);
  cls_buffer_free(dst);
  if (s == CLS_OK) *gbps = bytes / t * 1e-9;
  return s;
}

cls_status cls_peak_measure(cls_context *ctx, int reps, cls_peak *out) {
  CLS_CHECK_CTX(ctx);
  if (!out) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_peak_measure: out is NULL");
  if (reps < 1) return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "cls_peak_measure: reps is %d; use 1 or more", reps);

  /* Bandwidth: 64 MiB each way (or a quarter of the largest buffer). */
  size_t n = (size_t)16 << 20;
  if (ctx->info.max_alloc_bytes && n * sizeof(float) > ctx->info.max_alloc_bytes / 4)
    n = (size_t)(ctx->info.max_alloc_bytes / 4 / sizeof(float));
  cls_status s = cls_peak_copy(ctx, n, reps, &out->copy_gbps);
  if (s != CLS_OK) return s;
  return cls_peak_fma(ctx, reps, &out->fma_gflops);
}

cls_status cls_peak_fma(cls_context *ctx, int reps, double *gflops) {
  CLS_CHECK_CTX(ctx);
  if (!gflops) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_peak_fma: gflops is NULL");
  if (reps < 1) return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "cls_peak_fma: reps is %d; use 1 or more", reps);
  cl_kernel fma = NULL;
  double t_fma = 0;

  /* Arithmetic: enough work-items to fill every unit many times over, and
   * enough iterations that launch overhead is negligible. */
  size_t items = 256 * (size_t)(ctx->info.compute_units ? ctx->info.compute_units : 1);
  if (items < 8192) items = 8192;
  const unsigned iterations = 2048;
  cls_buffer *sink = NULL;
  cls_status s = cls_buffer_alloc(ctx, items, &sink);
  if (s == CLS_OK) s = cls__kernel(ctx, "peak", "peak_fma", &fma);
  if (s == CLS_OK) s = cls__arg_mem(ctx, fma, 0, sink);
  if (s == CLS_OK) s = cls__arg_uint(ctx, fma, 1, iterations);
  /* a < 1 keeps the chains finite: x -> a x + b converges to b / (1 - a). */
  if (s == CLS_OK) s = cls__arg_float(ctx, fma, 2, 0.999f);
  if (s == CLS_OK) s = cls__arg_float(ctx, fma, 3, 0.001f);
  double flops = (double)items * iterations * 16.0 * (double)cls__param(ctx, "PEAK_VW", 4);
  if (s == CLS_OK) s = time_kernel(ctx, "peak_fma", fma, items, reps, flops, items * 4.0, &t_fma);
  cls_buffer_free(sink);
  if (s != CLS_OK) return s;
  *gflops = flops / t_fma * 1e-9;
  return CLS_OK;
}
