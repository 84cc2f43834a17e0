/*
 * src/ops/reduce.c — deterministic two-pass sums and sums of squares
 * (kernels in cl/reduce.cl): cls_reduce over one range and
 * cls_sumsq_ranges over many (the global gradient norm).
 *
 * Errors: as listed at the top of include/clscale/ops_train.h, all checked
 * before anything is enqueued; also CLS_ERR_INVALID_VALUE for an unknown
 * kind, and CLS_ERR_NULL_ARGUMENT for NULL ranges/lengths arrays.
 */
#include <stdint.h>
#include <stdio.h>

#include "ops/ops_state.h"
#include "ops/train_ref.h"

/* The work-group size of both passes: the largest power of two within
 * RED_WG (the kernels' local arrays) and the kernels' own limit. */
static cls_status group_size(cls_context *ctx, cl_kernel kp, cl_kernel kf, size_t *out) {
  size_t a, b;
  cls_status s;
  if ((s = cls__kernel_max_group(ctx, kp, &a)) || (s = cls__kernel_max_group(ctx, kf, &b))) return s;
  long want = cls__param(ctx, "RED_WG", 64);
  size_t cap = want < 1 ? 1 : (size_t)want;
  if (cap > a) cap = a;
  if (cap > b) cap = b;
  size_t l = 1;
  while (l * 2 <= cap) l *= 2;
  *out = l;
  return CLS_OK;
}

/* Both passes' kernels and their work-group size: cls_reduce's and
 * cls_reduce_models' set-up, so a model cuts its chunks the same in both. */
static cls_status reduce_kernels(cls_context *ctx, cl_kernel *kp, cl_kernel *kf, size_t *lsz) {
  cls_status s;
  if ((s = cls__kernel(ctx, "reduce", "reduce_part", kp)) || (s = cls__kernel(ctx, "reduce", "reduce_finish", kf)))
    return s;
  return group_size(ctx, *kp, *kf, lsz);
}

/* Floats per work-item of the first pass: RED_ITEMS vectors of ROW_VEC
 * (the kernel's #ifndef defaults are the same 64 and 8). */
static size_t chunk_items(const cls_context *ctx) {
  long v = cls__param(ctx, "RED_ITEMS", 64), w = cls__param(ctx, "ROW_VEC", 8);
  return (size_t)(v < 1 ? 1 : v) * (size_t)(w < 1 ? 1 : w);
}

/* The shared body: out[0] = scale * sum over all ranges of x (or x^2). */
static cls_status reduce_ranges(cls_context *ctx, const char *fn, const char *op, int sq, size_t count,
                                const cls_ref *ranges, const size_t *lengths, float scale, cls_ref out) {
  cls_status s;
  if ((s = cls__train_check(ctx, fn, "out", out, 1)) || (s = cls__train_check_finite(ctx, fn, "scale", scale)))
    return s;
  char name[48];
  for (size_t i = 0; i < count; i++) {
    if (count == 1)
      snprintf(name, sizeof name, "x");
    else
      snprintf(name, sizeof name, "ranges[%zu]", i);
    if ((s = cls__train_check(ctx, fn, name, ranges[i], lengths[i])) ||
        (s = cls__check_alias(ctx, fn, "out", out, 1, name, ranges[i], lengths[i], 0)))
      return s;
  }

  cl_kernel kp, kf;
  size_t lsz;
  if ((s = reduce_kernels(ctx, &kp, &kf, &lsz)) != CLS_OK) return s;
  size_t chunk = lsz * chunk_items(ctx);
  size_t parts = 0;
  for (size_t i = 0; i < count; i++) {
    parts += (lengths[i] + chunk - 1) / chunk;
  }
  if (parts > UINT32_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu partial sums exceed 32-bit indexing; pass fewer ranges",
                     fn, parts);
  cls_buffer *scratch = NULL;
  if ((s = cls__ops_temp(ctx, 0, parts, &scratch)) != CLS_OK) return s; /* it has said why */

  size_t po = 0;
  for (size_t i = 0; i < count && s == CLS_OK; i++) {
    size_t groups = (lengths[i] + chunk - 1) / chunk;
    cl_uint a = 0;
    if ((s = cls__arg_mem(ctx, kp, a++, ranges[i].buf)) || (s = cls__arg_uint(ctx, kp, a++, ranges[i].offset)) ||
        (s = cls__arg_uint(ctx, kp, a++, lengths[i])) || (s = cls__arg_int(ctx, kp, a++, sq)) ||
        (s = cls__arg_mem(ctx, kp, a++, scratch)) || (s = cls__arg_uint(ctx, kp, a++, po)) ||
        (s = cls__arg_uint(ctx, kp, a++, groups)) || (s = cls__arg_uint(ctx, kp, a++, 0)))
      break;
    size_t global = groups * lsz;
    double n = (double)lengths[i];
    s = cls__launch(ctx, op, kp, 1, &global, &lsz, (sq ? 2.0 : 1.0) * n, (n + (double)groups) * sizeof(float));
    po += groups;
  }
  if (s == CLS_OK) {
    cl_uint a = 0;
    if (!(s = cls__arg_mem(ctx, kf, a++, scratch)) && !(s = cls__arg_uint(ctx, kf, a++, parts)) &&
        !(s = cls__arg_mem(ctx, kf, a++, out.buf)) && !(s = cls__arg_uint(ctx, kf, a++, out.offset)) &&
        !(s = cls__arg_float(ctx, kf, a++, scale)))
      s = cls__launch(ctx, op, kf, 1, &lsz, &lsz, (double)parts + 1, ((double)parts + 1) * sizeof(float));
  }
  return s;
}

cls_status cls_reduce(cls_context *ctx, cls_reduce_kind kind, size_t n, cls_ref x, float scale, cls_ref out) {
  static const char fn[] = "cls_reduce";
  CLS_CHECK_CTX(ctx);
  if (kind != CLS_REDUCE_SUM && kind != CLS_REDUCE_SUMSQ)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: kind is %d; pass CLS_REDUCE_SUM or CLS_REDUCE_SUMSQ", fn,
                     (int)kind);
  cls_status s = cls__train_check_size(ctx, fn, "n", n);
  if (s != CLS_OK) return s;
  int sq = kind == CLS_REDUCE_SUMSQ;
  return reduce_ranges(ctx, fn, sq ? "reduce_sumsq" : "reduce_sum", sq, 1, &x, &n, scale, out);
}

cls_status cls_sumsq_ranges(cls_context *ctx, size_t count, const cls_ref *ranges, const size_t *lengths,
                            cls_ref out) {
  static const char fn[] = "cls_sumsq_ranges";
  CLS_CHECK_CTX(ctx);
  if (!ranges || !lengths)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL; pass arrays of count entries", fn,
                     ranges ? "lengths" : "ranges");
  cls_status s = cls__train_check_size(ctx, fn, "count", count);
  if (s != CLS_OK) return s;
  for (size_t i = 0; i < count; i++)
    if (lengths[i] == 0)
      return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: lengths[%zu] is 0; leave empty ranges out", fn, i);
  return reduce_ranges(ctx, fn, "sumsq_ranges", 1, count, ranges, lengths, 1.0f, out);
}

cls_status cls_reduce_models(cls_context *ctx, cls_reduce_kind kind, size_t models, size_t n, cls_ref x,
                             size_t x_stride, float scale, cls_ref out) {
  static const char fn[] = "cls_reduce_models";
  CLS_CHECK_CTX(ctx);
  if (models == 1) return cls_reduce(ctx, kind, n, x, scale, out);
  if (kind != CLS_REDUCE_SUM && kind != CLS_REDUCE_SUMSQ)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: kind is %d; pass CLS_REDUCE_SUM or CLS_REDUCE_SUMSQ", fn,
                     (int)kind);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "models", models)) || (s = cls__train_check_size(ctx, fn, "n", n)) ||
      (s = cls__train_check_finite(ctx, fn, "scale", scale)))
    return s;
  if (x_stride < n)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: x stride %zu is below n %zu: the models' ranges overlap", fn,
                     x_stride, n);
  if ((double)(models - 1) * (double)x_stride + (double)n > (double)UINT32_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models of %zu floats %zu apart exceed 32-bit indexing",
                     fn, models, n, x_stride);
  const size_t nx = (models - 1) * x_stride + n;
  if ((s = cls__train_check(ctx, fn, "x", x, nx)) || (s = cls__train_check(ctx, fn, "out", out, models)) ||
      (s = cls__check_alias(ctx, fn, "out", out, models, "x", x, nx, 0)))
    return s;
  cl_kernel kp, kf;
  size_t lsz;
  if ((s = reduce_kernels(ctx, &kp, &kf, &lsz)) != CLS_OK) return s;
  /* Each model's chunks as cls_reduce cuts them, its partial sums in a run
   * of their own, added by a work-group of its own. */
  const size_t chunk = lsz * chunk_items(ctx), gpm = (n + chunk - 1) / chunk, parts = models * gpm;
  if (parts > UINT32_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu partial sums exceed 32-bit indexing", fn, parts);
  cls_buffer *scratch = NULL;
  if ((s = cls__ops_temp(ctx, 0, parts, &scratch)) != CLS_OK) return s;
  const int sq = kind == CLS_REDUCE_SUMSQ;
  const char *op = sq ? "reduce_sumsq" : "reduce_sum";
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kp, a++, x.buf)) || (s = cls__arg_uint(ctx, kp, a++, x.offset)) ||
      (s = cls__arg_uint(ctx, kp, a++, n)) || (s = cls__arg_int(ctx, kp, a++, sq)) ||
      (s = cls__arg_mem(ctx, kp, a++, scratch)) || (s = cls__arg_uint(ctx, kp, a++, 0)) ||
      (s = cls__arg_uint(ctx, kp, a++, gpm)) || (s = cls__arg_uint(ctx, kp, a++, x_stride)))
    return s;
  const double all = (double)models * (double)n;
  size_t global = parts * lsz;
  if ((s = cls__launch(ctx, op, kp, 1, &global, &lsz, (sq ? 2.0 : 1.0) * all,
                       (all + (double)parts) * sizeof(float))))
    return s;
  a = 0;
  if ((s = cls__arg_mem(ctx, kf, a++, scratch)) || (s = cls__arg_uint(ctx, kf, a++, gpm)) ||
      (s = cls__arg_mem(ctx, kf, a++, out.buf)) || (s = cls__arg_uint(ctx, kf, a++, out.offset)) ||
      (s = cls__arg_float(ctx, kf, a++, scale)))
    return s;
  size_t fglobal = models * lsz;
  return cls__launch(ctx, op, kf, 1, &fglobal, &lsz, (double)parts + (double)models,
                     ((double)parts + (double)models) * sizeof(float));
}
