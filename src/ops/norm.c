/*
 * src/ops/norm.c — LayerNorm and RMSNorm over rows, forward and backward
 * (kernels in cl/norm.cl).
 *
 * Errors, all checked before anything is enqueued:
 *   CLS_ERR_NULL_ARGUMENT    ctx or a required operand NULL (x, gamma, y;
 *                            backward: x, gamma, mean (LayerNorm), rstd, dy,
 *                            dx, dgamma). beta, and mean/rstd of the forward
 *                            pass, may be CLS_NOREF; so may dbeta.
 *   CLS_ERR_INVALID_SIZE     rows or cols 0; a matrix or offset beyond the
 *                            kernels' 32-bit indexing
 *   CLS_ERR_WRONG_CONTEXT    an operand's buffer belongs to another context
 *   CLS_ERR_BUFFER_TOO_SMALL an operand's buffer cannot hold its shape at its
 *                            offset (rows x cols; gamma/beta/dgamma/dbeta
 *                            cols; mean/rstd rows)
 *   CLS_ERR_INVALID_VALUE    eps <= 0, NaN or infinite; accumulate not 0 or
 *                            1; an output overlapping another operand other
 *                            than as an exact alias (y = x; dx = dy or x)
 *   CLS_ERR_OUT_OF_MEMORY    the backward pass's scratch for the dgamma/dbeta
 *                            partial sums could not be allocated (nothing is
 *                            enqueued then either)
 * The models forms (cls_*rmsnorm_*_models) check the spans their models
 * cover, and also: CLS_ERR_INVALID_SIZE for models not in 1..4096;
 * CLS_ERR_INVALID_VALUE for a parameter stride below cols or a statistics
 * stride below rows (the models' parts would overlap), or add not 0 or 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "ops/ops_state.h"
#include "ops/rows.h"

static int present(cls_ref r) {
  return r.buf != NULL;
}

static cls_status check_eps(cls_context *ctx, const char *fn, float eps) {
  if (!(eps > 0) || !isfinite(eps))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: eps is %g; pass a small positive finite number such as 1e-5",
                     fn, (double)eps);
  return CLS_OK;
}

/* Optional operands are bound to a stand-in buffer the kernel never touches
 * (a flag says so): not every driver accepts NULL buffer arguments. */
static cls_status arg_opt(cls_context *ctx, cl_kernel k, cl_uint *a, cls_ref r, const cls_buffer *stand_in) {
  cls_status s = cls__arg_mem(ctx, k, (*a)++, r.buf ? r.buf : stand_in);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, (*a)++, r.offset);
  return s;
}

/* Models side by side (the *_models forms): K models of rows x cols each,
 * their rows one after the other in x, y, dy and dx; model k's gamma,
 * beta, residual bias, dgamma and dbeta pstride floats after model k-1's,
 * its mean and rstd sstride after. K = 1 is the plain op. */
typedef struct models_in {
  size_t K, pstride, sstride;
} models_in;

static const models_in one_model = {1, 0, 0};

/* The spans a models call covers: per-model parameters (np floats) and
 * statistics (ns floats); checks the strides keep the models apart and the
 * whole within the kernels' 32-bit indexing. */
static cls_status models_spans(cls_context *ctx, const char *fn, const models_in *mi, size_t rows, size_t cols,
                               size_t *np, size_t *ns) {
  const size_t K = mi->K;
  if (K < 1 || K > 4096) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models; pass 1 to 4096", fn, K);
  if (K > 1 && (mi->pstride < cols || mi->sstride < rows))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: parameter stride %zu (cols %zu) or statistics stride %zu (rows %zu) would overlap the "
                     "models' parts; pass strides of at least cols and rows",
                     fn, mi->pstride, cols, mi->sstride, rows);
  double dp = (double)(K - 1) * (double)mi->pstride + (double)cols;
  double ds = (double)(K - 1) * (double)mi->sstride + (double)rows;
  if ((K > 1 && (double)K * (double)rows * (double)cols > 4294967295.0) || dp > 4294967295.0 || ds > 4294967295.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models of %zu x %zu exceed the kernels' 32-bit indexing",
                     fn, K, rows, cols);
  *np = K > 1 ? (K - 1) * mi->pstride + cols : cols;
  *ns = K > 1 ? (K - 1) * mi->sstride + rows : rows;
  return CLS_OK;
}

/* The fused residual's operands (cls_residual_*norm_forward): x = (a + b) +
 * bias before the norm of x; a.buf NULL for a plain norm. */
typedef struct res_in {
  cls_ref a, b, bias;
} res_in;

static cls_status check_res(cls_context *ctx, const char *fn, const res_in *r, size_t rows, size_t cols, size_t np,
                            cls_ref x, cls_ref gamma, cls_ref beta, cls_ref y) {
  cls_status s;
  const size_t n = rows * cols;
  if ((s = cls__rows_check(ctx, fn, "a", r->a, rows, cols)) ||
      (s = cls__rows_check(ctx, fn, "b", r->b, rows, cols)) ||
      (s = cls__rows_check(ctx, fn, "bias", r->bias, 1, np)))
    return s;
  /* x is written first, element by element from a, b and bias: x may be a
   * (in place), nothing else may overlap x or the norm's output. */
  if ((s = cls__check_alias(ctx, fn, "x", x, n, "a", r->a, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "x", x, n, "b", r->b, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "x", x, n, "bias", r->bias, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "x", x, n, "gamma", gamma, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "x", x, n, "beta", beta, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "a", r->a, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "b", r->b, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "bias", r->bias, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "x", x, n, 0)))
    return s;
  return CLS_OK;
}

/* rows and cols are one model's; mi says how many models (K) and where
 * their parameters and statistics lie. */
static cls_status forward(cls_context *ctx, const char *fn, const char *op, int rms, size_t rows, size_t cols,
                          float eps, cls_ref x, cls_ref gamma, cls_ref beta, cls_ref y, cls_ref mean, cls_ref rstd,
                          const res_in *res, const models_in *mi) {
  cls_status s;
  size_t np = 0, ns = 0;
  if ((s = models_spans(ctx, fn, mi, rows, cols, &np, &ns)) != CLS_OK) return s;
  const size_t mrows = rows;
  rows *= mi->K; /* from here on: all models' rows */
  if (res && (s = check_res(ctx, fn, res, rows, cols, np, x, gamma, beta, y)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "x", x, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "gamma", gamma, 1, np)) != CLS_OK) return s;
  if (present(beta) && (s = cls__rows_check(ctx, fn, "beta", beta, 1, np)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "y", y, rows, cols)) != CLS_OK) return s;
  if (present(mean) && (s = cls__rows_check(ctx, fn, "mean", mean, 1, ns)) != CLS_OK) return s;
  if (present(rstd) && (s = cls__rows_check(ctx, fn, "rstd", rstd, 1, ns)) != CLS_OK) return s;
  if ((s = check_eps(ctx, fn, eps)) != CLS_OK) return s;
  size_t n = rows * cols;
  if ((s = cls__check_alias(ctx, fn, "y", y, n, "x", x, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "gamma", gamma, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "y", y, n, "beta", beta, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "mean", mean, ns, "x", x, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "mean", mean, ns, "gamma", gamma, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "mean", mean, ns, "beta", beta, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "mean", mean, ns, "y", y, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "rstd", rstd, ns, "x", x, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "rstd", rstd, ns, "gamma", gamma, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "rstd", rstd, ns, "beta", beta, np, 0)) ||
      (s = cls__check_alias(ctx, fn, "rstd", rstd, ns, "y", y, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "rstd", rstd, ns, "mean", mean, ns, 0)))
    return s;

  int variant = cls__rows_variant(ctx);
  /* Variant 0 runs rows of 1 to 4 whole vectors ROW_PACK per work-item in
   * registers (norm_fwd_packNV_RMS, one kernel per vector count and norm,
   * cl/norm.cl: bitwise the results of a row per work-item), the rest one
   * per item. */
  size_t pack = cls__rows_pack(ctx, variant, cols);
  size_t items = pack > 0 ? (rows + pack - 1) / pack : rows;
  char name[32];
  cls__rows_fwd_kernel(ctx, "norm", variant, cols, rms, name, sizeof name);
  cl_kernel k;
  if ((s = cls__kernel(ctx, "norm", name, &k)) != CLS_OK) return s;
  size_t global, local;
  if ((s = cls__rows_geometry(ctx, k, variant, items, cols, &global, &local)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, x.buf)) || (s = cls__arg_uint(ctx, k, a++, x.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, gamma.buf)) || (s = cls__arg_uint(ctx, k, a++, gamma.offset)) ||
      (s = arg_opt(ctx, k, &a, beta, x.buf)) || (s = cls__arg_int(ctx, k, a++, present(beta))) ||
      (s = cls__arg_mem(ctx, k, a++, y.buf)) || (s = cls__arg_uint(ctx, k, a++, y.offset)) ||
      (s = arg_opt(ctx, k, &a, mean, x.buf)) || (s = cls__arg_int(ctx, k, a++, present(mean))) ||
      (s = arg_opt(ctx, k, &a, rstd, x.buf)) || (s = cls__arg_int(ctx, k, a++, present(rstd))) ||
      (s = cls__arg_uint(ctx, k, a++, rows)) || (s = cls__arg_uint(ctx, k, a++, cols)) ||
      (s = cls__arg_float(ctx, k, a++, eps)) || (s = cls__arg_int(ctx, k, a++, rms)) ||
      (s = arg_opt(ctx, k, &a, res ? res->a : CLS_NOREF, x.buf)) ||
      (s = arg_opt(ctx, k, &a, res ? res->b : CLS_NOREF, x.buf)) ||
      (s = arg_opt(ctx, k, &a, res ? res->bias : CLS_NOREF, x.buf)) ||
      (s = cls__arg_int(ctx, k, a++, res != NULL)) || (s = cls__arg_uint(ctx, k, a++, mrows)) ||
      (s = cls__arg_uint(ctx, k, a++, mi->pstride)) || (s = cls__arg_uint(ctx, k, a++, mi->sstride)) ||
      (variant == 0 && (s = cls__arg_int(ctx, k, a++, pack > 0 ? 2 : 0))))
    return s;

  /* Per entry: LayerNorm sums x (1), squares deviations (3), normalises
   * and scales (3) and shifts (1 with beta); RMSNorm squares (2) and
   * scales (2). Bytes: x read and y written once, gamma/beta read once,
   * the statistics written once. */
  double ne = (double)n;
  double flops = (rms ? 4.0 * ne : (present(beta) ? 8.0 : 7.0) * ne) + (res ? 2.0 * ne : 0.0);
  double pc = (double)mi->K * (double)cols; /* each model's gamma (beta, bias) */
  double bytes = 2.0 * ne + pc * (present(beta) ? 2.0 : 1.0) +
                 (double)rows * ((present(mean) ? 1.0 : 0.0) + (present(rstd) ? 1.0 : 0.0)) +
                 (res ? 3.0 * ne + pc : 0.0); /* the residual: a, b read, x written, bias */
  return cls__launch(ctx, op, k, 1, &global, &local, flops, bytes * sizeof(float));
}

cls_status cls_layernorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref x, cls_ref gamma,
                                 cls_ref beta, cls_ref y, cls_ref mean, cls_ref rstd) {
  CLS_CHECK_CTX(ctx);
  return forward(ctx, "cls_layernorm_forward", "layernorm_fwd", 0, rows, cols, eps, x, gamma, beta, y, mean, rstd,
                 NULL, &one_model);
}

cls_status cls_residual_layernorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref a,
                                          cls_ref b, cls_ref bias, cls_ref x, cls_ref gamma, cls_ref beta,
                                          cls_ref y, cls_ref mean, cls_ref rstd) {
  CLS_CHECK_CTX(ctx);
  res_in r = {a, b, bias};
  return forward(ctx, "cls_residual_layernorm_forward", "residual_layernorm_fwd", 0, rows, cols, eps, x, gamma,
                 beta, y, mean, rstd, &r, &one_model);
}

cls_status cls_residual_rmsnorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref a,
                                        cls_ref b, cls_ref bias, cls_ref x, cls_ref gamma, cls_ref y,
                                        cls_ref rstd) {
  CLS_CHECK_CTX(ctx);
  res_in r = {a, b, bias};
  return forward(ctx, "cls_residual_rmsnorm_forward", "residual_rmsnorm_fwd", 1, rows, cols, eps, x, gamma,
                 CLS_NOREF, y, CLS_NOREF, rstd, &r, &one_model);
}

cls_status cls_rmsnorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref x, cls_ref gamma,
                               cls_ref y, cls_ref rstd) {
  CLS_CHECK_CTX(ctx);
  return forward(ctx, "cls_rmsnorm_forward", "rmsnorm_fwd", 1, rows, cols, eps, x, gamma, CLS_NOREF, y, CLS_NOREF,
                 rstd, NULL, &one_model);
}

/* One backward call: its operands, and the plan the steps below fill in. */
typedef struct bwd_call {
  const char *fn, *op;         /* public name (for messages), counter name */
  int rms, accumulate, acc_dx; /* acc_dx: dx += instead of dx = */
  size_t rows, cols;           /* one model's */
  cls_ref x, gamma, mean, rstd, dy, dx, dgamma, dbeta;
  models_in mi;
  size_t np, ns; /* bwd_check: the parameters' and statistics' spans */
  /* bwd_plan */
  int variant, want_dbeta;
  cl_kernel kd, kf, kg; /* dx (and, variant 0, the parts' sums), finish, column pass (variant 1) */
  size_t part_rows, parts, clocal;
  /* bwd_scratch: where the kernels put dgamma/dbeta sums, and whether they add to it */
  cls_buffer *scratch;
  cls_ref dg_out, db_out;
  size_t dstride; /* model k's part sums dstride floats after model k-1's */
  int part_acc;
} bwd_call;

/* Every argument check of the backward pass, before anything is enqueued. */
static cls_status bwd_check(cls_context *ctx, bwd_call *b) {
  const char *fn = b->fn;
  cls_status s;
  if ((s = models_spans(ctx, fn, &b->mi, b->rows, b->cols, &b->np, &b->ns)) != CLS_OK) return s;
  size_t rows = b->mi.K * b->rows, cols = b->cols, np = b->np, ns = b->ns;
  if ((s = cls__rows_check(ctx, fn, "x", b->x, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "gamma", b->gamma, 1, np)) != CLS_OK) return s;
  if (!b->rms && (s = cls__rows_check(ctx, fn, "mean", b->mean, 1, ns)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "rstd", b->rstd, 1, ns)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "dy", b->dy, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "dx", b->dx, rows, cols)) != CLS_OK) return s;
  if ((s = cls__rows_check(ctx, fn, "dgamma", b->dgamma, 1, np)) != CLS_OK) return s;
  if (present(b->dbeta) && (s = cls__rows_check(ctx, fn, "dbeta", b->dbeta, 1, np)) != CLS_OK) return s;
  if (b->accumulate != 0 && b->accumulate != 1)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: accumulate is %d; pass 0 (overwrite) or 1 (add)", fn,
                     b->accumulate);
  size_t n = rows * cols;
  const char *in_names[] = {"x", "gamma", "mean", "rstd", "dy"};
  cls_ref ins[] = {b->x, b->gamma, b->mean, b->rstd, b->dy};
  size_t in_n[] = {n, np, ns, ns, n};
  const char *out_names[] = {"dx", "dgamma", "dbeta"};
  cls_ref outs[] = {b->dx, b->dgamma, b->dbeta};
  size_t out_n[] = {n, np, np};
  for (int o = 0; o < 3; o++) {
    for (int i = 0; i < 5; i++) {
      /* dx = x or dx = dy, element-wise (not when adding to dx) */
      int alias_ok = o == 0 && (i == 0 || i == 4) && !b->acc_dx;
      if ((s = cls__check_alias(ctx, fn, out_names[o], outs[o], out_n[o], in_names[i], ins[i], in_n[i], alias_ok)))
        return s;
    }
    for (int p = 0; p < o; p++)
      /* dbeta against dgamma part by part: a LayerNorm's gain and shift
       * lie side by side in every model's tensors, so their spans over
       * the models interleave. */
      if ((s = o == 2 && p == 1 ? cls__check_alias_parts(ctx, fn, "dbeta", b->dbeta, b->cols, "dgamma", b->dgamma,
                                                         b->cols, b->mi.K, b->mi.pstride)
                                : cls__check_alias(ctx, fn, out_names[o], outs[o], out_n[o], out_names[p], outs[p],
                                                   out_n[p], 0)))
        return s;
  }
  return CLS_OK;
}

/* The kernels, and how the rows are cut into parts. Each model's rows are
 * cut as those of a model alone (b->rows is one model's). dgamma/dbeta are
 * summed over parts of at most ROW_PART rows (which bounds the rounding
 * error of long sums), the parts then added up by norm_param_finish. GPUs
 * (variant 1) sum in a column pass over ROW_CVEC columns per item and then
 * compute dx. CPUs (variant 0) do everything in one pass, one item per
 * part, with about four parts per compute unit. */
static cls_status bwd_plan(cls_context *ctx, bwd_call *b) {
  cls_status s;
  b->variant = cls__rows_variant(ctx);
  b->want_dbeta = present(b->dbeta);
  b->kg = NULL;
  if ((s = cls__kernel(ctx, "norm", b->variant ? "norm_bwd_wg" : "norm_bwd_part", &b->kd)) ||
      (s = cls__kernel(ctx, "norm", "norm_param_finish", &b->kf)) ||
      (b->variant && (s = cls__kernel(ctx, "norm", "norm_param_grad", &b->kg))))
    return s;

  size_t rows = b->rows;
  long part_param = cls__param(ctx, "ROW_PART", 256);
  size_t part_rows = part_param < 1 ? rows : (size_t)part_param;
  if (!b->variant) {
    const cls_device_info *info = cls_context_device(ctx);
    size_t want_parts = 4 * (info && info->compute_units ? info->compute_units : 1);
    size_t even = (rows + want_parts - 1) / want_parts;
    if (even < part_rows) part_rows = even;
  }
  if (part_rows > rows) part_rows = rows;
  if (part_rows < 1) part_rows = 1;
  b->part_rows = part_rows;
  b->parts = (rows + part_rows - 1) / part_rows;

  long clocal_param = cls__param(ctx, "ROW_CLOCAL", 16);
  size_t clocal = clocal_param < 1 ? 1 : (size_t)clocal_param, kmax = 1;
  if ((s = cls__kernel_max_group(ctx, b->kf, &kmax))) return s;
  if (clocal > kmax) clocal = kmax;
  if (b->variant) {
    if ((s = cls__kernel_max_group(ctx, b->kg, &kmax))) return s;
    if (clocal > kmax) clocal = kmax;
  }
  b->clocal = clocal;
  return CLS_OK;
}

/* Where the parts' sums go: with several parts, the context's scratch
 * (added up by norm_param_finish); with one, straight into dgamma/dbeta
 * (added to them when accumulating). */
static cls_status bwd_scratch(cls_context *ctx, bwd_call *b) {
  size_t parts = b->parts, cols = b->cols, K = b->mi.K;
  b->scratch = NULL;
  cls_status s;
  if (parts > 1 && (s = cls__ops_temp(ctx, 0, 2 * K * parts * cols, &b->scratch)) != CLS_OK) {
    char why[512];
    snprintf(why, sizeof why, "%s", cls_last_error(ctx));
    return cls__fail(ctx, s, "%s: no room for %zu floats of partial sums for dgamma/dbeta: %s", b->fn,
                     2 * K * parts * cols, why);
  }
  /* Every model's dgamma parts, then every model's dbeta parts. */
  b->dg_out = parts > 1 ? cls_ref_at(b->scratch, 0) : b->dgamma;
  b->db_out = parts > 1 ? cls_ref_at(b->scratch, K * parts * cols) : (b->want_dbeta ? b->dbeta : b->dgamma);
  b->dstride = parts > 1 ? parts * cols : b->mi.pstride;
  b->part_acc = parts > 1 ? 0 : b->accumulate;
  return CLS_OK;
}

/* dx and its row sums: the per-row kernels' arguments, shared by both
 * variants (norm_bwd_part takes the part arguments after them). */
static cls_status bwd_args_dx(cls_context *ctx, const bwd_call *b) {
  cl_kernel kd = b->kd;
  cls_status s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kd, a++, b->x.buf)) || (s = cls__arg_uint(ctx, kd, a++, b->x.offset)) ||
      (s = cls__arg_mem(ctx, kd, a++, b->gamma.buf)) || (s = cls__arg_uint(ctx, kd, a++, b->gamma.offset)) ||
      (s = arg_opt(ctx, kd, &a, b->rms ? CLS_NOREF : b->mean, b->x.buf)) ||
      (s = cls__arg_mem(ctx, kd, a++, b->rstd.buf)) || (s = cls__arg_uint(ctx, kd, a++, b->rstd.offset)) ||
      (s = cls__arg_mem(ctx, kd, a++, b->dy.buf)) || (s = cls__arg_uint(ctx, kd, a++, b->dy.offset)) ||
      (s = cls__arg_mem(ctx, kd, a++, b->dx.buf)) || (s = cls__arg_uint(ctx, kd, a++, b->dx.offset)) ||
      (s = cls__arg_uint(ctx, kd, a++, b->mi.K * b->rows)) || (s = cls__arg_uint(ctx, kd, a++, b->cols)) ||
      (s = cls__arg_int(ctx, kd, a++, b->rms)) || (s = cls__arg_int(ctx, kd, a++, b->acc_dx)))
    return s;
  if (!b->variant &&
      ((s = cls__arg_uint(ctx, kd, a++, b->part_rows)) || (s = cls__arg_mem(ctx, kd, a++, b->dg_out.buf)) ||
       (s = cls__arg_uint(ctx, kd, a++, b->dg_out.offset)) || (s = cls__arg_mem(ctx, kd, a++, b->db_out.buf)) ||
       (s = cls__arg_uint(ctx, kd, a++, b->db_out.offset)) || (s = cls__arg_int(ctx, kd, a++, b->want_dbeta)) ||
       (s = cls__arg_int(ctx, kd, a++, b->part_acc))))
    return s;
  if ((s = cls__arg_uint(ctx, kd, a++, b->rows)) || (s = cls__arg_uint(ctx, kd, a++, b->mi.pstride)) ||
      (s = cls__arg_uint(ctx, kd, a++, b->mi.sstride)) ||
      (!b->variant && (s = cls__arg_uint(ctx, kd, a++, b->dstride))))
    return s;
  return CLS_OK;
}

/* The column pass of variant 1 (norm_param_grad). */
static cls_status bwd_args_param_grad(cls_context *ctx, const bwd_call *b) {
  cl_kernel kg = b->kg;
  cls_status s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kg, a++, b->x.buf)) || (s = cls__arg_uint(ctx, kg, a++, b->x.offset)) ||
      (s = arg_opt(ctx, kg, &a, b->rms ? CLS_NOREF : b->mean, b->x.buf)) ||
      (s = cls__arg_int(ctx, kg, a++, !b->rms)) || (s = cls__arg_mem(ctx, kg, a++, b->rstd.buf)) ||
      (s = cls__arg_uint(ctx, kg, a++, b->rstd.offset)) || (s = cls__arg_mem(ctx, kg, a++, b->dy.buf)) ||
      (s = cls__arg_uint(ctx, kg, a++, b->dy.offset)) || (s = cls__arg_uint(ctx, kg, a++, b->mi.K * b->rows)) ||
      (s = cls__arg_uint(ctx, kg, a++, b->cols)) || (s = cls__arg_uint(ctx, kg, a++, b->part_rows)) ||
      (s = cls__arg_mem(ctx, kg, a++, b->dg_out.buf)) || (s = cls__arg_uint(ctx, kg, a++, b->dg_out.offset)) ||
      (s = cls__arg_mem(ctx, kg, a++, b->db_out.buf)) || (s = cls__arg_uint(ctx, kg, a++, b->db_out.offset)) ||
      (s = cls__arg_int(ctx, kg, a++, b->want_dbeta)) || (s = cls__arg_int(ctx, kg, a++, b->part_acc)) ||
      (s = cls__arg_uint(ctx, kg, a++, b->rows)) || (s = cls__arg_uint(ctx, kg, a++, b->mi.sstride)) ||
      (s = cls__arg_uint(ctx, kg, a++, b->dstride)))
    return s;
  return CLS_OK;
}

/* Adding up the parts (norm_param_finish) into the caller's dgamma/dbeta. */
static cls_status bwd_args_finish(cls_context *ctx, const bwd_call *b) {
  cl_kernel kf = b->kf;
  cls_status s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, kf, a++, b->scratch)) || (s = cls__arg_uint(ctx, kf, a++, b->parts)) ||
      (s = cls__arg_uint(ctx, kf, a++, b->cols)) || (s = cls__arg_mem(ctx, kf, a++, b->dgamma.buf)) ||
      (s = cls__arg_uint(ctx, kf, a++, b->dgamma.offset)) || (s = arg_opt(ctx, kf, &a, b->dbeta, b->dgamma.buf)) ||
      (s = cls__arg_int(ctx, kf, a++, b->want_dbeta)) || (s = cls__arg_int(ctx, kf, a++, b->accumulate)) ||
      (s = cls__arg_uint(ctx, kf, a++, b->mi.K)) || (s = cls__arg_uint(ctx, kf, a++, b->mi.pstride)))
    return s;
  return CLS_OK;
}

/* Enqueues the kernels with their counter figures. FLOPs per entry: dx
 * needs g = gamma*dy (1), two sums (1 + 3) and rstd*(g - a - xhat*b) (5);
 * the parameter sums xhat (2), the dgamma fma (2) and the dbeta add (1).
 * Bytes are the op's ideal traffic (x and dy read once, dx written once,
 * the small vectors once each), recorded on the launch that writes dx; the
 * other launches record 0 bytes. Explicit work-group sizes throughout: left
 * to the runtime, PoCL picks a new one (and compiles the kernel anew) for
 * almost every shape. */
static cls_status bwd_launch(cls_context *ctx, const bwd_call *b) {
  const size_t K = b->mi.K, rows = K * b->rows, cols = b->cols, parts = K * b->parts, clocal = b->clocal;
  double ne = (double)(rows * cols);
  double grad_flops = (b->rms ? 3.0 : 4.0 + (b->want_dbeta ? 1.0 : 0.0)) * ne;
  double grads = b->want_dbeta ? 2.0 : 1.0;   /* dgamma (and dbeta) ... */
  double grad_rw = b->accumulate ? 2.0 : 1.0; /* ... written, and read first when accumulating */
  double small =
      (double)(K * cols) * (1.0 + grads * grad_rw) /* gamma read */ + (double)rows * (b->rms ? 1.0 : 2.0);
  double bytes = (3.0 * ne + small) * sizeof(float);
  double finish_flops = (b->want_dbeta ? 2.0 : 1.0) * (double)(parts * cols);
  size_t fglobal[2] = {cls__round_up(cols, clocal), K}, flocal[2] = {clocal, 1}; /* (column, model) */
  cls_status s;
  if (b->variant) {
    /* The column pass reads x and dy before dx (which may be either)
     * overwrites them; the in-order queue keeps that order. */
    size_t cl_local[2] = {clocal, 1};
    long cvec_param = cls__param(ctx, "ROW_CVEC", 1);
    size_t cvec = cvec_param < 1 ? 1 : (size_t)cvec_param;
    size_t cl_global[2] = {cls__round_up((cols + cvec - 1) / cvec, clocal), parts};
    size_t dglobal, dlocal;
    if ((s = cls__rows_geometry(ctx, b->kd, b->variant, rows, cols, &dglobal, &dlocal)) ||
        (s = cls__launch(ctx, b->op, b->kg, 2, cl_global, cl_local, grad_flops, 0)) ||
        (b->parts > 1 && (s = cls__launch(ctx, b->op, b->kf, 2, fglobal, flocal, finish_flops, 0))) ||
        (s = cls__launch(ctx, b->op, b->kd, 1, &dglobal, &dlocal, 10.0 * ne, bytes)))
      return s;
  } else {
    size_t one = 1;
    if ((s = cls__launch(ctx, b->op, b->kd, 1, &parts, &one, 10.0 * ne + grad_flops, bytes)) ||
        (b->parts > 1 && (s = cls__launch(ctx, b->op, b->kf, 2, fglobal, flocal, finish_flops, 0))))
      return s;
  }
  return CLS_OK;
}

/* dgamma/dbeta first (they read x and dy, which dx may overwrite), then dx.
 * The in-order queue keeps that order. */
static cls_status backward(cls_context *ctx, bwd_call *b) {
  cls_status s;
  if ((s = bwd_check(ctx, b)) || (s = bwd_plan(ctx, b)) || (s = bwd_scratch(ctx, b)) ||
      (s = bwd_args_dx(ctx, b)) || (b->variant && (s = bwd_args_param_grad(ctx, b))) ||
      (b->parts > 1 && (s = bwd_args_finish(ctx, b))))
    return s;
  return bwd_launch(ctx, b);
}

/* Fills the call (the one place that does) and runs it. add: dx += (the
 * *_add forms) instead of dx =. RMSNorm passes mean and dbeta as
 * CLS_NOREF. */
static cls_status backward_call(cls_context *ctx, const char *fn, int rms, int add, const models_in *mi,
                                size_t rows, size_t cols, cls_ref x, cls_ref gamma, cls_ref mean, cls_ref rstd,
                                cls_ref dy, cls_ref dx, cls_ref dgamma, cls_ref dbeta, int accumulate) {
  bwd_call b = {.fn = fn,
                .op = rms ? "rmsnorm_bwd" : "layernorm_bwd",
                .rms = rms,
                .accumulate = accumulate,
                .acc_dx = add,
                .rows = rows,
                .cols = cols,
                .x = x,
                .gamma = gamma,
                .mean = mean,
                .rstd = rstd,
                .dy = dy,
                .dx = dx,
                .dgamma = dgamma,
                .dbeta = dbeta,
                .mi = *mi};
  return backward(ctx, &b);
}

cls_status cls_layernorm_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma,
                                  cls_ref mean, cls_ref rstd, cls_ref dy, cls_ref dx, cls_ref dgamma,
                                  cls_ref dbeta, int accumulate) {
  CLS_CHECK_CTX(ctx);
  return backward_call(ctx, "cls_layernorm_backward", 0, 0, &one_model, rows, cols, x, gamma, mean, rstd, dy, dx,
                       dgamma, dbeta, accumulate);
}

cls_status cls_rmsnorm_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma, cls_ref rstd,
                                cls_ref dy, cls_ref dx, cls_ref dgamma, int accumulate) {
  CLS_CHECK_CTX(ctx);
  return backward_call(ctx, "cls_rmsnorm_backward", 1, 0, &one_model, rows, cols, x, gamma, CLS_NOREF, rstd, dy,
                       dx, dgamma, CLS_NOREF, accumulate);
}

cls_status cls_layernorm_backward_add(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma,
                                      cls_ref mean, cls_ref rstd, cls_ref dy, cls_ref dx, cls_ref dgamma,
                                      cls_ref dbeta, int accumulate) {
  CLS_CHECK_CTX(ctx);
  return backward_call(ctx, "cls_layernorm_backward_add", 0, 1, &one_model, rows, cols, x, gamma, mean, rstd, dy,
                       dx, dgamma, dbeta, accumulate);
}

cls_status cls_rmsnorm_backward_add(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma,
                                    cls_ref rstd, cls_ref dy, cls_ref dx, cls_ref dgamma, int accumulate) {
  CLS_CHECK_CTX(ctx);
  return backward_call(ctx, "cls_rmsnorm_backward_add", 1, 1, &one_model, rows, cols, x, gamma, CLS_NOREF, rstd,
                       dy, dx, dgamma, CLS_NOREF, accumulate);
}

/* ---------------------------------------------- models side by side */

cls_status cls_rmsnorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, float eps,
                                      cls_ref x, cls_ref gamma, size_t param_stride, cls_ref y, cls_ref rstd,
                                      size_t stat_stride) {
  CLS_CHECK_CTX(ctx);
  models_in mi = {models, param_stride, stat_stride};
  return forward(ctx, "cls_rmsnorm_forward_models", "rmsnorm_fwd", 1, rows, cols, eps, x, gamma, CLS_NOREF, y,
                 CLS_NOREF, rstd, NULL, &mi);
}

cls_status cls_residual_rmsnorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols,
                                               float eps, cls_ref a, cls_ref b, cls_ref bias, cls_ref x,
                                               cls_ref gamma, size_t param_stride, cls_ref y, cls_ref rstd,
                                               size_t stat_stride) {
  CLS_CHECK_CTX(ctx);
  models_in mi = {models, param_stride, stat_stride};
  res_in r = {a, b, bias};
  return forward(ctx, "cls_residual_rmsnorm_forward_models", "residual_rmsnorm_fwd", 1, rows, cols, eps, x, gamma,
                 CLS_NOREF, y, CLS_NOREF, rstd, &r, &mi);
}

cls_status cls_rmsnorm_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref x,
                                       cls_ref gamma, size_t param_stride, cls_ref rstd, size_t stat_stride,
                                       cls_ref dy, cls_ref dx, cls_ref dgamma, int accumulate, int add) {
  static const char fn[] = "cls_rmsnorm_backward_models";
  CLS_CHECK_CTX(ctx);
  if (models < 1) /* first, as the models forms have always answered (bwd_check says the same) */
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models; pass 1 to 4096", fn, models);
  if (add != 0 && add != 1)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: add is %d; pass 0 (dx =) or 1 (dx +=)", fn, add);
  models_in mi = {models, param_stride, stat_stride};
  return backward_call(ctx, fn, 1, add, &mi, rows, cols, x, gamma, CLS_NOREF, rstd, dy, dx, dgamma, CLS_NOREF,
                       accumulate);
}

cls_status cls_layernorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, float eps,
                                        cls_ref x, cls_ref gamma, cls_ref beta, size_t param_stride, cls_ref y,
                                        cls_ref mean, cls_ref rstd, size_t stat_stride) {
  CLS_CHECK_CTX(ctx);
  models_in mi = {models, param_stride, stat_stride};
  return forward(ctx, "cls_layernorm_forward_models", "layernorm_fwd", 0, rows, cols, eps, x, gamma, beta, y, mean,
                 rstd, NULL, &mi);
}

cls_status cls_residual_layernorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols,
                                                 float eps, cls_ref a, cls_ref b, cls_ref bias, cls_ref x,
                                                 cls_ref gamma, cls_ref beta, size_t param_stride, cls_ref y,
                                                 cls_ref mean, cls_ref rstd, size_t stat_stride) {
  CLS_CHECK_CTX(ctx);
  models_in mi = {models, param_stride, stat_stride};
  res_in r = {a, b, bias};
  return forward(ctx, "cls_residual_layernorm_forward_models", "residual_layernorm_fwd", 0, rows, cols, eps, x,
                 gamma, beta, y, mean, rstd, &r, &mi);
}

cls_status cls_layernorm_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref x,
                                         cls_ref gamma, size_t param_stride, cls_ref mean, cls_ref rstd,
                                         size_t stat_stride, cls_ref dy, cls_ref dx, cls_ref dgamma, cls_ref dbeta,
                                         int accumulate, int add) {
  static const char fn[] = "cls_layernorm_backward_models";
  CLS_CHECK_CTX(ctx);
  if (models < 1) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models; pass 1 to 4096", fn, models);
  if (add != 0 && add != 1)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: add is %d; pass 0 (dx =) or 1 (dx +=)", fn, add);
  models_in mi = {models, param_stride, stat_stride};
  return backward_call(ctx, fn, 0, add, &mi, rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, accumulate);
}
