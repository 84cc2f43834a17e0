/* src/ops/matmul_bench.c — timing one backend for benchmarks; see bench.h. */
#include <stdlib.h>

#include "ops/bench.h"
#include "device/layer.h"
#include "core/clock.h"

cls_status cls_matmul_time(cls_context *ctx, cls_backend backend, cls_trans ta, cls_trans tb, size_t m, size_t n,
                           size_t k, int reps, double *median_seconds) {
  CLS_CHECK_CTX(ctx);
  if (!median_seconds) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_matmul_time: median_seconds is NULL");
  if (reps < 1 || m == 0 || n == 0 || k == 0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_matmul_time: reps=%d m=%zu n=%zu k=%zu must be positive",
                     reps, m, n, k);
  *median_seconds = 0;
  cls_buffer *a = NULL, *b = NULL, *c = NULL;
  double *t = malloc((size_t)reps * sizeof *t);
  cls_status s = t ? CLS_OK : cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_matmul_time: out of host memory");
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, m * k, &a);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, k * n, &b);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, m * n, &c);
  /* Small values: no overflow, no denormals. */
  if (s == CLS_OK) s = cls_buffer_fill(ctx, a, 0, m * k, 0.01f);
  if (s == CLS_OK) s = cls_buffer_fill(ctx, b, 0, k * n, 0.02f);
  size_t lda = ta == CLS_TRANS ? m : k, ldb = tb == CLS_TRANS ? k : n;
  for (int r = -1; r < reps && s == CLS_OK; r++) {
    double t0 = cls_now();
    s = cls_matmul_batched_on(ctx, backend, ta, tb, m, n, k, 1.0f, cls_ref_at(a, 0), lda, 0, cls_ref_at(b, 0), ldb,
                              0, 0.0f, cls_ref_at(c, 0), n, 0, 1);
    if (s == CLS_OK) s = cls_finish(ctx);
    if (r >= 0) t[r] = cls_now() - t0; /* r = -1 is the warm-up */
  }
  if (s == CLS_OK) {
    *median_seconds = cls_median(t, (size_t)reps);
  }
  free(t);
  cls_buffer_free(a);
  cls_buffer_free(b);
  cls_buffer_free(c);
  return s;
}
