/* src/ops/rows_bench.c — timing the row-wise ops; see bench.h. */
#include "ops/bench.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "core/clock.h"

const char *const cls_rows_bench_ops[] = {"softmax_fwd",   "softmax_fwd_causal", "softmax_bwd", "layernorm_fwd",
                                          "layernorm_bwd", "rmsnorm_fwd",        "rmsnorm_bwd", NULL};

enum { X, Y, DY, DX, GAMMA, BETA, MEAN, RSTD, DGAMMA, DBETA, NBUF };

struct operands {
  cls_buffer *b[NBUF];
};

static cls_ref at(struct operands *o, int i) {
  return cls_ref_at(o->b[i], 0);
}

/* One call of the op on the operands. */
static cls_status run(cls_context *ctx, int which, size_t rows, size_t cols, struct operands *o) {
  switch (which) {
  case 0:
    return cls_softmax_forward(ctx, rows, cols, 0.125f, 0, at(o, X), at(o, Y));
  case 1:
    return cls_softmax_forward(ctx, rows, cols, 0.125f, 1, at(o, X), at(o, Y));
  case 2:
    return cls_softmax_backward(ctx, rows, cols, 0.125f, at(o, Y), at(o, DY), at(o, DX));
  case 3:
    return cls_layernorm_forward(ctx, rows, cols, 1e-5f, at(o, X), at(o, GAMMA), at(o, BETA), at(o, Y),
                                 at(o, MEAN), at(o, RSTD));
  case 4:
    return cls_layernorm_backward(ctx, rows, cols, at(o, X), at(o, GAMMA), at(o, MEAN), at(o, RSTD), at(o, DY),
                                  at(o, DX), at(o, DGAMMA), at(o, DBETA), 0);
  case 5:
    return cls_rmsnorm_forward(ctx, rows, cols, 1e-5f, at(o, X), at(o, GAMMA), at(o, Y), at(o, RSTD));
  default:
    return cls_rmsnorm_backward(ctx, rows, cols, at(o, X), at(o, GAMMA), at(o, RSTD), at(o, DY), at(o, DX),
                                at(o, DGAMMA), 0);
  }
}

/* Bytes recorded under name since `before`. */
static double bytes_since(const cls_counters *before, const cls_counters *after, const char *name) {
  double b0 = 0, b1 = 0;
  for (size_t i = 0; i < before->op_count; i++)
    if (!strcmp(before->ops[i].name, name)) b0 = before->ops[i].bytes;
  for (size_t i = 0; i < after->op_count; i++)
    if (!strcmp(after->ops[i].name, name)) b1 = after->ops[i].bytes;
  return b1 - b0;
}

cls_status cls_rows_time(cls_context *ctx, const char *op, size_t rows, size_t cols, int reps,
                         double *median_seconds, double *bytes) {
  static const char fn[] = "cls_rows_time";
  CLS_CHECK_CTX(ctx);
  if (!op || !median_seconds || !bytes) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: NULL argument", fn);
  int which = -1;
  for (int i = 0; cls_rows_bench_ops[i]; i++)
    if (!strcmp(op, cls_rows_bench_ops[i])) which = i;
  if (which < 0) return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: unknown op '%s'", fn, op);
  if (reps < 1) return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: reps is %d; pass at least 1", fn, reps);
  if (rows == 0 || cols == 0 || rows > SIZE_MAX / cols)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: bad shape %zu x %zu", fn, rows, cols);
  if (which == 1 && rows % cols)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: causal softmax needs rows a multiple of cols", fn);
  const char *counter = which == 1 ? "softmax_fwd" : op;

  size_t n = rows * cols;
  size_t count[NBUF] = {n, n, n, n, cols, cols, rows, rows, cols, cols};
  struct operands o;
  memset(&o, 0, sizeof o);
  double *times = malloc((size_t)reps * sizeof *times);
  float *host = malloc(n * sizeof *host);
  cls_status s = CLS_OK;
  if (!times || !host) {
    s = cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    goto done;
  }
  /* Random values in [-2, 2) (a small LCG is enough for timing); gamma,
   * beta and the statistics get the same values, which is harmless. */
  uint32_t st = 12345;
  for (size_t i = 0; i < n; i++) {
    st = st * 1664525u + 1013904223u;
    host[i] = (float)(st >> 8) * (4.0f / 16777216.0f) - 2.0f;
  }
  for (int i = 0; i < NBUF && s == CLS_OK; i++) {
    s = cls_buffer_alloc(ctx, count[i], &o.b[i]);
    if (s == CLS_OK) s = cls_buffer_write(ctx, o.b[i], 0, count[i], host);
  }
  if (s != CLS_OK) goto done;
  /* rstd must be positive for the norms' backward passes to be typical. */
  if ((s = cls_buffer_fill(ctx, o.b[RSTD], 0, rows, 1.0f)) != CLS_OK) goto done;
  if (which == 2 && (s = run(ctx, 0, rows, cols, &o)) != CLS_OK) goto done; /* y: real probabilities */

  for (int w = 0; w < 2 && s == CLS_OK; w++) s = run(ctx, which, rows, cols, &o);
  cls_counters before, after;
  if (s == CLS_OK) s = cls_counters_get(ctx, &before);
  for (int r = 0; r < reps && s == CLS_OK; r++) {
    double t0 = cls_now();
    s = run(ctx, which, rows, cols, &o);
    if (s == CLS_OK) s = cls_finish(ctx);
    times[r] = cls_now() - t0;
  }
  if (s == CLS_OK) s = cls_counters_get(ctx, &after);
  if (s != CLS_OK) goto done;
  *median_seconds = cls_median(times, (size_t)reps);
  *bytes = bytes_since(&before, &after, counter) / reps;
done:
  for (int i = 0; i < NBUF; i++) cls_buffer_free(o.b[i]);
  free(times);
  free(host);
  return s;
}
