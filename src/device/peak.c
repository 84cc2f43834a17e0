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

/* One copy kernel's bandwidth over n floats each way: global work-items,
 * argument 2 = units (of the kernel's vector type), argument 3 = per_item
 * when nonzero. */
static cls_status copy_variant(cls_context *ctx, const char *kernel, cls_buffer *src, cls_buffer *dst, size_t n,
                               size_t units, size_t global, unsigned per_item, int reps, double *gbps) {
  cl_kernel k = NULL;
  cls_status s = cls__kernel(ctx, "peak", kernel, &k);
  if (s == CLS_OK) s = cls__arg_mem(ctx, k, 0, src);
  if (s == CLS_OK) s = cls__arg_mem(ctx, k, 1, dst);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, 2, (unsigned)units);
  if (s == CLS_OK && per_item) s = cls__arg_uint(ctx, k, 3, per_item);
  double t = 0, bytes = 2.0 * (double)n * sizeof(float);
  if (s == CLS_OK) s = time_kernel(ctx, "peak_copy", k, global, reps, 0, bytes, &t);
  if (s == CLS_OK) *gbps = bytes / t * 1e-9;
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
  cls_status s = cls_buffer_alloc(ctx, n, &src);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, n, &dst);
  if (s == CLS_OK) s = cls_buffer_fill(ctx, src, 0, n, 1.0f);
  double best = 0;
  if (s == CLS_OK) s = copy_variant(ctx, "peak_copy", src, dst, n, n / 4, n / 4, 0, reps, &best);
  /* CPU devices also get the copy in a few contiguous runs (cl/peak.cl
   * says why) and keep the faster: 4 runs per compute unit balance the
   * threads without a task per float4. GPUs keep one float4 per work-item,
   * the pattern their memory system is built for; a few long runs would
   * only waste their time. */
  size_t n16 = n / 16;
  if (s == CLS_OK && ctx->info.type == CLS_DEVICE_CPU && n16 > 0) {
    size_t items = 4 * (size_t)(ctx->info.compute_units ? ctx->info.compute_units : 1);
    if (items > n16) items = n16;
    size_t per = (n16 + items - 1) / items;
    double runs = 0;
    s = copy_variant(ctx, "peak_copy_runs", src, dst, n16 * 16, n16, (n16 + per - 1) / per, (unsigned)per, reps,
                     &runs);
    if (s == CLS_OK && runs > best) best = runs;
  }
  cls_buffer_free(src);
  cls_buffer_free(dst);
  if (s == CLS_OK) *gbps = best;
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
