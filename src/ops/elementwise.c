/*
 * src/ops/elementwise.c — GELU, residual add and scale, bias add and bias
 * gradient (kernels in cl/elementwise.cl), and the argument checks all the
 * training ops share (declared in train_ref.h).
 *
 * Errors: as listed at the top of include/clscale/ops_train.h, all checked
 * before anything is enqueued.
 */
#include <math.h>
#include <stdint.h>

#include "launch_internal.h"
#include "ops/ops_state.h"
#include "ops/train_ref.h"

/* ------------------------------------------------- shared argument checks */

#define TRAIN_MAX_N ((size_t)2147483647) /* the kernels' 32-bit index arithmetic */

cls_status cls__train_check_size(cls_context *ctx, const char *fn, const char *arg, size_t n) {
  if (n == 0) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s is 0; pass at least 1", fn, arg);
  if (n > TRAIN_MAX_N)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s is %zu; the limit is 2^31-1 (split the work)", fn, arg, n);
  return CLS_OK;
}

cls_status cls__train_check(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t n) {
  if (!r.buf) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", fn, arg);
  if (n == 0 || n > TRAIN_MAX_N)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s would hold %zu floats; it must be 1 .. 2^31-1", fn, arg,
                     n);
  cls_status s = cls__check_ref(ctx, fn, arg, r, n);
  if (s != CLS_OK) return s;
  if (r.offset > UINT32_MAX - n)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: %s ends beyond float 2^32 of its buffer; use a smaller offset", fn, arg);
  return CLS_OK;
}

cls_status cls__train_check_finite(cls_context *ctx, const char *fn, const char *arg, float v) {
  if (!isfinite(v))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: %s is %g; pass a finite number", fn, arg, (double)v);
  return CLS_OK;
}

cls_status cls__train_check_flag(cls_context *ctx, const char *fn, const char *arg, int v) {
  if (v != 0 && v != 1)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: %s is %d; pass 0 (overwrite) or 1 (add)", fn, arg, v);
  return CLS_OK;
}

/* ------------------------------------------------------------ launches */

cls_status cls__launch_map(cls_context *ctx, const char *op, cl_kernel k, size_t items, double flops,
                           double bytes) {
  size_t kmax, local;
  cls_status s = cls__kernel_max_group(ctx, k, &kmax);
  if (s != CLS_OK) return s;
  long want = cls__param(ctx, "ELT_LOCAL", 256);
  local = want < 1 ? 1 : (size_t)want;
  if (local > kmax) local = kmax;
  size_t global = cls__round_up(items, local);
  return cls__launch(ctx, op, k, 1, &global, &local, flops, bytes);
}

/* A rows x cols launch with items along columns: groups of `param` (a
 * device parameter, else fallback) column items of one row, cut to the
 * row's items when `fit`. Without `fit` every width gets the same group
 * size (the kernels bounds-check the extra items): PoCL compiles a kernel
 * once per group size at its first launch, 0.1-0.15 s each, and a GPT's
 * bias gradients ran with 8 and 16 (issue 13). bias_add fits: its groups
 * (ELT_LOCAL, 256) would mostly idle on narrow rows. */
static cls_status launch_cols(cls_context *ctx, const char *op, cl_kernel k, const char *param, long fallback,
                              int fit, size_t col_items, size_t rows, double flops, double bytes) {
  size_t kmax;
  cls_status s = cls__kernel_max_group(ctx, k, &kmax);
  if (s != CLS_OK) return s;
  long want = cls__param(ctx, param, fallback);
  size_t l = want < 1 ? 1 : (size_t)want;
  if (l > kmax) l = kmax;
  if (fit && l > col_items) l = col_items;
  size_t global[2] = {cls__round_up(col_items, l), rows};
  size_t local[2] = {l, 1};
  return cls__launch(ctx, op, k, 2, global, local, flops, bytes);
}

/* Work-items of the GELU kernels: each takes ELT_VEC floats as one vector
 * (the kernel's #ifndef default is the same 16: on PoCL it is 1.4x faster
 * than 8; GPUs want 4 or 1 from the device table). */
static size_t gelu_items(const cls_context *ctx, size_t n) {
  long v = cls__param(ctx, "ELT_VEC", 16);
  size_t w = v < 1 ? 1 : (size_t)v;
  return (n + w - 1) / w;
}

cls_status cls_gelu_forward(cls_context *ctx, size_t n, cls_ref x, cls_ref y) {
  static const char fn[] = "cls_gelu_forward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n)) || (s = cls__train_check(ctx, fn, "x", x, n)) ||
      (s = cls__train_check(ctx, fn, "y", y, n)) || (s = cls__check_alias(ctx, fn, "y", y, n, "x", x, n, 1)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "gelu_fwd", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, x.buf)) || (s = cls__arg_uint(ctx, k, a++, x.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, n)))
    return s;
  /* Per element: the cubic polynomial (4), tanh (counted as one), 3 more. */
  return cls__launch_map(ctx, "gelu_fwd", k, gelu_items(ctx, n), 8.0 * (double)n, 2.0 * (double)n * sizeof(float));
}

cls_status cls_gelu_backward(cls_context *ctx, size_t n, cls_ref x, cls_ref dy, cls_ref dx) {
  static const char fn[] = "cls_gelu_backward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n)) || (s = cls__train_check(ctx, fn, "x", x, n)) ||
      (s = cls__train_check(ctx, fn, "dy", dy, n)) || (s = cls__train_check(ctx, fn, "dx", dx, n)) ||
      (s = cls__check_alias(ctx, fn, "dx", dx, n, "dy", dy, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dx", dx, n, "x", x, n, 1)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "gelu_bwd", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, x.buf)) || (s = cls__arg_uint(ctx, k, a++, x.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, dy.buf)) || (s = cls__arg_uint(ctx, k, a++, dy.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, dx.buf)) || (s = cls__arg_uint(ctx, k, a++, dx.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, n)))
    return s;
  return cls__launch_map(ctx, "gelu_bwd", k, gelu_items(ctx, n), 16.0 * (double)n,
                         3.0 * (double)n * sizeof(float));
}

/* -------------------------------------------------- residual add, scale */

cls_status cls_add_scaled(cls_context *ctx, size_t n, float alpha, cls_ref a, float beta, cls_ref b, cls_ref y) {
  static const char fn[] = "cls_add_scaled";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n)) || (s = cls__train_check(ctx, fn, "a", a, n)) ||
      (s = cls__train_check(ctx, fn, "b", b, n)) || (s = cls__train_check(ctx, fn, "y", y, n)) ||
      (s = cls__train_check_finite(ctx, fn, "alpha", alpha)) ||
      (s = cls__train_check_finite(ctx, fn, "beta", beta)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "a", a, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "b", b, n, 1)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "add_scaled", &k)) != CLS_OK) return s;
  cl_uint i = 0;
  if ((s = cls__arg_mem(ctx, k, i++, a.buf)) || (s = cls__arg_uint(ctx, k, i++, a.offset)) ||
      (s = cls__arg_float(ctx, k, i++, alpha)) || (s = cls__arg_mem(ctx, k, i++, b.buf)) ||
      (s = cls__arg_uint(ctx, k, i++, b.offset)) || (s = cls__arg_float(ctx, k, i++, beta)) ||
      (s = cls__arg_mem(ctx, k, i++, y.buf)) || (s = cls__arg_uint(ctx, k, i++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, i++, n)))
    return s;
  return cls__launch_map(ctx, "add_scaled", k, n, 3.0 * (double)n, 3.0 * (double)n * sizeof(float));
}

cls_status cls_scale(cls_context *ctx, size_t n, float alpha, cls_ref x) {
  static const char fn[] = "cls_scale";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n)) || (s = cls__train_check(ctx, fn, "x", x, n)) ||
      (s = cls__train_check_finite(ctx, fn, "alpha", alpha)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "scale_inplace", &k)) != CLS_OK) return s;
  if ((s = cls__arg_mem(ctx, k, 0, x.buf)) || (s = cls__arg_uint(ctx, k, 1, x.offset)) ||
      (s = cls__arg_float(ctx, k, 2, alpha)) || (s = cls__arg_uint(ctx, k, 3, n)))
    return s;
  return cls__launch_map(ctx, "scale", k, n, (double)n, 2.0 * (double)n * sizeof(float));
}

/* ------------------------------------------------------------------ bias */

/* rows and cols each at least 1, their product within 2^31-1 floats. */
static cls_status check_rows_cols(cls_context *ctx, const char *fn, size_t rows, size_t cols) {
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "rows", rows)) || (s = cls__train_check_size(ctx, fn, "cols", cols)))
    return s;
  if ((double)rows * (double)cols > (double)TRAIN_MAX_N)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: rows x cols = %zu x %zu exceeds 2^31-1 floats", fn, rows,
                     cols);
  return CLS_OK;
}

cls_status cls_bias_add(cls_context *ctx, size_t rows, size_t cols, cls_ref bias, cls_ref y) {
  static const char fn[] = "cls_bias_add";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_rows_cols(ctx, fn, rows, cols)) != CLS_OK) return s;
  size_t n = rows * cols;
  if ((s = cls__train_check(ctx, fn, "bias", bias, cols)) || (s = cls__train_check(ctx, fn, "y", y, n)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "bias", bias, cols, 0)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "bias_add", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, bias.buf)) || (s = cls__arg_uint(ctx, k, a++, bias.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, rows)) || (s = cls__arg_uint(ctx, k, a++, cols)))
    return s;
  return launch_cols(ctx, "bias_add", k, "ELT_LOCAL", 256, 1, cols, rows, (double)n,
                     (2.0 * (double)n + (double)cols) * sizeof(float));
}

/* The second pass of the models' bias gradients: each model's parts into
 * its own dbias. */
static cls_status finish_models(cls_context *ctx, const char *op, cls_buffer *scratch, size_t models, size_t parts,
                                size_t cols, cls_ref dbias, size_t db_stride, int accumulate) {
  cl_kernel kf;
  cls_status s;
  if ((s = cls__kernel(ctx, "elementwise", "bias_grad_finish_models", &kf)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kf, a++, scratch)) || (s = cls__arg_uint(ctx, kf, a++, parts)) ||
      (s = cls__arg_uint(ctx, kf, a++, cols)) || (s = cls__arg_mem(ctx, kf, a++, dbias.buf)) ||
      (s = cls__arg_uint(ctx, kf, a++, dbias.offset)) || (s = cls__arg_uint(ctx, kf, a++, db_stride)) ||
      (s = cls__arg_int(ctx, kf, a++, accumulate)))
    return s;
  const double m = (double)models * (double)parts * (double)cols;
  return launch_cols(ctx, op, kf, "ROW_CLOCAL", 64, 0, cols, models, m, m * sizeof(float));
}

/* How the column pass (bias_grad_part, gelu_bias_bwd_part) cuts a model's
 * rows x cols: rows per part (ROW_PART, at most rows), parts, and items of
 * ROW_CVEC columns. bias_grad launches it so; gelu_bias_grad asks whether
 * that launch would fill the device. */
typedef struct {
  size_t part_rows, parts, col_items;
} col_pass;

static col_pass col_pass_of(cls_context *ctx, size_t rows, size_t cols) {
  long part_param = cls__param(ctx, "ROW_PART", 256), cvec_param = cls__param(ctx, "ROW_CVEC", 1);
  col_pass p;
  p.part_rows = part_param < 1 || (size_t)part_param > rows ? rows : (size_t)part_param;
  p.parts = (rows + p.part_rows - 1) / p.part_rows;
  size_t cvec = cvec_param < 1 ? 1 : (size_t)cvec_param;
  p.col_items = (cols + cvec - 1) / cvec;
  return p;
}

/* The bias gradient of `models` models side by side (one: a model alone)
 * by the part kernel `kname`, whose leading arguments are the buffer and
 * offset of each of the `nlead` (at most 3) row operands in lead, models x
 * rows x cols floats each, then rows, cols, rows per part, the output and
 * its offset and accumulate. Each model's rows are cut into parts of
 * ROW_PART rows, whose sums a second pass adds in part order (one model of
 * one part sums straight into dbias); models whose parts would straddle
 * two (rows not a multiple of ROW_PART) run one at a time, so each gets the
 * bits it gets alone. flops_per: the part kernel's per element. */
static cls_status bias_grad(cls_context *ctx, const char *op, const char *kname, size_t nlead, const cls_ref *lead,
                            double flops_per, size_t models, size_t rows, size_t cols, cls_ref dbias,
                            size_t db_stride, int accumulate) {
  const col_pass cp = col_pass_of(ctx, rows, cols);
  const size_t part_rows = cp.part_rows, parts = cp.parts, col_items = cp.col_items;
  cls_status s;
  if (models > 1 && rows % part_rows) { /* parts would straddle models: each model alone */
    for (size_t k = 0; k < models; k++) {
      cls_ref at[3];
      for (size_t i = 0; i < nlead; i++) at[i] = cls_ref_at(lead[i].buf, lead[i].offset + k * rows * cols);
      if ((s = bias_grad(ctx, op, kname, nlead, at, flops_per, 1, rows, cols,
                         cls_ref_at(dbias.buf, dbias.offset + k * db_stride), db_stride, accumulate)) != CLS_OK)
        return s;
    }
    return CLS_OK;
  }
  const size_t all = models * parts, n = models * rows * cols;
  cl_kernel kp, kf = NULL;
  if ((s = cls__kernel(ctx, "elementwise", kname, &kp)) != CLS_OK) return s;
  if (models == 1 && parts > 1 && (s = cls__kernel(ctx, "elementwise", "bias_grad_finish", &kf)) != CLS_OK)
    return s;
  cls_buffer *scratch = NULL;
  /* On failure the allocator has said why (CLS_ERR_OUT_OF_MEMORY). */
  if (all > 1 && (s = cls__ops_temp(ctx, 0, all * cols, &scratch)) != CLS_OK) return s;
  cls_ref out = all > 1 ? cls_ref_at(scratch, 0) : dbias;
  cl_uint a = 0;
  for (size_t i = 0; i < nlead; i++)
    if ((s = cls__arg_mem(ctx, kp, a++, lead[i].buf)) || (s = cls__arg_uint(ctx, kp, a++, lead[i].offset)))
      return s;
  if ((s = cls__arg_uint(ctx, kp, a++, models * rows)) || (s = cls__arg_uint(ctx, kp, a++, cols)) ||
      (s = cls__arg_uint(ctx, kp, a++, part_rows)) || (s = cls__arg_mem(ctx, kp, a++, out.buf)) ||
      (s = cls__arg_uint(ctx, kp, a++, out.offset)) || (s = cls__arg_int(ctx, kp, a++, all > 1 ? 0 : accumulate)))
    return s;
  if (kf) {
    a = 0;
    if ((s = cls__arg_mem(ctx, kf, a++, scratch)) || (s = cls__arg_uint(ctx, kf, a++, parts)) ||
        (s = cls__arg_uint(ctx, kf, a++, cols)) || (s = cls__arg_mem(ctx, kf, a++, dbias.buf)) ||
        (s = cls__arg_uint(ctx, kf, a++, dbias.offset)) || (s = cls__arg_int(ctx, kf, a++, accumulate)))
      return s;
  }
  /* The caller's bytes: the row operands once each, dbias written (and read
   * when accumulating); the partial sums are counted with the finish pass. */
  const double bytes =
      ((double)nlead * (double)n + (double)models * (double)cols * (1.0 + accumulate)) * sizeof(float);
  if ((s = launch_cols(ctx, op, kp, "ROW_CLOCAL", 64, 0, col_items, all, flops_per * (double)n, bytes)) != CLS_OK)
    return s;
  if (all == 1) return CLS_OK;
  if (!kf) return finish_models(ctx, op, scratch, models, parts, cols, dbias, db_stride, accumulate);
  const double pn = (double)parts * (double)cols;
  return launch_cols(ctx, op, kf, "ROW_CLOCAL", 64, 0, cols, 1, pn, pn * sizeof(float));
}

/* GELU's backward and the bias gradient. gelu_bias_bwd_part does both in
 * one pass, one work-item per column vector and part of ROW_PART rows; a
 * layer with few columns and rows then has a handful of items (2048 x 96
 * on a CPU: 6, one work-group on one core, 18% of the emulator's step at
 * width 24), while the GELU's exponentials are the cost and need no order.
 * With fewer than 4 work-groups a compute unit, gelu_bwd_cols computes dx
 * over every row at once (the same bits) and bias_grad_part sums it in the
 * fused kernel's order: the same dx and dbias, one launch more. Its FLOPs
 * are the fused kernel's: 16 an element for the GELU, 1 for the sum. */
static cls_status gelu_bias_grad(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref h, cls_ref dy,
                                 cls_ref dx, cls_ref dbias, size_t db_stride, int accumulate) {
  const cls_ref lead[3] = {h, dy, dx};
  const col_pass cp = col_pass_of(ctx, rows, cols);
  long local_param = cls__param(ctx, "ROW_CLOCAL", 64);
  size_t local = local_param < 1 ? 1 : (size_t)local_param, col_items = cp.col_items;
  /* Items of one fused launch (a model at a time when parts would straddle models). */
  size_t fused = col_items * cp.parts * (models > 1 && rows % cp.part_rows == 0 ? models : 1);
  const cls_device_info *info = cls_context_device(ctx);
  size_t units = info && info->compute_units ? info->compute_units : 1;
  if (fused >= 4 * units * local)
    return bias_grad(ctx, "gelu_bias_bwd", "gelu_bias_bwd_part", 3, lead, 17.0, models, rows, cols, dbias,
                     db_stride, accumulate);
  cl_kernel k;
  cls_status s;
  if ((s = cls__kernel(ctx, "elementwise", "gelu_bwd_cols", &k)) != CLS_OK) return s;
  const size_t all_rows = models * rows, n = all_rows * cols;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, h.buf)) || (s = cls__arg_uint(ctx, k, a++, h.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, dy.buf)) || (s = cls__arg_uint(ctx, k, a++, dy.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, dx.buf)) || (s = cls__arg_uint(ctx, k, a++, dx.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, all_rows)) || (s = cls__arg_uint(ctx, k, a++, cols)) ||
      (s = cls__arg_uint(ctx, k, a++, col_items)))
    return s;
  /* h and dy read, dx written. */
  if ((s = cls__launch_map(ctx, "gelu_bias_bwd", k, all_rows * col_items, 16.0 * (double)n,
                           3.0 * (double)n * sizeof(float))) != CLS_OK)
    return s;
  return bias_grad(ctx, "gelu_bias_bwd", "bias_grad_part", 1, &dx, 1.0, models, rows, cols, dbias, db_stride,
                   accumulate);
}

cls_status cls_bias_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref dy, cls_ref dbias,
                             int accumulate) {
  static const char fn[] = "cls_bias_backward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_rows_cols(ctx, fn, rows, cols)) != CLS_OK) return s;
  size_t n = rows * cols;
  if ((s = cls__train_check(ctx, fn, "dy", dy, n)) || (s = cls__train_check(ctx, fn, "dbias", dbias, cols)) ||
      (s = cls__train_check_flag(ctx, fn, "accumulate", accumulate)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, cols, "dy", dy, n, 0)))
    return s;
  return bias_grad(ctx, "bias_bwd", "bias_grad_part", 1, &dy, 1.0, 1, rows, cols, dbias, cols, accumulate);
}

/* ------------------------------------------------------ bias + GELU */

cls_status cls_bias_gelu_forward(cls_context *ctx, size_t rows, size_t cols, cls_ref bias, cls_ref x, cls_ref y) {
  static const char fn[] = "cls_bias_gelu_forward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_rows_cols(ctx, fn, rows, cols)) != CLS_OK) return s;
  const size_t n = rows * cols;
  if ((s = cls__train_check(ctx, fn, "bias", bias, cols)) || (s = cls__train_check(ctx, fn, "x", x, n)) ||
      (s = cls__train_check(ctx, fn, "y", y, n)) ||
      (s = cls__check_alias(ctx, fn, "x", x, n, "bias", bias, cols, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "bias", bias, cols, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "x", x, n, 0)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "bias_gelu_fwd", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, bias.buf)) || (s = cls__arg_uint(ctx, k, a++, bias.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, x.buf)) || (s = cls__arg_uint(ctx, k, a++, x.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, rows)) || (s = cls__arg_uint(ctx, k, a++, cols)) ||
      (s = cls__arg_uint(ctx, k, a++, gelu_items(ctx, cols))))
    return s;
  /* The bias add (1) and GELU (8) per element; x read and written, y written. */
  return cls__launch_map(ctx, "bias_gelu_fwd", k, rows * gelu_items(ctx, cols), 9.0 * (double)n,
                         (3.0 * (double)n + (double)cols) * sizeof(float));
}

cls_status cls_gelu_bias_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref h, cls_ref dy, cls_ref dx,
                                  cls_ref dbias, int accumulate) {
  static const char fn[] = "cls_gelu_bias_backward";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_rows_cols(ctx, fn, rows, cols)) != CLS_OK) return s;
  const size_t n = rows * cols;
  if ((s = cls__train_check(ctx, fn, "h", h, n)) || (s = cls__train_check(ctx, fn, "dy", dy, n)) ||
      (s = cls__train_check(ctx, fn, "dx", dx, n)) || (s = cls__train_check(ctx, fn, "dbias", dbias, cols)) ||
      (s = cls__train_check_flag(ctx, fn, "accumulate", accumulate)) ||
      (s = cls__check_alias(ctx, fn, "dx", dx, n, "dy", dy, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dx", dx, n, "h", h, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, cols, "h", h, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, cols, "dy", dy, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, cols, "dx", dx, n, 0)))
    return s;
  return gelu_bias_grad(ctx, 1, rows, cols, h, dy, dx, dbias, cols, accumulate);
}

/* ---------------------------------------------- models side by side */

/* The span checks of a models call: y-like operands of models x rows x cols
 * floats, biases of (models - 1) x stride + cols. */
static cls_status check_models(cls_context *ctx, const char *fn, size_t models, size_t rows, size_t cols,
                               size_t bias_stride) {
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "models", models)) || (s = check_rows_cols(ctx, fn, rows, cols)))
    return s;
  if ((double)models * (double)rows * (double)cols > (double)TRAIN_MAX_N ||
      (double)(models - 1) * (double)bias_stride + (double)cols > (double)TRAIN_MAX_N)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: %zu models of %zu x %zu (bias stride %zu) exceed 2^31-1 floats", fn, models, rows, cols,
                     bias_stride);
  if (models > 1 && bias_stride < cols)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: bias stride %zu is below cols %zu: the models' biases overlap", fn, bias_stride, cols);
  return CLS_OK;
}

cls_status cls_bias_add_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref bias,
                               size_t bias_stride, cls_ref y) {
  static const char fn[] = "cls_bias_add_models";
  CLS_CHECK_CTX(ctx);
  if (models == 1) return cls_bias_add(ctx, rows, cols, bias, y);
  cls_status s;
  if ((s = check_models(ctx, fn, models, rows, cols, bias_stride)) != CLS_OK) return s;
  const size_t n = models * rows * cols, nb = (models - 1) * bias_stride + cols;
  if ((s = cls__train_check(ctx, fn, "bias", bias, nb)) || (s = cls__train_check(ctx, fn, "y", y, n)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "bias", bias, nb, 0)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "bias_add_models", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, bias.buf)) || (s = cls__arg_uint(ctx, k, a++, bias.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, bias_stride)) || (s = cls__arg_uint(ctx, k, a++, rows)) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, models * rows)) || (s = cls__arg_uint(ctx, k, a++, cols)))
    return s;
  return launch_cols(ctx, "bias_add", k, "ELT_LOCAL", 256, 1, cols, models * rows, (double)n,
                     (2.0 * (double)n + (double)models * (double)cols) * sizeof(float));
}

cls_status cls_bias_gelu_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref bias,
                                        size_t bias_stride, cls_ref x, cls_ref y) {
  static const char fn[] = "cls_bias_gelu_forward_models";
  CLS_CHECK_CTX(ctx);
  if (models == 1) return cls_bias_gelu_forward(ctx, rows, cols, bias, x, y);
  cls_status s;
  if ((s = check_models(ctx, fn, models, rows, cols, bias_stride)) != CLS_OK) return s;
  const size_t n = models * rows * cols, nb = (models - 1) * bias_stride + cols, R = models * rows;
  if ((s = cls__train_check(ctx, fn, "bias", bias, nb)) || (s = cls__train_check(ctx, fn, "x", x, n)) ||
      (s = cls__train_check(ctx, fn, "y", y, n)) ||
      (s = cls__check_alias(ctx, fn, "x", x, n, "bias", bias, nb, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "bias", bias, nb, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "x", x, n, 0)))
    return s;
  cl_kernel k;
  if ((s = cls__kernel(ctx, "elementwise", "bias_gelu_fwd_models", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, bias.buf)) || (s = cls__arg_uint(ctx, k, a++, bias.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, bias_stride)) || (s = cls__arg_uint(ctx, k, a++, rows)) ||
      (s = cls__arg_mem(ctx, k, a++, x.buf)) || (s = cls__arg_uint(ctx, k, a++, x.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, R)) || (s = cls__arg_uint(ctx, k, a++, cols)) ||
      (s = cls__arg_uint(ctx, k, a++, gelu_items(ctx, cols))))
    return s;
  return cls__launch_map(ctx, "bias_gelu_fwd", k, R * gelu_items(ctx, cols), 9.0 * (double)n,
                         (3.0 * (double)n + (double)models * (double)cols) * sizeof(float));
}

cls_status cls_bias_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref dy,
                                    cls_ref dbias, size_t db_stride, int accumulate) {
  static const char fn[] = "cls_bias_backward_models";
  CLS_CHECK_CTX(ctx);
  if (models == 1) return cls_bias_backward(ctx, rows, cols, dy, dbias, accumulate);
  cls_status s;
  if ((s = check_models(ctx, fn, models, rows, cols, db_stride)) != CLS_OK) return s;
  const size_t n = models * rows * cols, nb = (models - 1) * db_stride + cols;
  if ((s = cls__train_check(ctx, fn, "dy", dy, n)) || (s = cls__train_check(ctx, fn, "dbias", dbias, nb)) ||
      (s = cls__train_check_flag(ctx, fn, "accumulate", accumulate)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, nb, "dy", dy, n, 0)))
    return s;
  return bias_grad(ctx, "bias_bwd", "bias_grad_part", 1, &dy, 1.0, models, rows, cols, dbias, db_stride,
                   accumulate);
}

cls_status cls_gelu_bias_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref h,
                                         cls_ref dy, cls_ref dx, cls_ref dbias, size_t db_stride, int accumulate) {
  static const char fn[] = "cls_gelu_bias_backward_models";
  CLS_CHECK_CTX(ctx);
  if (models == 1) return cls_gelu_bias_backward(ctx, rows, cols, h, dy, dx, dbias, accumulate);
  cls_status s;
  if ((s = check_models(ctx, fn, models, rows, cols, db_stride)) != CLS_OK) return s;
  const size_t n = models * rows * cols, nb = (models - 1) * db_stride + cols;
  if ((s = cls__train_check(ctx, fn, "h", h, n)) || (s = cls__train_check(ctx, fn, "dy", dy, n)) ||
      (s = cls__train_check(ctx, fn, "dx", dx, n)) || (s = cls__train_check(ctx, fn, "dbias", dbias, nb)) ||
      (s = cls__train_check_flag(ctx, fn, "accumulate", accumulate)) ||
      (s = cls__check_alias(ctx, fn, "dx", dx, n, "dy", dy, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dx", dx, n, "h", h, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, nb, "h", h, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, nb, "dy", dy, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "dbias", dbias, nb, "dx", dx, n, 0)))
    return s;
  return gelu_bias_grad(ctx, models, rows, cols, h, dy, dx, dbias, db_stride, accumulate);
}
