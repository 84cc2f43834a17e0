/*
 * src/ops/matmul_clblast.c — the clblast backend: CLBlastSgemm and
 * CLBlastSgemmStridedBatched in row-major layout.
 *
 * CLBlast computes beta*C even when beta is 0, so a NaN in C would survive
 * into the result; when beta is 0 we first zero C's m x n view with
 * mm_scale (cl/matmul.cl), which never reads C and leaves the gaps between
 * rows (ldc > n) alone.
 *
 * CLBlast hands back the event of the last kernel it launched; for large
 * or awkward shapes it runs helper kernels (padding, transposing) before
 * that. So a marker is enqueued first and "matmul.clblast" is counted as
 * the span from the marker to CLBlast's event: all of its kernels. The
 * zeroing kernel counts as "matmul.clblast_zero".
 */
/* ops/matmul.h first: device/layer.h fixes the OpenCL version before clblast_c.h pulls in CL/cl.h. */
#include "ops/matmul.h"

#include <clblast_c.h>

static CLBlastTranspose tr(cls_trans t) {
  return t == CLS_TRANS ? CLBlastTransposeYes : CLBlastTransposeNo;
}

static cls_status zero_c(cls_context *ctx, const cls__mm_args *g) {
  cl_kernel k;
  cls_status s = cls__kernel(ctx, "matmul", "mm_scale", &k);
  if (s == CLS_OK) s = cls__arg_mem(ctx, k, 0, g->c.buf);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, 1, g->c.offset);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, 2, g->ldc);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, 3, g->stride_c);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, 4, g->m);
  if (s == CLS_OK) s = cls__arg_uint(ctx, k, 5, g->n);
  if (s == CLS_OK) s = cls__arg_float(ctx, k, 6, 0.0f);
  if (s != CLS_OK) return s;
  size_t global[3] = {cls__round_up(g->n, 16), g->m, g->batch}, local[3] = {16, 1, 1};
  return cls__launch(ctx, "matmul.clblast_zero", k, 3, global, local, 0.0,
                     4.0 * (double)g->m * (double)g->n * (double)g->batch);
}

cls_status cls__mm_clblast(cls_context *ctx, const cls__mm_args *g) {
  /* Build the zeroing kernel before anything is enqueued, so that a build
   * failure leaves C untouched. */
  if (g->beta == 0.0f) {
    cl_kernel k;
    cls_status s = cls__kernel(ctx, "matmul", "mm_scale", &k);
    if (s != CLS_OK) return s;
    s = zero_c(ctx, g);
    if (s != CLS_OK) return s;
  }
  cl_command_queue q = cls__queue(ctx);
  cl_event ev = NULL, start = NULL;
  cls_status ms = cls__marker(ctx, &start);
  if (ms != CLS_OK) return ms;
  CLBlastStatusCode rc;
  const char *what;
  if (g->batch == 1) {
    what = "CLBlastSgemm";
    rc = CLBlastSgemm(CLBlastLayoutRowMajor, tr(g->ta), tr(g->tb), g->m, g->n, g->k, g->alpha, g->a.buf->mem,
                      g->a.offset, g->lda, g->b.buf->mem, g->b.offset, g->ldb, g->beta, g->c.buf->mem, g->c.offset,
                      g->ldc, &q, &ev);
  } else {
    what = "CLBlastSgemmStridedBatched";
    rc = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, tr(g->ta), tr(g->tb), g->m, g->n, g->k, g->alpha,
                                    g->a.buf->mem, g->a.offset, g->lda, g->stride_a, g->b.buf->mem, g->b.offset,
                                    g->ldb, g->stride_b, g->beta, g->c.buf->mem, g->c.offset, g->ldc, g->stride_c,
                                    g->batch, &q, &ev);
  }
  if (rc != CLBlastSuccess) {
    if (ev) clReleaseEvent(ev);
    clReleaseEvent(start);
    return cls__fail(ctx, CLS_ERR_CLBLAST,
                     "cls_matmul (clblast): %s failed with CLBlast status %d on %zu x %zu x %zu (batch %zu); try "
                     "the own backend",
                     what, (int)rc, g->m, g->n, g->k, g->batch);
  }
  return cls__record_span(ctx, "matmul.clblast", start, ev, cls__mm_flops(g), cls__mm_bytes(g));
}
