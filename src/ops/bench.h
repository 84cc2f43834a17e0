/*
 * src/ops/bench.h — what the ops layer offers benchmarks (`clscale bench`):
 * timing one matmul backend and the row-wise ops on operands of their own.
 *
 * A layer header, not a public API: the commands in tools/ may include it
 * (they call no cls__ function). Each call allocates its operands, warms
 * up (the first call builds the kernels), times reps calls on the host
 * clock from the call to cls_finish, frees everything and returns the
 * median. The runs add to the context's counters like any use of the op.
 * On failure the message is in cls_last_error(ctx).
 */
#ifndef CLSCALE_OPS_BENCH_H
#define CLSCALE_OPS_BENCH_H

#include <stddef.h>

#include "clscale/ops.h"

/* Times backend on an m x n x k product (alpha 1, beta 0, minimal leading
 * dimensions) after one untimed warm-up call: reps calls, each waited for,
 * wall-clock; the median in *median_seconds. CLS_ERR_INVALID_SIZE when reps,
 * m, n or k is not positive. */
cls_status cls_matmul_time(cls_context *ctx, cls_backend backend, cls_trans ta, cls_trans tb, size_t m, size_t n,
                           size_t k, int reps, double *median_seconds);

/* The op names cls_rows_time accepts, NULL-terminated: "softmax_fwd",
 * "softmax_bwd", "layernorm_fwd", "layernorm_bwd", "rmsnorm_fwd",
 * "rmsnorm_bwd" (the counter names of the ops), plus "softmax_fwd_causal"
 * (needs rows a multiple of cols; counted under "softmax_fwd"). */
extern const char *const cls_rows_bench_ops[];

/* Times op on a rows x cols matrix of random data after two warm-up calls;
 * writes the median in *median_seconds and the global-memory bytes one call
 * moves (as the op counts them) in *bytes, so bytes / seconds is its
 * bandwidth. CLS_ERR_INVALID_VALUE for an unknown op, reps < 1 or a causal
 * shape with rows not a multiple of cols. */
cls_status cls_rows_time(cls_context *ctx, const char *op, size_t rows, size_t cols, int reps,
                         double *median_seconds, double *bytes);

/* Times `launches` launches of a kernel that does next to nothing (x *= 1
 * on `items` floats: cls_scale), back to back, after two warm-up calls: *host_seconds is the wall time per launch
 * from the first enqueue to cls_finish (what a chain of tiny kernels costs
 * the host), *device_seconds the device time per launch from profiling
 * events (-1 when the counters cannot tell). Their difference is the time
 * the device sits idle between launches. CLS_ERR_INVALID_SIZE when
 * launches or items is 0. */
cls_status cls_launch_time(cls_context *ctx, size_t items, int launches, double *host_seconds,
                           double *device_seconds);

#endif
