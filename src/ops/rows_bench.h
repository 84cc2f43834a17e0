/*
 * src/ops/rows_bench.h — timing the row-wise ops (softmax, LayerNorm,
 * RMSNorm) for `clscale bench`.
 */
#ifndef CLSCALE_OPS_ROWS_BENCH_H
#define CLSCALE_OPS_ROWS_BENCH_H

#include <stddef.h>

#include "clscale/device.h"

/* The op names cls__rows_time accepts, NULL-terminated: "softmax_fwd",
 * "softmax_bwd", "layernorm_fwd", "layernorm_bwd", "rmsnorm_fwd",
 * "rmsnorm_bwd" (the counter names of the ops), plus "softmax_fwd_causal"
 * (needs rows a multiple of cols; counted under "softmax_fwd"). */
extern const char *const cls__rows_bench_ops[];

/* Times op on a rows x cols matrix of random data: allocates its operands,
 * runs it twice to warm up (the first call builds the kernel), then reps
 * times, each timed on the host clock from the call to cls_finish; writes
 * the median in *median_seconds and the global-memory bytes one call moves
 * (as the op counts them) in *bytes, so bytes / seconds is its bandwidth.
 * Frees everything before returning. Adds to the context's counters like
 * any use of the op. CLS_ERR_INVALID_VALUE for an unknown op, reps < 1 or
 * a causal shape with rows not a multiple of cols. */
cls_status cls__rows_time(cls_context *ctx, const char *op, size_t rows, size_t cols, int reps,
                          double *median_seconds, double *bytes);

#endif
