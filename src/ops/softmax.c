/*
 * src/ops/softmax.c — softmax over rows, forward and backward
 * (kernels in cl/softmax.cl).
 *
 * Errors, all checked before anything is enqueued:
 *   CLS_ERR_NULL_ARGUMENT    ctx, x/y (forward) or y/dy/dx (backward) NULL
 *   CLS_ERR_INVALID_SIZE     rows or cols 0; the matrix or an offset beyond
 *                            the kernels' 32-bit indexing
 *   CLS_ERR_WRONG_CONTEXT    an operand's buffer belongs to another context
 *   CLS_ERR_BUFFER_TOO_SMALL an operand's buffer cannot hold rows x cols at
 *                            its offset
 *   CLS_ERR_INVALID_VALUE    scale NaN or infinite; causal not 0 or 1; an
 *                            output partly overlapping another operand (only
 *                            the exact aliases documented in ops.h are safe)
 *   CLS_ERR_SHAPE_MISMATCH   causal with rows not a multiple of cols
 */
#include <math.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "ops/rows.h"

cls_status cls_softmax_forward(cls_context *ctx, size_t rows, size_t cols, float scale, int causal, cls_ref x,
                               cls_ref y) {
  static const char fn[] = "cls_softmax_forward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__rows_check(ctx, fn, "x", x, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "y", y, rows, cols)) != CLS_OK) return s;
  if (!isfinite(scale))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: scale is %g; pass a finite number (1 for plain softmax)", fn,
                     (double)scale);
  if (causal != 0 && causal != 1)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: causal is %d; pass 0 or 1", fn, causal);
  if (causal && rows % cols != 0)
    return cls__fail(
        ctx, CLS_ERR_SHAPE_MISMATCH,
        "%s: causal masking needs rows in blocks of cols, but rows = %zu is not a multiple of cols = %zu", fn,
        rows, cols);
  if ((s = cls__check_alias(ctx, fn, "y", y, rows * cols, "x", x, rows * cols, 1)) != CLS_OK) return s;

  int variant = cls__rows_variant(ctx);
  /* Variant 0 runs rows of 1 to 4 whole vectors ROW_PACK per work-item in
   * registers (softmax_fwd_packNV_C, one kernel per vector count and mask,
   * cl/softmax.cl: bitwise the results of a row per work-item), other
   * short non-causal rows two per work-item in lockstep (mode 1; ROW_PAIR
   * is the longest such row), the rest one per item. */
  int mode = 0;
  size_t items = rows;
  size_t pack = cls__rows_pack(ctx, variant, cols);
  char name[32];
  cls__rows_fwd_kernel(ctx, "softmax", variant, cols, causal, name, sizeof name);
  if (pack > 0) {
    items = (rows + pack - 1) / pack;
  } else if (variant == 0 && !causal && (long)cols <= cls__param(ctx, "ROW_PAIR", 0)) {
    mode = 1;
    items = (rows + 1) / 2;
  }
  cl_kernel k;
  if ((s = cls__kernel(ctx, "softmax", name, &k)) != CLS_OK) return s;
  size_t global, local;
  if ((s = cls__rows_geometry(ctx, k, variant, items, cols, &global, &local)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, x.buf)) || (s = cls__arg_uint(ctx, k, a++, x.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, rows)) || (s = cls__arg_uint(ctx, k, a++, cols)) ||
      (s = cls__arg_float(ctx, k, a++, scale)) || (s = cls__arg_int(ctx, k, a++, causal)) ||
      (variant == 0 && (s = cls__arg_int(ctx, k, a++, mode))))
    return s;

  /* Only the unmasked entries cost arithmetic: per entry a scale, a max, a
   * subtraction, an exponential (counted as one), a sum and a multiply. */
  double n = (double)rows * (double)cols;
  double active = causal ? (double)(rows / cols) * (double)cols * ((double)cols + 1) / 2 : n;
  return cls__launch(ctx, "softmax_fwd", k, 1, &global, &local, 6.0 * active, 2.0 * n * sizeof(float));
}

cls_status cls_softmax_backward(cls_context *ctx, size_t rows, size_t cols, float scale, cls_ref y, cls_ref dy,
                                cls_ref dx) {
  static const char fn[] = "cls_softmax_backward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__rows_check(ctx, fn, "y", y, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "dy", dy, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "dx", dx, rows, cols)) != CLS_OK) return s;
  if (!isfinite(scale))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: scale is %g; pass the forward pass's finite scale", fn,
                     (double)scale);
  if ((s = cls__check_alias(ctx, fn, "dx", dx, rows * cols, "dy", dy, rows * cols, 1)) != CLS_OK) return s;
  if ((s = cls__check_alias(ctx, fn, "dx", dx, rows * cols, "y", y, rows * cols, 1)) != CLS_OK) return s;

  int variant = cls__rows_variant(ctx);
  cl_kernel k;
  if ((s = cls__kernel(ctx, "softmax", variant ? "softmax_bwd_wg" : "softmax_bwd_row", &k)) != CLS_OK) return s;
  size_t global, local;
  if ((s = cls__rows_geometry(ctx, k, variant, rows, cols, &global, &local)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, dy.buf)) || (s = cls__arg_uint(ctx, k, a++, dy.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, dx.buf)) || (s = cls__arg_uint(ctx, k, a++, dx.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, rows)) || (s = cls__arg_uint(ctx, k, a++, cols)) ||
      (s = cls__arg_float(ctx, k, a++, scale)))
    return s;

  /* Per entry: y*dy summed (2), dy - s, times y, times scale (3). */
  double n = (double)rows * (double)cols;
  return cls__launch(ctx, "softmax_bwd", k, 1, &global, &local, 5.0 * n, 3.0 * n * sizeof(float));
}
